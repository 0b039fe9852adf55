"""Account leases between replicas, against a real Redis server; and `uploader run` holding them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio

from uploader import config
from uploader.commands.run import serve
from uploader.errors import ConfigError, QueueError
from uploader.queue.redis import leases
from uploader.queue.redis.leases import RedisLeases
from uploader.simulator import FakeRegistry, SimOptions

TTL_S = 0.6  # short, so expiry and renewal happen within a test


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[redis.asyncio.Redis]:
    """A client of the test server."""
    connection = redis.asyncio.Redis.from_url(redis_url)
    yield connection
    await connection.aclose()


async def test_an_account_served_by_another_replica_is_refused_with_its_holder(
    client: redis.asyncio.Redis, redis_prefix: str
) -> None:
    """The second replica fails to start, naming the account and the holder; none is taken."""
    first = RedisLeases(client, redis_prefix, ["acme", "bolt"], ttl_s=TTL_S, holder="one")
    second = RedisLeases(client, redis_prefix, ["cora", "bolt"], ttl_s=TTL_S, holder="two")
    async with first:
        with pytest.raises(ConfigError, match=r"'bolt' is served by replica one"):
            await second.__aenter__()
        assert await client.get(f"{redis_prefix}:owner:cora") is None
    async with second:  # the first gave its leases back on exit
        assert await client.get(f"{redis_prefix}:owner:bolt") == b"two"


async def test_leases_are_renewed_while_serving(
    client: redis.asyncio.Redis, redis_prefix: str
) -> None:
    """A replica holds its accounts well past one time to live."""
    async with RedisLeases(client, redis_prefix, ["acme"], ttl_s=TTL_S, holder="one") as held:
        await asyncio.sleep(TTL_S * 2.5)
        assert await client.get(f"{redis_prefix}:owner:acme") == b"one"
        assert not held.lost.is_set()


async def test_a_lease_taken_over_sets_lost(client: redis.asyncio.Redis, redis_prefix: str) -> None:
    """When another replica holds the key (after a freeze), the next renewal reports it lost."""
    async with RedisLeases(client, redis_prefix, ["acme"], ttl_s=TTL_S, holder="one") as held:
        await client.set(f"{redis_prefix}:owner:acme", "two")
        await asyncio.wait_for(held.lost.wait(), timeout=TTL_S * 2)
    assert await client.get(f"{redis_prefix}:owner:acme") == b"two"  # not given back


async def test_a_dead_replicas_accounts_are_free_after_the_ttl(
    client: redis.asyncio.Redis, redis_prefix: str
) -> None:
    """Leases nobody renews run out, and another replica takes the accounts."""
    await client.set(f"{redis_prefix}:owner:acme", "dead", px=int(TTL_S * 1000))
    later = RedisLeases(client, redis_prefix, ["acme"], ttl_s=TTL_S, holder="two")
    with pytest.raises(ConfigError, match="dead"):
        await later.__aenter__()
    await asyncio.sleep(TTL_S * 1.2)
    async with later:
        assert await client.get(f"{redis_prefix}:owner:acme") == b"two"


async def test_a_running_replica_that_loses_its_leases_stops(
    client: redis.asyncio.Redis, redis_url: str, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`uploader run` leases its accounts through the queue; taken over, it stops and says so."""
    monkeypatch.setattr(leases, "TTL_S", TTL_S)
    owner = f"{redis_prefix}:owner:acme"
    async with FakeRegistry(SimOptions(tokens={"acme": "t"})) as sim:
        settings = config.from_dict(
            {
                "queue": f"{redis_url}?prefix={redis_prefix}",
                "registry": {"base_url": sim.url},
                "worker": {"idle_poll_s": 0.05, "poll_statuses": False},
                "server": {"listen": "127.0.0.1:0"},
                "accounts": [{"id": "acme", "token": "t"}],
            }
        )
        serving = asyncio.create_task(serve(settings, drain=False))
        try:
            async with asyncio.timeout(10):  # started, and its account leased
                while await client.get(owner) is None:
                    assert not serving.done(), serving
                    await asyncio.sleep(0.01)
            await client.set(owner, "another")
            with pytest.raises(QueueError, match="lost its account leases"):
                await asyncio.wait_for(serving, timeout=TTL_S * 3)
        finally:
            serving.cancel()
    assert await client.get(owner) == b"another"  # not given back: it is not ours any more
