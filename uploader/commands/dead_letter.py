"""`uploader dead-letter list|replay|purge`: the records and rows that were refused.

`list` shows each dead letter with its source (file and line, or ingest request), reason
and time; `replay` queues the refused records again (after the registry's problem was
fixed); raw rows refused at ingest cannot be replayed: fix the file and enqueue it again.
`purge` forgets dead letters, all of them or those older than a date.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from collections.abc import AsyncIterator

import msgspec

from uploader import commands
from uploader.commands import Subparsers
from uploader.config import Settings
from uploader.queue import DeadLetter, Queue, open_queue

PAGE = 1000  # dead letters read per query while listing


def add_parser(subparsers: Subparsers) -> None:
    """Register the command and its three actions."""
    parser = subparsers.add_parser(
        "dead-letter",
        help="list, replay or purge the records and rows that were refused",
        description=__doc__.split("\n\n", 1)[1],
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="show the dead letters, oldest first")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.add_argument("--account", metavar="ID", help="only this account's")
    listing.set_defaults(handler=run_list)
    replay = actions.add_parser("replay", help="queue the refused records again")
    replay.add_argument("--account", metavar="ID", help="only this account's")
    replay.set_defaults(handler=run_replay)
    purge = actions.add_parser("purge", help="forget dead letters")
    purge.add_argument(
        "--before", metavar="YYYY-MM-DD", help="only those recorded before this (local) day"
    )
    purge.set_defaults(handler=run_purge)


def run_list(args: argparse.Namespace) -> int:
    """Print every dead letter (paged through the queue, so memory stays flat)."""
    settings = commands.settings(args)
    asyncio.run(_list(settings, args.account, args.json))
    return 0


def run_replay(args: argparse.Namespace) -> int:
    """Queue the refused records again."""
    settings = commands.settings(args)
    replayed, raw = asyncio.run(_replay(settings, args.account))
    print(f"replayed {replayed:,} records")
    if raw:
        print(
            f"{raw:,} rows refused at ingest cannot be replayed: fix them in their files "
            "and enqueue again (uploader dead-letter list shows them)"
        )
    return 0


def run_purge(args: argparse.Namespace) -> int:
    """Forget dead letters; exit 2 when --before is not a date written YYYY-MM-DD."""
    settings = commands.settings(args)
    before = None
    if args.before is not None:
        day = commands.day_option("--before", args.before)
        before = dt.datetime.combine(day, dt.time()).timestamp()  # local midnight
    purged = asyncio.run(_purge(settings, before))
    print(f"purged {purged:,} dead letters")
    return 0


async def dead_letters(queue: Queue, account: str | None) -> AsyncIterator[DeadLetter]:
    """Every dead letter in id order, a page at a time."""
    after = 0
    while page := await queue.list_dead(account=account, limit=PAGE, after_id=after):
        for dead in page:
            yield dead
        after = page[-1].id


async def _list(settings: Settings, account: str | None, as_json: bool) -> None:
    encoder = msgspec.json.Encoder()
    async with open_queue(settings.queue) as queue:
        if as_json:
            sys.stdout.write("[")
        first = True
        async for dead in dead_letters(queue, account):
            if as_json:
                sys.stdout.write(("\n" if first else ",\n") + encoder.encode(dead).decode())
            else:
                print(describe(dead))
            first = False
        if as_json:
            sys.stdout.write("\n]\n")


def describe(dead: DeadLetter) -> str:
    """One line: id, time, account, source, reason, and the record or raw row."""
    at = dt.datetime.fromtimestamp(dead.at).isoformat(sep=" ", timespec="seconds")
    if dead.raw is not None:
        what = f"row: {dead.raw}"
    else:
        values = f"{dead.period_kwh} kWh, accumulated {dead.accumulated_kwh} kWh"
        what = f"record: {dead.remote_inv_id} {dead.day} {values}"
    where = dead.source or "-"
    return f"#{dead.id} {at} {dead.account or '-'} {where}: {dead.reason} | {what}"


async def _replay(settings: Settings, account: str | None) -> tuple[int, int]:
    async with open_queue(settings.queue) as queue:
        replayed = await queue.replay_dead(account=account)
        raw = sum([1 async for dead in dead_letters(queue, account) if not dead.replayable])
    return replayed, raw


async def _purge(settings: Settings, before: float | None) -> int:
    async with open_queue(settings.queue) as queue:
        return await queue.purge_dead(before=before)
