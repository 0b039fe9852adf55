"""The status document: what the queue holds, per account and in total.

`uploader status --json` prints it and `GET /v1/status` serves it, in a stable shape:

    {"accounts": {"<id>": COUNTS, ...}, "total": COUNTS, "unattributed_dead": N,
     "generated_at": SECONDS}
    COUNTS = {"pending": N, "leased": N, "sent": N, "dead": N,
              "flagged": {"before_claimable": N, "accumulated_falls": N},
              "oldest_pending_at": SECONDS | null, "oldest_pending_age_s": SECONDS | null}

Every configured account is listed, with zeros when it has nothing; `sent` counts deliveries.
`leased` counts records claimed by a live runner; those a killed runner of an SQLite queue had
claimed count as `pending` (the next `run` returns them at once), and their age counts.
"""

from __future__ import annotations

import time

import msgspec

from uploader.config import Settings
from uploader.queue import AccountCounts, FlagCounts, Queue, QueueCounts

__all__ = ["StatusCounts", "StatusDocument", "build_status", "render", "status_document"]


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
