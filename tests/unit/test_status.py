"""The status document's deadline part: pending records near or past their claim deadline."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import msgspec

from uploader.observe.status import read_status, render
from uploader.queue import DeadlineCounts
from uploader.records import Record
from uploader.testing import InMemoryQueue

# Noon on 2 May 2025 in the registry's zone (UTC+08:00).
NOW = dt.datetime(2025, 5, 2, 4, 0, tzinfo=dt.UTC).timestamp()


def record(day: str, inverter: str = "INV1") -> Record:
    """A record of acme on `day`."""
    return Record(
        account="acme",
        remote_inv_id=inverter,
        day=dt.date.fromisoformat(day),
        period_kwh=Decimal(1),
        accumulated_kwh=Decimal(2),
    )


async def test_status_counts_pending_records_by_claim_deadline() -> None:
    """Closing within 30 days, past, the soonest open deadline; zeros for an idle account."""
    async with InMemoryQueue(clock=lambda: NOW) as queue:
        # Claim deadlines: 2024-03 -> 2025-05-31 (closing), 2023-12 -> 2024-09-30 (past),
        # 2024-08 -> 2025-09-30 (later).
        await queue.enqueue([record("2024-03-01"), record("2023-12-01"), record("2024-08-01")])
        document = await read_status(queue, frozenset({"acme", "bolt"}), NOW)
    assert document.accounts["acme"].deadline == DeadlineCounts(1, 1, "2025-05-31")
    assert document.total.deadline == DeadlineCounts(1, 1, "2025-05-31")
    assert document.accounts["bolt"].deadline == DeadlineCounts()
    shown = msgspec.to_builtins(document)
    assert (shown["deadline_horizon_days"], shown["accounts"]["acme"]["deadline"]) == (
        30,
        {"closing": 1, "closed": 1, "soonest": "2025-05-31"},
    )
    assert render(document).splitlines()[-1] == (
        "acme: 1 pending record(s) reach their claim deadline within 30 days (soonest "
        "2025-05-31); 1 are past it and can no longer be issued"
    )
