"""A restarted `uploader run` remembers what it sent: its restarts draw no 429 of their own.

Real processes against a simulator whose windows are the uploader's own limits, on a SQLite
and a Redis queue: what one run sent in the current window (kept in the queue) holds back the
next run.
"""

from __future__ import annotations

import asyncio
import random
import signal
import time
import urllib.parse
from pathlib import Path

import pytest
import redis.asyncio

from tests.integration.push.conftest import (
    ACCOUNTS,
    TOKENS,
    enqueue,
    expected,
    held,
    records_for,
    start_uploader,
    write_config,
)
from uploader import config
from uploader.registry.ratespec import RateSpec
from uploader.simulator import FakeRegistry, SimOptions

LIMIT = "8/3s"  # per account, in the uploader and in the simulator alike
LEASE_S = 0.6


def run_config(
    path: Path, url: str, queue: str, *, account: str = LIMIT, timeout_s: float = 5
) -> Path:
    """One configuration for every run: three accounts, short leases, the given limit."""
    limits = f'account = "{account}"\nip = "3000/1s"\n'
    worker = f"lease_s = {LEASE_S}\n"
    return write_config(path, url, queue, limits=limits, worker=worker, timeout_s=timeout_s)


@pytest.fixture(params=["sqlite", "redis"])
def queue(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a SQLite queue, then of a Redis one (a plain fixture, so it may ask for the
    Redis server's async fixtures by name: only the Redis case skips without a server)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'queue.db'}"
    url: str = request.getfixturevalue("redis_url")
    prefix: str = request.getfixturevalue("redis_prefix")
    return f"{url}?prefix={prefix}&durability=none"  # the test server keeps nothing on disk


async def forget_account_leases(queue: str) -> None:
    """What a killed replica's membership does after its time to live, at once (its account
    leases are then free to take)."""
    if not queue.startswith("redis"):
        return
    url, _, query = queue.partition("?")
    prefix = urllib.parse.parse_qs(query)["prefix"][0]
    client = redis.asyncio.Redis.from_url(url)
    try:
        await client.delete(f"{prefix}:members")
    finally:
        await client.aclose()


def delivered(sim: FakeRegistry) -> int:
    """Days the simulator holds, over every account."""
    accounts = sim.state(summary=True)["accounts"].values()
    return sum(account["day_count"] for account in accounts)


async def run_and_kill(config_path: Path, sim: FakeRegistry, after_s: float) -> None:
    """Start `uploader run`, and SIGKILL it `after_s` after its first delivery."""
    before = delivered(sim)
    process = await start_uploader(config_path, "run")
    try:
        async with asyncio.timeout(30):
            while delivered(sim) == before:
                assert process.returncode is None, await process.communicate()
                await asyncio.sleep(0.02)
        await asyncio.sleep(after_s)
    finally:
        process.send_signal(signal.SIGKILL)
        await process.wait()


@pytest.mark.slow
async def test_three_sigkills_draw_no_429_of_our_own(
    queue: str, tmp_path: Path, rand: random.Random
) -> None:
    """Killed three times while it fills the windows, then drained: not one 429, every record
    delivered exactly."""
    options = SimOptions(
        tokens=TOKENS, open_inverters=True, latency_ms=(20.0, 80.0),
        account_limit=RateSpec.parse(LIMIT), account_counts="any",
    )  # fmt: skip
    async with FakeRegistry(options) as sim:
        config_path = run_config(tmp_path / "uploader.toml", sim.url, queue)
        records = records_for(ACCOUNTS, inverters=30, days=40)  # 30 requests an account
        await enqueue(config.load(config_path, env={}), records)
        for _ in range(3):  # each run killed right after a burst: the next starts within W
            await run_and_kill(config_path, sim, rand.uniform(0.0, 0.5))
            await forget_account_leases(queue)
        mid_way = len(held(sim.state()))
        await asyncio.sleep(LEASE_S + 0.1)  # the killed runs' claims are pending again
        drain = await start_uploader(config_path, "run", "--drain")
        out, _ = await drain.communicate()
        state = sim.state()
    assert 0 < mid_way < len(records), "the kills should land mid-way through the work"
    assert drain.returncode == 0, out
    assert state["rate_limited"] == 0
    assert held(state) == expected(records)


async def first_delivery(sim: FakeRegistry, account: str) -> float:
    """The wall-clock time the simulator first holds a record of `account`.

    Polled every 20 ms: the simulator tells nobody when it stores a record.
    """
    async with asyncio.timeout(30):
        while True:
            if sim.state(summary=True)["accounts"].get(account, {}).get("day_count"):
                return time.time()
            await asyncio.sleep(0.02)


@pytest.mark.slow
async def test_a_request_never_answered_still_counts_after_a_restart(tmp_path: Path) -> None:
    """A request stalled when its run was killed holds its slot in the next run until the
    registry timeout and a window have passed: the registry may have counted it."""
    timeout_s, window_s = 4.0, 1.0
    async with FakeRegistry(SimOptions(tokens=TOKENS, open_inverters=True)) as sim:
        sim.script("acme", ["stall"])  # acme's first request is never answered
        queue = f"sqlite:///{tmp_path / 'queue.db'}"
        config_path = run_config(
            tmp_path / "uploader.toml", sim.url, queue, account="1/1s", timeout_s=timeout_s
        )
        records = records_for(ACCOUNTS, inverters=1, days=40)  # one request an account
        await enqueue(config.load(config_path, env={}), records)
        started = time.time()  # acme's request is sent after this
        first = await start_uploader(config_path, "run")
        await first_delivery(sim, "bolt")  # the run is sending: acme's request went with bolt's
        await asyncio.sleep(0.3)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        await asyncio.sleep(LEASE_S + 0.1)  # the stalled claim is pending again
        second = await start_uploader(config_path, "run", "--drain")
        acme_at = await first_delivery(sim, "acme")
        out, _ = await second.communicate()
        state = sim.state()
    assert second.returncode == 0, out
    assert held(state) == expected(records)
    assert acme_at - started >= timeout_s + window_s
