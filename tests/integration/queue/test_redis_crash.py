"""A replica killed with SIGKILL loses nothing: its leases expire, its scripts are whole."""

from __future__ import annotations

from tests.integration.queue.helpers import FakeClock, rec
from tests.integration.queue.test_crash import kill, spawn
from uploader.queue.redis_queue import RedisQueue

HOLDER = """
import asyncio, sys
from uploader.queue.redis_queue import RedisQueue

async def main():
    async with RedisQueue(sys.argv[1], prefix=sys.argv[2]) as queue:
        claim = await queue.claim("acme", 1000, float(sys.argv[3]))
        print(len(claim.records), repr(claim.lease_until), flush=True)
        await asyncio.Event().wait()  # hold the lease until killed

asyncio.run(main())
"""

WRITER = """
import asyncio, datetime as dt, sys
from decimal import Decimal
from uploader.records import Record
from uploader.queue.redis_queue import RedisQueue

async def main():
    async with RedisQueue(sys.argv[1], prefix=sys.argv[2]) as queue:
        for chunk in range(1000):
            await queue.enqueue([
                Record(account="acme", remote_inv_id=f"INV{chunk}-{n}", day=dt.date(2024, 5, 1),
                       period_kwh=Decimal(1), accumulated_kwh=Decimal(n))
                for n in range(500)
            ])
            print(chunk, flush=True)

asyncio.run(main())
"""


async def test_records_leased_by_a_killed_replica_are_pending_after_the_lease(
    redis_url: str, redis_prefix: str
) -> None:
    """After SIGKILL the lease holds until it expires; then every record is claimable."""
    async with RedisQueue(redis_url, prefix=redis_prefix) as queue:
        await queue.enqueue([rec(f"INV{n}") for n in range(100)])
    child = spawn(HOLDER, redis_url, redis_prefix, "60")
    assert child.stdout is not None
    claimed, lease_until = child.stdout.readline().split()
    kill(child)
    assert claimed == "100"

    async with RedisQueue(redis_url, prefix=redis_prefix) as queue:  # the lease still holds
        assert await queue.in_flight() == 100
        assert await queue.claim("acme", 1000, 60) is None
    after = FakeClock(float(lease_until))  # the moment the lease ends
    async with RedisQueue(redis_url, prefix=redis_prefix, clock=after) as queue:
        counts = (await queue.counts()).accounts["acme"]
        assert (counts.pending, counts.leased) == (100, 0)
        again = await queue.claim("acme", 1000, 60)
        assert again is not None
        assert len(again.records) == 100
        assert {r.attempts for r in again.records} == {2}


async def test_an_enqueue_killed_midway_keeps_whole_script_calls(
    redis_url: str, redis_prefix: str
) -> None:
    """SIGKILL during a stream of enqueues leaves whole 500-record calls, each one script."""
    child = spawn(WRITER, redis_url, redis_prefix)
    assert child.stdout is not None
    for _ in range(3):
        child.stdout.readline()
    kill(child)
    async with RedisQueue(redis_url, prefix=redis_prefix) as queue:
        pending = (await queue.counts()).accounts["acme"].pending
    assert pending >= 1500
    assert pending % 500 == 0
