"""The `uploader` console script: global options, then one subcommand.

Each subcommand lives in its own module under `uploader.commands` and exposes
`add_parser(subparsers)`, which registers its parser with `handler=run`, where
`run(args) -> int` returns the exit code: 0 success, 1 finished with rejected records,
2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from uploader import __version__
from uploader.errors import ConfigError, QueueError

# Order is the order of `--help`.
COMMAND_MODULES = (
    "uploader.commands.demo",
    "uploader.commands.run",
    "uploader.commands.simulate",
    "uploader.commands.register_grouped",
    "uploader.commands.brands",
    "uploader.commands.devices",
    "uploader.commands.config_cmd",
    "uploader.commands.enqueue",
    "uploader.commands.status",
    "uploader.commands.dead_letter",
    "uploader.commands.earliest_claim_date",
)

EPILOG = """\
exit codes: 0 success; 1 the work finished but some records were rejected (see
`uploader dead-letter list`); 2 bad usage or configuration (the message names the key).

configuration: --config PATH, else $UPLOADER_CONFIG, else ./uploader.toml. Every key can be
overridden by an environment variable: UPLOADER_ + the dotted path in upper case with __
for the dot (UPLOADER_REGISTRY__BASE_URL, UPLOADER_LIMITS__ACCOUNT, UPLOADER_QUEUE).
"""


def build_parser() -> argparse.ArgumentParser:
    """The whole command line, every subcommand included."""
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
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
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
