"""`uploader status [--json]`: what the queue holds, per account and in total.

The document and its table are `uploader.observe.status`'s (also served at `GET /v1/status`).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import msgspec

from uploader import commands
from uploader.commands import Subparsers
from uploader.config import Settings
from uploader.observe.status import StatusDocument, read_status, render, status_document
from uploader.queue import QueueCounts, open_queue, sqlite_path


def add_parser(subparsers: Subparsers) -> None:
    """Register the command."""
    parser = subparsers.add_parser(
        "status",
        help="queue counts per account: pending, leased, sent, dead, flagged, oldest pending",
        description="Show what the queue holds per account and in total, and the pending "
        "records whose residual-mix claim deadline is within 30 days or past.",
    )
    parser.add_argument("--json", action="store_true", help="print the JSON document")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the counts."""
    settings = commands.settings(args)
    document = asyncio.run(_document(settings))
    if args.json:
        print(msgspec.json.encode(document).decode())
    else:
        print(render(document))
    return 0


async def _document(settings: Settings) -> StatusDocument:
    missing = _missing_queue_file(settings.queue)
    if missing is not None:
        # Looking must not create the file: report the empty queue it would be.
        print(f"no queue file at {missing} yet: nothing was enqueued", file=sys.stderr)
        return status_document(QueueCounts.build({}, 0), settings.account_ids, time.time())
    async with open_queue(settings.queue) as queue:
        return await read_status(queue, settings.account_ids, time.time())


def _missing_queue_file(url: str) -> Path | None:
    if not url.startswith("sqlite:"):
        return None
    path = Path(sqlite_path(url))
    return None if path.exists() else path
