"""The delivery read back's cost: reading a day range's record states, confirming a batch.

    .venv/bin/python -m benchmarks.bench_readback [--inverters 1000] [--days 300]
                                                  [--redis redis://127.0.0.1:6379/0]

One account's fleet is queued and delivered in batches of 3000 (SQLite in a temporary file,
and Redis when a URL is given: keys under a prefix of their own, deleted afterwards). Then:
the time `set_ledger_status(..., "Success")` takes per batch (it confirms each record), and
the time `records_between` takes to read 7 and 31 days of every inverter, and 31 days of one.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

from uploader.queue import LedgerEntry, Queue
from uploader.queue.sqlite import SQLiteQueue
from uploader.records import Record

FIRST = dt.date(2024, 1, 1)
CONFIRMED_BATCHES = 20
RANGES = (
    ("7 days, every inverter", dt.date(2024, 6, 1), dt.date(2024, 6, 7), None),
    ("31 days, every inverter", dt.date(2024, 6, 1), dt.date(2024, 7, 1), None),
    ("31 days, one inverter", dt.date(2024, 6, 1), dt.date(2024, 7, 1), "INV00000"),
)


def fleet(inverters: int, days: int) -> list[Record]:
    """`days` days of `inverters` inverters of one account."""
    return [
        Record(
            account="acme",
            remote_inv_id=f"INV{n:05d}",
            day=FIRST + dt.timedelta(days=d),
            period_kwh=Decimal("1.5"),
            accumulated_kwh=Decimal(d),
        )
        for n in range(inverters)
        for d in range(days)
    ]


async def deliver(queue: Queue) -> list[str]:
    """Claim and ack everything in batches of 3000; the batch ids."""
    batches: list[str] = []
    while (claim := await queue.claim("acme", 3000, 120.0)) is not None:
        batch = f"b{len(batches)}"
        entry = LedgerEntry(batch, "acme", len(claim.records), time.time(), 200, 1, "batch")
        await queue.ack(claim, claim.records, entry)
        batches.append(batch)
    return batches


async def measure(name: str, queue: Queue, records: list[Record]) -> None:
    """Queue, deliver, then time the reads; print one line each."""
    async with queue:
        await queue.enqueue(records)
        batches = await deliver(queue)
        started = time.perf_counter()
        for batch in batches[:CONFIRMED_BATCHES]:
            await queue.set_ledger_status(batch, "Success")
        each = (time.perf_counter() - started) / min(CONFIRMED_BATCHES, len(batches))
        print(f"{name}: Success of a 3000-record batch {each * 1000:.1f} ms "
              f"({each / 3000 * 1e6:.2f} µs a record)")  # fmt: skip
        for label, first, last, inverter in RANGES:
            started, found, pages = time.perf_counter(), 0, 0
            async for rows in queue.records_between("acme", first, last, inverter=inverter):
                found, pages = found + len(rows), pages + 1
            took = time.perf_counter() - started
            print(f"{name}: records_between, {label}: {found} records, {pages} reads, "
                  f"{took:.3f} s")  # fmt: skip


async def run(inverters: int, days: int, redis_url: str | None) -> None:
    """SQLite, then Redis if asked."""
    records = fleet(inverters, days)
    print(f"{len(records):,} records of {inverters:,} inverters, delivered")
    with tempfile.TemporaryDirectory() as tmp:
        await measure("sqlite", SQLiteQueue(Path(tmp) / "queue.db"), records)
    if redis_url:
        from uploader.queue.redis import RedisQueue

        prefix = f"bench-readback-{uuid.uuid4().hex[:8]}"
        queue = RedisQueue(redis_url, prefix=prefix, durability="none")  # throwaway keys
        try:
            await measure("redis", queue, records)
        finally:
            async with queue:
                client = queue._connection.client  # the benchmark's own keys only
                async for key in client.scan_iter(match=f"{prefix}:*", count=1000):
                    await client.unlink(key)


def main(argv: list[str] | None = None) -> int:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--inverters", type=int, default=1000)
    parser.add_argument("--days", type=int, default=300)
    parser.add_argument("--redis", metavar="URL", help="also measure a Redis queue there")
    args = parser.parse_args(argv)
    asyncio.run(run(args.inverters, args.days, args.redis))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
