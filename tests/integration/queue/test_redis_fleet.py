"""Replicas sharing one Redis queue's accounts: the lease protocol against a real server.

Each `RedisQueue` here is one replica; its leases run on a short time to live (TTL_S) so
deaths and lapses happen within a test. `follow` plays the service's part in a hand-off.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack

import pytest
import redis.asyncio

from tests.integration.queue.helpers import LEASE_S, claim, rec, until
from tests.redis_server import RedisServer
from uploader.errors import ConfigError, QueueError
from uploader.queue.redis import RedisQueue, leases
from uploader.queue.redis.connection import text
from uploader.queue.redis.leases import RedisLeases

TTL_S, BEAT_S = 0.9, 0.3  # a dead replica's accounts are free after TTL_S, taken a beat later
ACCOUNTS = ["acme", "bolt", "cera"]

Replica = Callable[[], Awaitable[RedisQueue]]


@pytest.fixture(autouse=True)
def short_leases(monkeypatch: pytest.MonkeyPatch) -> None:
    """Leases made in these tests live TTL_S and beat every BEAT_S."""
    monkeypatch.setattr(leases, "TTL_S", TTL_S)
    monkeypatch.setattr(leases, "BEAT_S", BEAT_S)


@pytest.fixture
async def replica(redis_url: str, redis_prefix: str) -> AsyncIterator[Replica]:
    """Opens another replica's queue on the test's prefix; all are closed at the end."""
    async with AsyncExitStack() as stack:

        async def make() -> RedisQueue:
            queue = RedisQueue(redis_url, prefix=redis_prefix, durability="none")
            return await stack.enter_async_context(queue)

        yield make


@contextlib.asynccontextmanager
async def serving(queue: RedisQueue, accounts: list[str] = ACCOUNTS) -> AsyncIterator[RedisLeases]:
    """The replica's leases entered, with hand-offs done as the service does them."""
    async with queue.account_leases(accounts) as held:
        follower = asyncio.create_task(follow(held))
        try:
            yield held
        finally:
            follower.cancel()


async def follow(held: RedisLeases) -> None:
    """Release every account assigned elsewhere, as soon as the leases say so."""
    while True:
        await held.changed.wait()
        held.changed.clear()
        for account in held.handing_off():
            await held.release(account)


def freeze(held: RedisLeases) -> None:
    """The replica stops renewing without a word, as one killed or frozen does."""
    assert held._beater is not None
    held._beater.cancel()


async def test_identical_replicas_divide_the_accounts_and_a_joiner_gets_its_share(
    replica: Replica,
) -> None:
    """Alone a replica holds all; a second and a third are handed fair shares, never shared."""
    one, two, three = await replica(), await replica(), await replica()
    async with serving(one) as first:
        assert first.held() == set(ACCOUNTS)
        async with serving(two) as second:
            await until(lambda: sorted(map(len, [first.held(), second.held()])) == [1, 2], 5)
            assert first.held() | second.held() == set(ACCOUNTS)
            async with serving(three) as third:
                shares = [first, second, third]
                await until(lambda: [len(s.held()) for s in shares] == [1, 1, 1], 5)
                assert set().union(*(s.held() for s in shares)) == set(ACCOUNTS)
                assert all(s.replicas() == 3 for s in shares)


async def test_a_dead_replicas_claims_count_as_pending_and_its_taker_frees_them(
    replica: Replica,
) -> None:
    """Once a holder is dead its claims count as pending; the next to take the account frees
    them at once (one attempt further)."""
    one, two, observer = await replica(), await replica(), await replica()
    await observer.enqueue([rec(f"INV{n}") for n in range(5)])
    async with serving(one) as first:
        held = await claim(one)
        assert (await observer.counts()).accounts["acme"].leased == 5
        freeze(first)
        await asyncio.sleep(TTL_S + BEAT_S)  # past its last renewal's time to live
        counts = (await observer.counts()).accounts["acme"]
        assert (counts.pending, counts.leased) == (5, 0)
        assert counts.oldest_pending_at is not None
        async with serving(two) as second:
            assert second.held() == set(ACCOUNTS)
            again = await claim(two)
    assert sorted(r.id for r in again.records) == sorted(r.id for r in held.records)
    assert {r.attempts for r in again.records} == {2}


