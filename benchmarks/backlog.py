"""Backlogs for the benchmarks: a plausible fleet's records, in a queue file or a CSV file.

Days end yesterday, so the simulator (which refuses future days) takes every one, and the
records of one inverter rise in accumulated value, as a real meter's do.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

from benchmarks.common import remove_db
from uploader import residual_mix
from uploader.demo import fleet
from uploader.push import batcher
from uploader.push.endpoints import ENDPOINTS
from uploader.queue import QueuedRecord, open_queue
from uploader.records import Record, canonical

CHUNK = 20_000  # records per enqueue call: one transaction each


def account_names(count: int) -> list[str]:
    """`count` account ids."""
    return [f"acct{n:02d}" for n in range(count)]


def first_day(days: int) -> dt.date:
    """The first of `days` days that end yesterday."""
    return dt.date.today() - dt.timedelta(days=days)


def one_deadline_span(days: int) -> dt.date:
    """The first of `days` recent days that share one claim deadline (one half-year).

    A claim takes one deadline's records before the next one's, so an inverter whose days
    straddle two would go out in two requests instead of one.
    """
    last = dt.date.today() - dt.timedelta(days=1)
    if residual_mix.claim_deadline(last - dt.timedelta(days=days - 1)) != (
        residual_mix.claim_deadline(last)
    ):
        last = dt.date(last.year, 1 if last.month <= 6 else 7, 1) - dt.timedelta(days=1)
    return last - dt.timedelta(days=days - 1)


def fleet_records(
    accounts: int, inverters: int, days: int, first: dt.date | None = None
) -> list[Record]:
    """`inverters` per account, `days` each (ending yesterday), from the demo's fleet."""
    group = fleet.inverters(account_names(accounts), inverters)
    return list(fleet.records(group, fleet.days(first or first_day(days), days)))


async def fill_queue(path: Path, records: Sequence[Record]) -> None:
    """A fresh SQLite queue at `path` holding `records` (closed, so its WAL is folded in)."""
    remove_db(path)
    async with open_queue(f"sqlite:///{path}") as queue:
        for start in range(0, len(records), CHUNK):
            await queue.enqueue(records[start : start + CHUNK])


def copy_db(template: Path, path: Path) -> Path:
    """A copy of a closed queue file, for one run to drain."""
    remove_db(path)
    shutil.copyfile(template, path)
    return path


def as_queued(records: Sequence[Record]) -> list[QueuedRecord]:
    """The records as a claim hands them out (canonical decimal text)."""
    return [
        QueuedRecord(
            id=n,
            version=1,
            remote_inv_id=r.remote_inv_id,
            day=r.day.isoformat(),
            period_kwh=canonical(r.period_kwh),
            accumulated_kwh=canonical(r.accumulated_kwh),
            attempts=1,
            first_enqueued_at=0.0,
        )
        for n, r in enumerate(records)
    ]


def batch_bodies(records: Sequence[Record], size: int = 3000) -> list[tuple[str, bytes]]:
    """(account, body) of every batch the product would send, built the product's way."""
    bodies: list[tuple[str, bytes]] = []
    by_account: dict[str, list[Record]] = {}
    for record in records:
        by_account.setdefault(record.account, []).append(record)
    for account, own in by_account.items():
        queued = as_queued(own)
        for start in range(0, len(queued), size):
            body = batcher.build(queued[start : start + size], ENDPOINTS["batch"]).body
            bodies.append((account, body))
    return bodies


def write_csv(path: Path, accounts: int, inverters: int, days: int) -> int:
    """A CSV of `accounts` x `inverters` x `days` rows with an Account column; returns rows.

    Written with integer arithmetic (watt-hours), so even 5 M rows take seconds.
    """
    start = first_day(days)
    dates = [(start + dt.timedelta(days=d)).isoformat() for d in range(days)]
    rows = 0
    with path.open("w", encoding="ascii") as out:
        out.write("Account,RemoteInvId,Timestamp,PeriodProductionInKWh,AccumulatedEnergyInKWh\n")
        for account in account_names(accounts):
            for inverter in range(inverters):
                out.writelines(_inverter_rows(account, inverter, dates))
                rows += len(dates)
    return rows


def _inverter_rows(account: str, inverter: int, dates: list[str]) -> Iterator[str]:
    meter = 1_000_000 + inverter * 7919 % 4_000_000  # watt-hours
    for n, day in enumerate(dates):
        produced = 20_000 + (inverter * 104_729 + n * 31_337) % 40_000
        meter += produced
        yield (
            f"{account},{account.upper()}-INV{inverter:06d},{day},"
            f"{produced // 1000}.{produced % 1000:03d},{meter // 1000}.{meter % 1000:03d}\n"
        )


def pending_count(path: Path) -> int:
    """Rows left in the queue file's pending table (0 once a drain took everything)."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        count: int = db.execute("SELECT count(*) FROM pending").fetchone()[0]
    return count
