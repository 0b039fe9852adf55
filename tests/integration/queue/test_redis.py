"""What only the Redis backend promises: replicas sharing one server, and its URL."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import sys
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio

from tests.integration.queue.helpers import LEASE_S, FakeClock, claim, entry, rec
from tests.ports import free_port
from tests.redis_server import throwaway_server
from uploader.errors import ConfigError, QueueError
from uploader.queue import LedgerEntry, open_queue
from uploader.queue.redis import RedisQueue

REPO = Path(__file__).parents[3]


@pytest.fixture
async def pair(
    redis_url: str, redis_prefix: str, clock: FakeClock
) -> AsyncIterator[tuple[RedisQueue, RedisQueue]]:
    """Two queues on one prefix and one clock, each with its own connections: two replicas."""
    one = RedisQueue(redis_url, prefix=redis_prefix, durability="none", clock=clock)
    two = RedisQueue(redis_url, prefix=redis_prefix, durability="none", clock=clock)
    async with one, two:
        yield one, two


# -- replicas --------------------------------------------------------------------------


async def test_two_queues_on_one_prefix_never_claim_the_same_record(
    pair: tuple[RedisQueue, RedisQueue],
) -> None:
    """Concurrent claims through two clients get disjoint records, and all of them."""
    one, two = pair
    await one.enqueue([rec(f"INV{n}") for n in range(300)])
    claims = await asyncio.gather(*(q.claim("acme", 7, LEASE_S) for q in [one, two] * 30))
    ids = [r.id for c in claims if c is not None for r in c.records]
    assert len(ids) == len(set(ids)) == 300


async def test_two_replicas_draining_together_deliver_each_record_once(
    pair: tuple[RedisQueue, RedisQueue],
) -> None:
    """Two claim-and-ack loops racing over one backlog ack every record exactly once."""
    one, two = pair
    await one.enqueue([rec(f"INV{n}", f"2024-05-{d:02d}") for n in range(100) for d in (1, 2, 3)])
    acked: list[int] = []

    async def drain(queue: RedisQueue, name: str) -> None:
        batch = 0
        while (held := await queue.claim("acme", 11, LEASE_S)) is not None:
            batch += 1
            await queue.ack(held, held.records, entry(f"{name}-{batch}", held))
            acked.extend(r.id for r in held.records)

    await asyncio.gather(drain(one, "one"), drain(two, "two"))
    counts = (await two.counts()).accounts["acme"]
    assert len(acked) == len(set(acked)) == 300
    assert (counts.pending, counts.leased, counts.sent) == (0, 0, 300)


async def test_a_lease_expires_for_every_replica_alike(
    pair: tuple[RedisQueue, RedisQueue], clock: FakeClock
) -> None:
    """A claim of one replica that runs out is claimable by the other, one attempt further."""
    one, two = pair
    await one.enqueue([rec(), rec("INV2")])
    held = await claim(one)
    assert await two.claim("acme", 10, LEASE_S) is None
    clock.advance(LEASE_S)
    again = await claim(two)
    assert [r.attempts for r in again.records] == [2, 2]
    with pytest.raises(QueueError, match="expired"):
        await one.extend(held, LEASE_S)


async def test_queues_on_other_prefixes_do_not_see_each_other(
    redis_url: str, redis_prefix: str
) -> None:
    """Two prefixes on one server are two queues."""
    async with (
        RedisQueue(redis_url, prefix=f"{redis_prefix}:a", durability="none") as a,
        RedisQueue(redis_url, prefix=f"{redis_prefix}:b", durability="none") as b,
    ):
        await a.enqueue([rec()])
        assert (await b.enqueue([rec()])).changed == 1
        assert (await b.counts()).accounts["acme"].pending == 1
        await claim(a)
        assert await b.due_in() == {"acme": 0.0}


async def test_a_3000_record_claim_and_its_ack_are_one_script_call_each(
    redis_url: str, redis_prefix: str
) -> None:
    """The hot path costs one round trip per claim and one per ack; enqueue one per 1000."""
    calls: list[str] = []

    class Counted(RedisQueue):
        async def _run(self, name: str, *args: object) -> object:
            calls.append(name)
            return await super()._run(name, *args)

    async with Counted(redis_url, prefix=redis_prefix, durability="none") as queue:
        await queue.enqueue([rec(f"INV{n:04d}") for n in range(3000)])
        held = await claim(queue, limit=3000)
        await queue.ack(held, held.records, entry("b1", held))
    assert calls == ["enqueue"] * 3 + ["claim", "ack"]
    assert len(held.records) == 3000


# -- the URL ---------------------------------------------------------------------------


def test_the_url_gives_the_prefix_and_leaves_the_rest_to_redis() -> None:
    """The prefix comes from ?prefix= (default "uploader"); a bad URL is a ConfigError."""
    assert RedisQueue("redis://127.0.0.1:6379/0").prefix == "uploader"
    assert RedisQueue("rediss://h:6380/2?prefix=site-a").prefix == "site-a"
    assert RedisQueue("redis://h/2?prefix=site-a", prefix="x").prefix == "x"
    for url, message in [
        ("redis://h:6379/zero", "the database must be a number"),
        ("redis://h:6379/0?prefix=", "the prefix is empty"),
        ("redis://h:6379/0?prefix=a&prefix=b", "names the prefix twice"),
        ("redis://h:6379/0?durability=low", "the one value is none"),
        ("redis://h:6379/0?durability=none&durability=none", "names the durability twice"),
        ("redis://h:port/0", "the port is not a number"),
        ("redis:///0", "is not redis://host:port/db"),
    ]:
        with pytest.raises(ConfigError, match=message):
            open_queue(url)


async def test_the_url_names_the_database_and_the_prefix(redis_url: str, redis_prefix: str) -> None:
    """redis://host:port/3?prefix=P keeps the queue in database 3, every key under P:."""
    parts = urllib.parse.urlsplit(redis_url)
    url = parts._replace(path="/3", query=f"prefix={redis_prefix}&durability=none").geturl()
    db3 = redis.asyncio.Redis.from_url(parts._replace(path="/3").geturl())
    db0 = redis.asyncio.Redis.from_url(redis_url)
    try:
        async with open_queue(url) as queue:
            await queue.enqueue([rec()])
        keys = [key async for key in db3.scan_iter(match=f"{redis_prefix}:*")]
        assert keys
        assert all(key.startswith(f"{redis_prefix}:".encode()) for key in keys)
        assert [key async for key in db0.scan_iter(match=f"{redis_prefix}:*")] == []
        await db3.delete(*keys)
    finally:
        await db3.aclose()
        await db0.aclose()


