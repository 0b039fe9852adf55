"""A rate budget replicas share in Redis (`limits.ip_shared`): the scripts, then the process side.

The scripts are driven with explicit times; `SharedKey` runs on the real clock with short
windows, two of them (two replicas) on one budget.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
import redis.asyncio

from tests.integration.queue.helpers import START
from uploader.errors import ConfigError, QueueError
from uploader.queue.redis import RedisQueue
from uploader.registry.keys import Policy
from uploader.registry.limiter import KeyedLimiter
from uploader.registry.ratespec import RateSpec
from uploader.registry.shared import SharedKey
from uploader.testing import InMemoryQueue

W = 10.0  # the scripts' window: times are given, nothing sleeps
TIMEOUT_S = 5.0


@pytest.fixture
async def queue(redis_url: str, redis_prefix: str) -> AsyncIterator[RedisQueue]:
    """A Redis queue of this test's own prefix."""
    async with RedisQueue(redis_url, prefix=redis_prefix, durability="none") as opened:
        yield opened


async def take(queue: RedisQueue, slot: str, now: float, limit: int = 2) -> float | None:
    """Take a slot of the "ip" budget at `now`, counting until now + timeout + W if unsettled."""
    return await queue.shared_budget("ip").take(slot, now, now + TIMEOUT_S + W, limit, W)


# -- the scripts -------------------------------------------------------------------------------


async def test_a_full_budget_says_when_a_slot_may_free(queue: RedisQueue) -> None:
    """While every slot is in flight the answer is one window from now at the soonest; once
    one is answered, exactly when it has cooled."""
    assert await take(queue, "a", START) is None
    assert await take(queue, "b", START) is None
    assert await take(queue, "c", START + 1) == START + 1 + W
    await queue.shared_budget("ip").settle([("a", START + 2 + W)], START + 2)
    assert await take(queue, "c", START + 3) == START + 2 + W
    assert await take(queue, "c", START + 2 + W) is None


async def test_a_slot_never_sent_frees_at_once(queue: RedisQueue) -> None:
    """Settled without a time (given back unused), a slot is free for the next taker."""
    assert await take(queue, "a", START, limit=1) is None
    await queue.shared_budget("ip").settle([("a", None)], START)
    assert await take(queue, "b", START, limit=1) is None


async def test_a_dead_processs_slot_counts_until_its_bound(queue: RedisQueue) -> None:
    """A slot never settled (its process died) counts until taken at + timeout + W, then frees."""
    assert await take(queue, "a", START, limit=1) is None
    bound = START + TIMEOUT_S + W
    assert await take(queue, "b", bound - 0.5, limit=1) == bound
    assert await take(queue, "b", bound, limit=1) is None


async def test_budget_keys_go_away_after_their_last_time(
    queue: RedisQueue, redis_url: str, redis_prefix: str
) -> None:
    """Both sorted sets live only until their last slot stops counting (plus a second)."""
    now = time.time()
    assert await take(queue, "a", now) is None
    await queue.shared_budget("ip").settle([("a", now + W)], now)
    assert await take(queue, "b", now) is None
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        ttls = [await client.pttl(f"{redis_prefix}:{kind}:ip") for kind in ("cooling", "flight")]
    finally:
        await client.aclose()
    assert 0 < ttls[0] <= (W + 1) * 1000
    assert 0 < ttls[1] <= (TIMEOUT_S + W + 1) * 1000


async def test_only_a_queue_replicas_share_has_a_shared_budget() -> None:
    """A local queue refuses, naming the setting."""
    with pytest.raises(ConfigError, match=r"limits\.ip_shared"):
        InMemoryQueue().shared_budget("ip")


# -- the process side ------------------------------------------------------------------------


def shared_key(queue: RedisQueue, spec: str) -> SharedKey:
    """One replica's side of the budget."""
    return SharedKey(queue.shared_budget("ip"), Policy(RateSpec.parse(spec)), timeout_s=TIMEOUT_S)


async def test_a_replicas_requests_are_served_in_order(queue: RedisQueue) -> None:
    """Waiters of one process get their slots first come, first served, as slots free."""
    key = shared_key(queue, "1/0.2s")
    order: list[int] = []

    async def request(n: int) -> None:
        slot, _ = await key.acquire(front=False)
        order.append(n)
        key.release(slot, used=True)

    async with asyncio.timeout(5):
        await asyncio.gather(*(request(n) for n in range(4)))
    assert order == [0, 1, 2, 3]
    await key.flush()


async def test_two_replicas_never_hold_more_than_the_limit(queue: RedisQueue) -> None:
    """Two processes' requests together keep at most N slots busy or cooling at any time."""
    keys = [shared_key(queue, "3/0.2s"), shared_key(queue, "3/0.2s")]
    spans: list[tuple[float, float]] = []

    async def request(key: SharedKey) -> None:
        slot, _ = await key.acquire(front=False)
        started = time.monotonic()  # after the take, and
        await asyncio.sleep(0.01)  # in flight
        ended = time.monotonic()  # before the release: inside the slot's real span
        key.release(slot, used=True)
        spans.append((started, ended + 0.2))  # busy, then cooling

    async with asyncio.timeout(10):
        await asyncio.gather(*(request(keys[n % 2]) for n in range(12)))
    for start, _ in spans:
        assert sum(1 for s, e in spans if s <= start < e) <= 3
    for key in keys:
        await key.flush()


async def test_a_slot_given_back_unused_wakes_the_line(queue: RedisQueue) -> None:
    """A request that never left frees its slot at once: the next one need not wait a window."""
    key = shared_key(queue, "1/30s")
    slot, _ = await key.acquire(front=False)
    waiter = asyncio.create_task(key.acquire(front=False))
    await asyncio.sleep(0.05)
    assert key.waiting() == 1
    key.release(slot, used=False)
    async with asyncio.timeout(2):
        next_slot, _ = await waiter
    key.release(next_slot, used=False)
    await key.flush()


async def test_a_budget_out_of_reach_fails_the_line(redis_url: str, redis_prefix: str) -> None:
    """Redis unreachable: the waiting requests fail with QueueError (they do not leave)."""
    closed = RedisQueue(redis_url, prefix=redis_prefix)  # never opened
    key = shared_key(closed, "2/1s")
    with pytest.raises(QueueError, match="not open"):
        await key.acquire(front=False)
    assert key.waiting() == 0


async def test_a_request_sent_back_by_a_floor_counts_from_its_last_take(queue: RedisQueue) -> None:
    """A floor that sends a request back to the line after it took the shared slot: the slot
    it finally leaves with was taken after the floor, and its timeout is counted from then."""
    limiter = KeyedLimiter({"account": Policy(RateSpec.parse("5/1s")),
                            "ip": Policy(RateSpec.parse("1/0.1s"))})  # fmt: skip
    limiter.attach(None, {"ip": shared_key(queue, "1/0.1s")})
    account, ip = ("account", "acme"), ("ip", "default")
    holder = limiter.slot(ip)
    await holder.__aenter__()
    waiting = asyncio.create_task(limiter.slot(account, ip).__aenter__())
    await asyncio.sleep(0.05)  # holds the account's slot, waits for the IP's
    floor_ends = time.time() + 0.5
    limiter.block_until(account, asyncio.get_running_loop().time() + 0.5)
    holder.release()
    async with asyncio.timeout(5):
        slot = await waiting
    assert slot.recorded_at is not None
    assert slot.recorded_at >= floor_ends - 0.01
    slot.release()
    await limiter.flush()
