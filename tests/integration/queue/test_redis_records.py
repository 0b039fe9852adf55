"""The Redis backend keeps records exactly: its scripts rewrite them as text, never as numbers.

A claim hands out JSON built in three places: by Python at enqueue, by Lua from a record's
fields (a replay, a failed batch), and by Lua patching a leased record's attempts (an expired
lease, a release). Each must give back the inverter id and the times the queue was given.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.integration.queue.helpers import LEASE_S, START, FakeClock, claim, entry, keys, rec
from uploader.queue.base import deadline_of_text
from uploader.queue.redis import RedisQueue

# Quote, backslash, slash (Lua's JSON encoder escapes it), non-ASCII, a control character,
# and ids that are prefixes of one another (claim order compares them bytewise).
ODD_IDS = ['IN"V', "IN\\V", "IN/V", "逆变器-7", "INV\x01", "INV", "INV-A", "INV\x7f", "ÉTÉ 😀"]


@pytest.fixture
async def queue(redis_url: str, redis_prefix: str, clock: FakeClock) -> AsyncIterator[RedisQueue]:
    """An open, empty Redis queue on the hand-moved clock."""
    opened = RedisQueue(redis_url, prefix=redis_prefix, durability="none", clock=clock)
    async with opened:
        yield opened


async def test_odd_inverter_ids_come_out_as_they_went_in_on_every_path(
    queue: RedisQueue, clock: FakeClock
) -> None:
    """Enqueued, re-pended after expiry, replayed and requeued: the ids and order are intact."""
    await queue.enqueue([rec(inv, day) for inv in ODD_IDS for day in ("2024-05-02", "2024-05-01")])
    expected = sorted((inv, day) for inv in ODD_IDS for day in ("2024-05-01", "2024-05-02"))
    held = await claim(queue)
    assert keys(held.records) == expected
    clock.advance(LEASE_S)  # expired: pending again through the patched JSON
    held = await claim(queue)
    assert keys(held.records) == expected
    await queue.reject(held, [(r, "bad") for r in held.records])
    assert {(d.remote_inv_id, d.day) for d in await queue.list_dead()} == set(expected)
    assert await queue.replay_dead() == len(expected)  # pending through Lua-built JSON
    held = await claim(queue)
    assert keys(held.records) == expected
    assert {r.attempts for r in held.records} == {1}
    await queue.ack(held, held.records, entry("b1", held, process_id=1))
    assert await queue.requeue_batch("b1") == (len(expected), 0)
    assert keys((await claim(queue)).records) == expected


async def test_one_inverter_stops_at_ids_it_is_a_prefix_of(queue: RedisQueue) -> None:
    """one_inverter=True takes "INV" alone, not "INV\\x01" or "INV-A" that sort right after it."""
    await queue.enqueue([rec(inv, day) for inv in ("INV-A", "INV\x01", "INV")
                         for day in ("2024-05-01", "2024-05-02")])  # fmt: skip
    held = await claim(queue, one_inverter=True)
    assert keys(held.records) == [("INV", "2024-05-01"), ("INV", "2024-05-02")]
    assert [r.remote_inv_id for r in (await claim(queue, one_inverter=True)).records] == [
        "INV\x01",
        "INV\x01",
    ]


async def test_claim_order_is_the_deadline_first_across_years(queue: RedisQueue) -> None:
    """Deadlines compare as fixed-width text: year 500's ("05000531") before 2025's."""
    days = ["2024-07-01", "0499-03-01", "2024-01-31", "2023-12-31"]
    await queue.enqueue([rec("INV", day) for day in days])
    got = [r.day for r in (await claim(queue)).records]
    assert got == sorted(days, key=lambda day: (deadline_of_text(day), day))


async def test_times_round_trip_exactly(redis_url: str, redis_prefix: str) -> None:
    """first_enqueued_at, oldest_pending_at and a delay's end come back as the floats given."""
    clock = FakeClock(START + 0.123456789)  # not a short decimal: every digit must survive
    async with RedisQueue(redis_url, prefix=redis_prefix, durability="none", clock=clock) as queue:
        await queue.enqueue([rec(), rec("INV2")])
        first = clock.now
        clock.advance(1 / 3)
        held = await claim(queue)
        assert {r.first_enqueued_at for r in held.records} == {first}
        assert held.lease_until == clock.now + LEASE_S
        await queue.release(held, held.records[:1], delay_s=0.1)
        assert await queue.due_in() == {"acme": pytest.approx(0.1)}
        counts = (await queue.counts()).accounts["acme"]
        assert (counts.delayed, counts.next_due_at) == (1, clock.now + 0.1)
        assert (counts.pending, counts.oldest_pending_at) == (0, first)
        clock.advance(LEASE_S)
        counts = (await queue.counts()).accounts["acme"]
        assert (counts.pending, counts.oldest_pending_at) == (2, first)
        again = await claim(queue)
        assert {r.first_enqueued_at for r in again.records} == {first}
        assert {r.attempts for r in again.records} == {2}


async def test_a_purged_record_that_is_pending_again_stays_queued(
    queue: RedisQueue, clock: FakeClock
) -> None:
    """A stale claim's rejection raced a new claim: purging that dead letter keeps the record."""
    await queue.enqueue([rec()])
    stale = await claim(queue)
    clock.advance(LEASE_S)
    fresh = await claim(queue)  # the record again, under a new lease
    await queue.reject(stale, [(stale.records[0], "bad")])  # dead, yet leased by `fresh`
    clock.advance(LEASE_S)  # `fresh` expires too: pending, and a dead letter
    assert await queue.purge_dead() == 1
    assert (await queue.counts()).accounts["acme"].pending == 1
    assert (await queue.enqueue([rec()])).unchanged == 1  # still known, still queued
    (record,) = (await claim(queue)).records
    assert (record.id, record.attempts) == (fresh.records[0].id, 3)
