"""`uploader status [--json]`: what the queue holds, per account and in total.

The JSON document has a stable shape (also served at `GET /v1/status`):

    {"accounts": {"<id>": COUNTS, ...}, "total": COUNTS, "unattributed_dead": N,
     "generated_at": SECONDS}
    COUNTS = {"pending": N, "leased": N, "sent": N, "dead": N,
              "flagged": {"before_claimable": N, "accumulated_falls": N},
              "oldest_pending_at": SECONDS | null, "oldest_pending_age_s": SECONDS | null}

Every configured account is listed, with zeros when it has nothing; `sent` counts deliveries.
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
from uploader.queue import (
    AccountCounts,
    FlagCounts,
    Queue,
    QueueCounts,
    open_queue,
    sqlite_path,
)

__all__ = ["StatusCounts", "StatusDocument", "build_status", "status_document"]


class StatusCounts(msgspec.Struct):
    """One account's counts (or the total) as `status --json` shows them."""

    pending: int
    leased: int
    sent: int
    dead: int
    flagged: FlagCounts
    oldest_pending_at: float | None
    oldest_pending_age_s: float | None


class StatusDocument(msgspec.Struct):
    """The whole `status --json` document."""

    accounts: dict[str, StatusCounts]
    total: StatusCounts
    unattributed_dead: int
    generated_at: float


def add_parser(subparsers: Subparsers) -> None:
    """Register the command."""
    parser = subparsers.add_parser(
        "status",
        help="queue counts per account: pending, leased, sent, dead, flagged, oldest pending",
        description="Show what the queue holds per account and in total.",
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
        return status_document(await queue.counts(), settings.account_ids, time.time())


def _missing_queue_file(url: str) -> Path | None:
    if not url.startswith("sqlite:"):
        return None
    path = Path(sqlite_path(url))
    return None if path.exists() else path


async def build_status(queue: Queue, settings: Settings) -> bytes:
    """The `status --json` document of an open queue, encoded (for `GET /v1/status`)."""
    counts = await queue.counts()
    return msgspec.json.encode(status_document(counts, settings.account_ids, time.time()))


def status_document(counts: QueueCounts, configured: frozenset[str], now: float) -> StatusDocument:
    """Counts of every configured account and of every account the queue knows."""
    names = sorted(configured | counts.accounts.keys())
    accounts = {name: _status(counts.accounts.get(name) or AccountCounts(), now) for name in names}
    return StatusDocument(accounts, _status(counts.total, now), counts.unattributed_dead, now)


def _status(counts: AccountCounts, now: float) -> StatusCounts:
    oldest = counts.oldest_pending_at
    return StatusCounts(
        pending=counts.pending,
        leased=counts.leased,
        sent=counts.sent,
        dead=counts.dead,
        flagged=counts.flagged,
        oldest_pending_at=oldest,
        oldest_pending_age_s=None if oldest is None else round(max(0.0, now - oldest), 3),
    )


HEADERS: tuple[str, ...] = (
    "ACCOUNT", "PENDING", "LEASED", "SENT", "DEAD", "BEFORE-CLAIMABLE", "FALLING", "OLDEST",
)  # fmt: skip


def render(document: StatusDocument) -> str:
    """The counts as an aligned table, the total last."""
    rows = [HEADERS]
    rows += [_row(name, counts) for name, counts in document.accounts.items()]
    rows.append(_row("total", document.total))
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]
    lines = ["  ".join(_cells(row, widths)) for row in rows]
    if document.unattributed_dead:
        lines.append(f"({document.unattributed_dead:,} dead letters have no account)")
    return "\n".join(line.rstrip() for line in lines)


def _cells(row: tuple[str, ...], widths: list[int]) -> list[str]:
    name, *numbers = row
    return [name.ljust(widths[0])] + [v.rjust(w) for v, w in zip(numbers, widths[1:], strict=True)]


def _row(name: str, counts: StatusCounts) -> tuple[str, ...]:
    return (
        name,
        f"{counts.pending:,}",
        f"{counts.leased:,}",
        f"{counts.sent:,}",
        f"{counts.dead:,}",
        f"{counts.flagged.before_claimable:,}",
        f"{counts.flagged.accumulated_falls:,}",
        age(counts.oldest_pending_age_s),
    )


def age(seconds: float | None) -> str:
    """A duration such as `3d 4h`, `2h 5m`, `4m 10s` or `12s`; `-` for none."""
    if seconds is None:
        return "-"
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s" if minutes else f"{secs}s"