async def test_a_dead_replicas_accounts_are_served_again_within_ttl_and_a_beat(
    replica: Replica,
) -> None:
    """The survivor holds every account within TTL_S + BEAT_S of the other's last renewal."""
    one, two = await replica(), await replica()
    async with serving(one) as first, serving(two) as second:
        split = [first, second]
        await until(lambda: sorted(len(s.held()) for s in split) == [1, 2], 5)
        freeze(first)
        took = await until(lambda: second.held() == set(ACCOUNTS), TTL_S + BEAT_S + 1)
    assert took < TTL_S + BEAT_S + 0.2  # the last renewal preceded the freeze


async def test_a_claim_without_the_accounts_live_lease_is_refused(replica: Replica) -> None:
    """Fencing: a replica claims only what it holds; a frozen one's token claims nothing."""
    one, two = await replica(), await replica()
    await one.enqueue([rec()])
    async with serving(one) as first:
        stale = first.token("acme")
        assert stale is not None
        freeze(first)
        await asyncio.sleep(TTL_S + BEAT_S)
        async with serving(two) as second:
            await until(lambda: second.held() == set(ACCOUNTS), 5)
            with pytest.raises(QueueError, match="acme is not leased to this replica"):
                await claim(one)  # its proof ran out: refused before asking
            now = time.time()
            with pytest.raises(QueueError, match="not leased to this replica"):
                await one._run("claim", "acme", 10, text(now), text(now + LEASE_S), 0, 0, stale)
            assert (await claim(two)).records


async def test_a_replica_that_leaves_hands_its_accounts_over_at_once(replica: Replica) -> None:
    """Leaving (SIGTERM) gives the leases back: the other holds them at its next beat."""
    one, two = await replica(), await replica()
    async with serving(two) as second:
        async with serving(one) as first:
            split = [first, second]
            await until(lambda: sorted(len(s.held()) for s in split) == [1, 2], 5)
        took = await until(lambda: second.held() == set(ACCOUNTS), 2 * BEAT_S + 0.5)
    assert took < TTL_S


async def test_a_replica_whose_queue_data_vanished_stops_and_leaves(
    replica: Replica, redis_url: str, redis_prefix: str
) -> None:
    """A heartbeat that finds the identity key gone stops sending, not ready, out of the fleet."""
    one = await replica()
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        async with serving(one) as first:
            await client.delete(f"{redis_prefix}:identity")
            await until(lambda: first.backend.data_lost is not None, 2)
            assert "identity key is gone" in (first.backend.data_lost or "")
            assert first.held() == set()
            assert not first.backend.ready
            await until(lambda: first._beater is not None and first._beater.done(), 2)
            assert await client.zscore(f"{redis_prefix}:members", first.holder) is None
    finally:
        await client.aclose()


async def test_a_replica_cut_off_from_redis_stops_sending_and_resumes_when_it_is_back(
    own_redis: Callable[..., RedisServer],
) -> None:
    """With the server frozen, the leases lapse within the TTL; thawed, they are held again."""
    server = own_redis()
    async with RedisQueue(server.url) as queue, serving(queue) as held:
        assert held.held() == set(ACCOUNTS)
        server.freeze()
        lapsed = await until(lambda: not held.provable("acme"), TTL_S + 1)
        assert lapsed < TTL_S
        assert held.held() == set()
        await until(lambda: not held.backend.up, 2)
        server.thaw()
        await until(lambda: held.held() == set(ACCOUNTS), 5)
        assert held.backend.ready


async def test_a_server_that_keeps_nothing_on_disk_is_refused_unless_the_url_says_so(
    own_redis: Callable[..., RedisServer],
) -> None:
    """Neither AOF nor RDB: opening fails naming ?durability=none, which lets it open."""
    volatile, durable = own_redis(persistent=False), own_redis()
    with pytest.raises(ConfigError, match=r"keeps nothing on disk.*\?durability=none"):
        await RedisQueue(volatile.url).open()
    async with RedisQueue(f"{volatile.url}?durability=none") as queue:
        assert queue.identity
    async with RedisQueue(durable.url) as queue:
        assert queue.identity