async def test_an_unreachable_server_is_a_queue_error_naming_the_url_without_its_password() -> None:
    """Opening a queue on a port nobody listens on fails at once; the password is masked."""
    port = free_port()
    queue = RedisQueue(f"redis://reader:s3cret@127.0.0.1:{port}/0")
    with pytest.raises(QueueError) as caught:
        await queue.open()
    assert f"redis://reader:***@127.0.0.1:{port}/0" in str(caught.value)
    assert "s3cret" not in str(caught.value)
    assert "s3cret" not in repr(queue)
    assert "s3cret" not in repr(RedisQueue(f"redis://127.0.0.1:{port}/0?password=s3cret"))
    with pytest.raises(QueueError, match="not open"):
        await queue.counts()


# -- the optional extra ----------------------------------------------------------------


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=False
    )


def test_without_redis_py_a_redis_url_says_what_to_install() -> None:
    """With the extra missing, open_queue names the pip command; other URLs never need it."""
    child = _python(
        "import sys\n"
        "sys.modules['redis'] = None  # as if redis-py were not installed\n"
        "from uploader.queue import open_queue\n"
        "open_queue('memory:'); open_queue('sqlite:q.db')\n"
        "open_queue('redis://127.0.0.1:6379/0')\n"
    )
    assert "ConfigError" in child.stderr
    assert "pip install 'redex-uploader[redis]'" in child.stderr


def test_the_embedded_backends_do_not_import_redis() -> None:
    """memory: and sqlite: queues load nothing of redis-py."""
    child = _python(
        "import asyncio, sys, tempfile\n"
        "from uploader.queue import open_queue\n"
        "async def main():\n"
        "    async with open_queue('memory:'), open_queue(f'sqlite:{tempfile.mkdtemp()}/q.db'):\n"
        "        pass\n"
        "asyncio.run(main())\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'redis'))\n"
    )
    assert child.stdout.strip() == "[]", child.stderr


async def test_a_ledger_batch_id_is_unique_across_replicas(
    pair: tuple[RedisQueue, RedisQueue],
) -> None:
    """The second ack of a batch id, from another replica, is refused and changes nothing."""
    one, two = pair
    await one.enqueue([rec(), rec("INV2")])
    first, second = await claim(one, limit=1), await claim(two, limit=1)
    await one.ack(first, first.records, entry("b1", first))
    with pytest.raises(QueueError, match="already in the ledger"):
        await two.ack(second, second.records, LedgerEntry("b1", "acme", 1, 0.0, 200, 1, "batch"))
    counts = (await one.counts()).accounts["acme"]
    assert (counts.sent, counts.leased) == (1, 1)


@contextlib.contextmanager
def _evicting_server() -> Iterator[str]:
    """A throwaway redis-server that may evict any key when full (skips without the binary)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("no redis-server binary on PATH to start a server with an evicting policy")
    with throwaway_server(binary, "--maxmemory-policy", "allkeys-lru") as url:
        yield url


async def test_a_server_that_may_evict_queued_records_is_refused() -> None:
    """maxmemory-policy allkeys-* could drop records silently: opening the queue says so."""
    with (
        _evicting_server() as url,
        pytest.raises(QueueError, match="allkeys-lru may evict queued records"),
    ):
        await RedisQueue(url).open()
