"""Claim + ack throughput of the queue in 3000-record batches, beside a bare loop.

    .venv/bin/python -m benchmarks.bench_queue [--quick | --full] [--scratch DIR]

A backlog (two accounts, a plausible fleet, 250 days per inverter) is enqueued once into a
template queue file. Each round drains a copy of it through the product's queue (claim 3000,
ack them with a ledger row, until nothing is left, account after account), and drains
another copy with the storage ceiling: a bare sqlite3 loop reading and deleting the same
pending rows in 3000-row batches (`benchmarks.ceilings.read_and_delete`). When a Redis server
answers (REDIS_URL, else 127.0.0.1:6379), each round also enqueues the same records into the
Redis backend under a fresh key prefix (timed) and drains them the same way (timed), then
deletes the prefix's keys.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import msgspec

from benchmarks import backlog, ceilings
from benchmarks.common import Mode, Spread, inverse, remove_db, spread
from uploader.queue import LedgerEntry, Queue
from uploader.queue.sqlite import SQLiteQueue
from uploader.records import Record

ACCOUNTS = 2
DAYS = 250
BATCH = 3000
LEASE_S = 120.0
GOAL_RATE = 300_000  # records per second, claim + ack
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
CHUNK = 20_000  # records per enqueue call


class QueueResult(msgspec.Struct):
    """What this benchmark measured."""

    records: int
    rounds: int
    cores: int
    load: float
    product_rate: Spread
    ceiling_rate: Spread
    ratio: Spread  # product time / ceiling time, round by round
    claim_share: Spread  # of the product's time, the part spent in claim
    product_cpu_us: Spread  # this process (both threads), per record
    redis_rate: Spread | None = None  # claim + ack on the Redis backend; None: no server
    redis_enqueue_rate: Spread | None = None


async def drain(path: Path, accounts: list[str]) -> tuple[float, float, float, int]:
    """Claim and ack everything: wall seconds, CPU seconds, seconds in claim, records."""
    return await drain_queue(SQLiteQueue(path), accounts)


async def drain_queue(queue: Queue, accounts: list[str]) -> tuple[float, float, float, int]:
    """`drain` on any unopened queue."""
    claim_s = 0.0
    records = batches = 0
    async with queue:
        cpu, started = time.process_time(), time.perf_counter()
        for account in accounts:
            while True:
                before = time.perf_counter()
                claim = await queue.claim(account, BATCH, LEASE_S)
                claim_s += time.perf_counter() - before
                if claim is None:
                    break
                batches += 1
                entry = LedgerEntry(f"b{batches}", account, len(claim.records), time.time(), 200,
                                    batches, "batch")  # fmt: skip
                await queue.ack(claim, claim.records, entry)
                records += len(claim.records)
        return time.perf_counter() - started, time.process_time() - cpu, claim_s, records


async def measure(mode: Mode) -> QueueResult:
    """Fill a template once, then drain copies with the product and the ceiling in turn."""
    inverters = mode.pick(300, 1200, 2400)  # x 2 accounts x 250 days: 150k, 600k, 1.2M records
    rounds = mode.pick(1, 5, 7)
    template = mode.scratch / "queue-template.db"
    records = backlog.fleet_records(ACCOUNTS, inverters, DAYS)
    await backlog.fill_queue(template, records)
    accounts = backlog.account_names(ACCOUNTS)
    load = os.getloadavg()[0]
    runs: dict[str, list[float]] = {"product": [], "ceiling": [], "claim": [], "cpu": []}
    n = 0
    for _ in range(rounds):
        wall, cpu, claim_s, n = await drain(
            backlog.copy_db(template, mode.scratch / "q.db"), accounts
        )
        ceiling, rows = ceilings.read_and_delete(backlog.copy_db(template, mode.scratch / "c.db"))
        if rows != n:
            raise RuntimeError(f"the ceiling read {rows} rows, the product {n}")
        runs["product"].append(wall)
        runs["ceiling"].append(ceiling.wall_s)
        runs["claim"].append(claim_s / wall)
        runs["cpu"].append(cpu)
    for name in ("queue-template.db", "q.db", "c.db"):
        remove_db(mode.scratch / name)
    redis_runs = [await _redis_round(records, accounts) for _ in range(rounds)] if _redis() else []
    return QueueResult(
        records=n,
        rounds=rounds,
        cores=os.cpu_count() or 0,
        load=load,
        product_rate=inverse(runs["product"], n),
        ceiling_rate=inverse(runs["ceiling"], n),
        ratio=spread([p / c for p, c in zip(runs["product"], runs["ceiling"], strict=True)]),
        claim_share=spread(runs["claim"]),
        product_cpu_us=spread(runs["cpu"]).scaled(1e6 / n),
        redis_rate=inverse([d for _, d in redis_runs], n) if redis_runs else None,
        redis_enqueue_rate=inverse([e for e, _ in redis_runs], n) if redis_runs else None,
    )


def _redis() -> bool:
    """Whether a Redis server answers at REDIS_URL."""
    try:
        import redis
    except ImportError:
        return False
    with contextlib.suppress(redis.RedisError, OSError):
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    return False


async def _redis_round(records: Sequence[Record], accounts: list[str]) -> tuple[float, float]:
    """Enqueue then drain under a fresh prefix: (enqueue seconds, drain seconds)."""
    from uploader.queue.redis import RedisQueue

    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    # Throwaway keys: the server need not keep them on disk.
    make: Callable[[], Queue] = functools.partial(
        RedisQueue, REDIS_URL, prefix=prefix, durability="none"
    )
    try:
        async with make() as queue:
            started = time.perf_counter()
            for start in range(0, len(records), CHUNK):
                await queue.enqueue(records[start : start + CHUNK])
            enqueue_s = time.perf_counter() - started
        wall, _, _, drained = await drain_queue(make(), accounts)
        if drained != len(records):
            raise RuntimeError(f"Redis drained {drained} records, not {len(records)}")
        return enqueue_s, wall
    finally:
        await _forget(prefix)


async def _forget(prefix: str) -> None:
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=10_000)]
        for start in range(0, len(keys), 10_000):
            await client.unlink(*keys[start : start + 10_000])
    finally:
        await client.aclose()


def render(r: QueueResult) -> str:
    """The section's markdown."""
    met = r.product_rate.median >= GOAL_RATE
    return "\n".join(
        [
            f"{r.records:,} records ({ACCOUNTS} accounts, {DAYS} days per inverter) drained in "
            f"claims of {BATCH}; {r.rounds} rounds, product then ceiling; {r.cores} cores, "
            f"load average {r.load:.2f} at start.",
            "",
            "| run | records/s |",
            "|---|---|",
            f"| SQLite queue: claim {BATCH} + ack with a ledger row | {r.product_rate.fmt()} |",
            f"| ceiling: bare sqlite3 read + range delete, {BATCH}-row batches "
            f"| {r.ceiling_rate.fmt()} |",
            "",
            f"- Product time ÷ ceiling time: {r.ratio.fmt(2)}×; claims take "
            f"{r.claim_share.median:.0%} of the product's time, acks the rest; "
            f"CPU {r.product_cpu_us.fmt(2)} µs/record.",
            f"- Throughput: **{r.product_rate.median:,.0f} records/s** (goal ≥ {GOAL_RATE:,}): "
            + ("met." if met else "**missed**."),
            _redis_line(r),
        ]
    )


def _redis_line(r: QueueResult) -> str:
    if r.redis_rate is None or r.redis_enqueue_rate is None:
        return f"- Redis backend: not run (no Redis server answers at {REDIS_URL})."
    return (
        f"- Redis backend ({REDIS_URL}, loopback), the same records: claim {BATCH} + ack "
        f"{r.redis_rate.fmt()} records/s; enqueue (calls of {CHUNK:,}) "
        f"{r.redis_enqueue_rate.fmt()} records/s."
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark alone and print its section."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="150,000 records, one round")
    parser.add_argument("--full", action="store_true", help="1,200,000 records, seven rounds")
    parser.add_argument("--scratch", type=Path, default=Path("/tmp"), help="where files go")
    args = parser.parse_args(argv)
    print(render(asyncio.run(measure(Mode(args.quick, args.full, args.scratch)))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
