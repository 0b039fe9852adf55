"""`uploader reconcile`: read back what the registry holds and send again what it lacks.

Reads the account's days from the registry (Query Generation Data, a calendar month a call,
page by page, through the account's and the IP's limiters) and compares them with
what the queue delivered: a record the registry lacks, or holds with another value, is
queued again (the next `uploader run` delivers it); a day the registry holds that the queue
never had is reported and left alone. Records still pending, leased or dead are not
compared; delivered records whose processing the registry has not reported final yet are
counted as awaiting processing, not as missing.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import msgspec

from uploader import commands
from uploader.commands import Subparsers
from uploader.config import Settings
from uploader.errors import RegistryError
from uploader.push.endpoints import ENDPOINTS
from uploader.push.reconcile import Summary, reads_for, reconcile
from uploader.queue import open_queue
from uploader.registry.client import RegistryClient

EPILOG = """\
output: one line, "ACCOUNT FROM..TO: N checked, N matching, N missing, N different, N unknown
to us, N re-queued", then up to 10 days unknown to us; with --json one object with the keys
account, from, to, inverter, checked, matching, missing, different, unknown_to_us,
requeued, processing, requests, unknown_examples.
exit codes: 0 finished (whatever it found); 1 the registry refused or did not answer the
reads; 2 bad usage or configuration.
"""


def add_parser(subparsers: Subparsers) -> None:
    """Register the command."""
    parser = subparsers.add_parser(
        "reconcile",
        help="compare what the registry holds with what was delivered; re-queue the gaps",
        description=__doc__,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--account", metavar="ID", required=True, help="the business account")
    parser.add_argument("--from", dest="first", metavar="YYYY-MM-DD", required=True,
                        type=commands.day, help="the first generation day to compare")  # fmt: skip
    parser.add_argument("--to", dest="last", metavar="YYYY-MM-DD", required=True,
                        type=commands.day, help="the last generation day to compare")  # fmt: skip
    parser.add_argument("--inverter", metavar="ID", help="only this RemoteInvId")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Reconcile and print the summary."""
    if args.last < args.first:
        return _usage(f"--to {args.last} is before --from {args.first}")
    settings = commands.settings(args)
    settings.account(args.account)  # ConfigError naming the configured accounts
    if not ENDPOINTS[settings.registry.endpoint].daily:
        return _usage("reconcile compares daily records; registry.endpoint sends months")
    try:
        summary = asyncio.run(_reconcile(settings, args))
    except RegistryError as exc:
        print(f"uploader: reconcile did not finish: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(msgspec.json.encode(summary).decode())
        return 0
    print(summary.line())
    for example in summary.unknown_examples:
        print(f"  unknown to us: {example}")
    if summary.unknown_to_us > len(summary.unknown_examples):
        print(f"  ... and {summary.unknown_to_us - len(summary.unknown_examples)} more")
    return 0


async def _reconcile(settings: Settings, args: argparse.Namespace) -> Summary:
    async with (
        open_queue(settings.queue) as queue,
        RegistryClient.from_settings(settings) as client,
    ):
        reads = reads_for(settings, client, args.account)
        return await reconcile(queue, reads, args.account, args.first, args.last, args.inverter)


def _usage(message: str) -> int:
    print(f"uploader reconcile: error: {message}", file=sys.stderr)
    return 2
