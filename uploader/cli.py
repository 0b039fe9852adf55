"""The `uploader` console script: global options, then one subcommand.

Each subcommand lives in its own module under `uploader.commands` and exposes
`add_parser(subparsers)`, which registers its parser with `handler=run`, where
`run(args) -> int` returns the exit code: 0 success, 1 finished with rejected records,
2 bad usage or configuration, 3 (`run`) the queue's storage lost its data while it ran.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from uploader import __version__
from uploader.errors import ConfigError, QueueError

# Command name -> its module, in the order of `--help`. Only the module of the command being
# run is imported (most import aiohttp), so a CLI call pays for what it uses.
COMMANDS = {
    "demo": "uploader.commands.demo",
    "run": "uploader.commands.run",
    "simulate": "uploader.commands.simulate",
    "register-grouped": "uploader.commands.register_grouped",
    "brands": "uploader.commands.brands",
    "devices": "uploader.commands.devices",
    "request-issuance": "uploader.commands.request_issuance",
    "applications": "uploader.commands.applications",
    "config": "uploader.commands.config_cmd",
    "enqueue": "uploader.commands.enqueue",
    "status": "uploader.commands.status",
    "dead-letter": "uploader.commands.dead_letter",
    "reconcile": "uploader.commands.reconcile",
    "earliest-claim-date": "uploader.commands.earliest_claim_date",
    "deadline": "uploader.commands.deadline",
}

EPILOG = """\
exit codes: 0 success; 1 the work finished but some records were rejected (see
`uploader dead-letter list`); 2 bad usage or configuration (the message names the key); 3
(`run`) the queue's storage lost its data while it ran (a Redis restarted empty).

configuration: --config PATH, else $UPLOADER_CONFIG, else ./uploader.toml. Every key can be
overridden by an environment variable: UPLOADER_ + the dotted path in upper case with __
for the dot (UPLOADER_REGISTRY__BASE_URL, UPLOADER_LIMITS__ACCOUNT, UPLOADER_QUEUE).
"""


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line: every subcommand, or only the one named `only`."""
    parser = argparse.ArgumentParser(
        prog="uploader",
        description="Push solar inverters' daily generation into the REDEX I-REC registry.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="configuration file (env UPLOADER_CONFIG; default ./uploader.toml)",
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name, module in COMMANDS.items():
        if only is None or name == only:
            importlib.import_module(module).add_parser(subparsers)
    return parser


def command_in(argv: Sequence[str]) -> str | None:
    """The subcommand an argument list names, if it names a known one."""
    words = iter(argv)
    for word in words:
        if word == "--config":
            next(words, None)
        elif not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(command_in(argv))
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        code: int = handler(args)
    except (ConfigError, QueueError) as exc:  # a queue that cannot be opened is configuration
        print(f"uploader: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
