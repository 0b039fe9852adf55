"""What the queue contract's tests share: a hand-moved clock, records, claims."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
from decimal import Decimal

from uploader.queue import Claim, LedgerEntry, Queue, QueuedRecord
from uploader.records import Record

START = 1_750_000_000.0  # the fake clock's first reading, wall-clock seconds
LEASE_S = 60.0


class FakeClock:
    """Wall-clock seconds that move only when a test says so (no sleeping for leases)."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Let `seconds` pass."""
        self.now += seconds


def rec(
    inv: str = "INV1",
    day: str = "2024-05-01",
    period: str = "1.5",
    acc: str = "100",
    account: str = "acme",
    flags: int = 0,
) -> Record:
    """A record; the source names the inverter and day, so tests can recognise it."""
    return Record(
        account=account,
        remote_inv_id=inv,
        day=dt.date.fromisoformat(day),
        period_kwh=Decimal(period),
        accumulated_kwh=Decimal(acc),
        flags=flags,
        source=f"{inv}.csv:{day}",
    )


def entry(batch_id: str, claim: Claim, process_id: int | None = None) -> LedgerEntry:
    """The ledger entry of a delivered claim."""
    n = len(claim.records)
    return LedgerEntry(batch_id, claim.account, n, START, 200, process_id, "batch")


def keys(records: list[QueuedRecord]) -> list[tuple[str, str]]:
    """(inverter, day) of each record, in order."""
    return [(r.remote_inv_id, r.day) for r in records]


async def claim(queue: Queue, account: str = "acme", limit: int = 3000, **kw: bool) -> Claim:
    """A claim that must exist."""
    found = await queue.claim(account, limit, LEASE_S, **kw)
    assert found is not None
    return found


async def until(condition: Callable[[], bool], within_s: float) -> float:
    """Wait until `condition` holds; how long it took (fails after `within_s`)."""
    started = time.monotonic()
    while True:
        took = time.monotonic() - started
        if condition():
            return took
        assert took < within_s, f"not within {within_s} s"
        await asyncio.sleep(0.01)
