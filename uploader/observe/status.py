"""The status document: what the queue holds, per account and in total.

`uploader status --json` prints it and `GET /v1/status` serves it, in a stable shape:

    {"accounts": {"<id>": COUNTS, ...}, "total": COUNTS, "unattributed_dead": N,
     "generated_at": SECONDS, "deadline_horizon_days": 30}
    COUNTS = {"pending": N, "leased": N, "sent": N, "dead": N,
              "flagged": {"before_claimable": N, "accumulated_falls": N},
              "oldest_pending_at": SECONDS | null, "oldest_pending_age_s": SECONDS | null,
              "delayed": N, "next_due_at": SECONDS | null,
              "deadline": {"closing": N, "closed": N, "soonest": "YYYY-MM-DD" | null}}

Every configured account is listed, with zeros when it has nothing; `sent` counts deliveries.
`pending` records are claimable now; `delayed` ones wait out a retry delay (a Retry-After or a
backoff) until `next_due_at` for the first of them. The oldest waiting record, pending or
delayed, gives `oldest_pending_at`.
`deadline` is about pending records and their residual-mix claim deadline (the last request
date that can still claim them, on the registry's calendar): how many close within the
horizon (today included), how many have closed, and the soonest deadline still open.
`leased` counts records claimed by a live runner; those a killed runner of an SQLite queue (or a
dead replica of a Redis one) had claimed count as `pending` (the next `run`, or the replica that
takes the account over, returns them at once), and their age counts.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping

import msgspec

from uploader.config import Settings
from uploader.queue import AccountCounts, DeadlineCounts, FlagCounts, Queue, QueueCounts
from uploader.residual_mix import registry_today

__all__ = [
    "DEADLINE_HORIZON_DAYS",
    "StatusCounts",
    "StatusDocument",
    "build_status",
    "read_status",
    "render",
    "status_document",
]

DEADLINE_HORIZON_DAYS = 30  # records whose claim window closes this soon are called out


class StatusCounts(msgspec.Struct):
    """One account's counts (or the total) as `status --json` shows them."""

    pending: int
    leased: int
    sent: int
    dead: int
    flagged: FlagCounts
    oldest_pending_at: float | None
    oldest_pending_age_s: float | None
    delayed: int = 0
    next_due_at: float | None = None
    deadline: DeadlineCounts = msgspec.field(default_factory=DeadlineCounts)


class StatusDocument(msgspec.Struct):
    """The whole `status --json` document."""

    accounts: dict[str, StatusCounts]
    total: StatusCounts
    unattributed_dead: int
    generated_at: float
    deadline_horizon_days: int = DEADLINE_HORIZON_DAYS


async def read_status(queue: Queue, configured: frozenset[str], now: float) -> StatusDocument:
    """The document of an open queue: its counts and its pending records' deadlines."""
    counts = await queue.counts()
    deadlines = await queue.deadlines(registry_today(now), DEADLINE_HORIZON_DAYS)
    return status_document(counts, configured, now, deadlines)


async def build_status(queue: Queue, settings: Settings) -> bytes:
    """The `status --json` document of an open queue, encoded (for `GET /v1/status`)."""
    return msgspec.json.encode(await read_status(queue, settings.account_ids, time.time()))


def status_document(
    counts: QueueCounts,
    configured: frozenset[str],
    now: float,
    deadlines: Mapping[str, DeadlineCounts] | None = None,
) -> StatusDocument:
    """Counts of every configured account and of every account the queue knows."""
    names = sorted(configured | counts.accounts.keys())
    deadlines = deadlines or {}
    accounts = {
        name: _status(counts.accounts.get(name) or AccountCounts(), now, deadlines.get(name))
        for name in names
    }
    total = _status(counts.total, now, _total(deadlines.values()))
    return StatusDocument(accounts, total, counts.unattributed_dead, now)


def _total(deadlines: Iterable[DeadlineCounts]) -> DeadlineCounts:
    total = DeadlineCounts()
    for one in deadlines:
        total.closing += one.closing
        total.closed += one.closed
        if one.soonest is not None and (total.soonest is None or one.soonest < total.soonest):
            total.soonest = one.soonest
    return total


def _status(counts: AccountCounts, now: float, deadline: DeadlineCounts | None) -> StatusCounts:
    oldest = counts.oldest_pending_at
    return StatusCounts(
        pending=counts.pending,
        leased=counts.leased,
        sent=counts.sent,
        dead=counts.dead,
        flagged=counts.flagged,
        oldest_pending_at=oldest,
        oldest_pending_age_s=None if oldest is None else round(max(0.0, now - oldest), 3),
        delayed=counts.delayed,
        next_due_at=counts.next_due_at,
        deadline=deadline or DeadlineCounts(),
    )


HEADERS: tuple[str, ...] = (
    "ACCOUNT", "PENDING", "LEASED", "SENT", "DEAD", "DELAYED", "BEFORE-CLAIMABLE", "FALLING",
    "OLDEST", "NEXT-DUE",
)  # fmt: skip


def render(document: StatusDocument) -> str:
    """The counts as an aligned table, the total last."""
    now = document.generated_at
    rows = [HEADERS]
    rows += [_row(name, counts, now) for name, counts in document.accounts.items()]
    rows.append(_row("total", document.total, now))
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]
    lines = ["  ".join(_cells(row, widths)) for row in rows]
    if document.unattributed_dead:
        lines.append(f"({document.unattributed_dead:,} dead letters have no account)")
    lines += [
        _deadline_line(name, counts.deadline, document.deadline_horizon_days)
        for name, counts in document.accounts.items()
        if counts.deadline.closing or counts.deadline.closed
    ]
    return "\n".join(line.rstrip() for line in lines)


def _deadline_line(name: str, deadline: DeadlineCounts, horizon: int) -> str:
    parts = []
    if deadline.closing:
        parts.append(f"{deadline.closing:,} pending record(s) reach their claim deadline within "
                     f"{horizon} days (soonest {deadline.soonest})")  # fmt: skip
    if deadline.closed:
        parts.append(f"{deadline.closed:,} are past it and can no longer be issued")
    return f"{name}: {'; '.join(parts)}"


def _cells(row: tuple[str, ...], widths: list[int]) -> list[str]:
    name, *numbers = row
    return [name.ljust(widths[0])] + [v.rjust(w) for v, w in zip(numbers, widths[1:], strict=True)]


def _row(name: str, counts: StatusCounts, now: float) -> tuple[str, ...]:
    due = counts.next_due_at
    return (
        name,
        f"{counts.pending:,}",
        f"{counts.leased:,}",
        f"{counts.sent:,}",
        f"{counts.dead:,}",
        f"{counts.delayed:,}",
        f"{counts.flagged.before_claimable:,}",
        f"{counts.flagged.accumulated_falls:,}",
        age(counts.oldest_pending_age_s),
        "-" if due is None else f"in {age(max(0.0, due - now))}",
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
