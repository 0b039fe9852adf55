"""A replica cut off from Redis sends nothing once it can no longer prove its leases, and
serves again when Redis is back; the uploader's loops ride the outage out."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from tests.integration.push.conftest import TOKENS, records_for
from tests.integration.queue.helpers import until
from tests.redis_server import RedisServer
from uploader import config
from uploader.push.service import Uploader
from uploader.queue import open_queue
from uploader.queue.redis import leases
from uploader.registry.client import RegistryClient
from uploader.simulator import FakeRegistry, SimOptions

TTL_S, BEAT_S = 1.5, 0.5


def requests(sim: FakeRegistry) -> int:
    """Requests the registry received so far."""
    total: int = sim.state(summary=True)["requests"]["total"]
    return total


async def test_a_replica_that_cannot_prove_its_leases_sends_nothing_until_it_can(
    own_redis: Callable[..., RedisServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Redis frozen: within the time to live the replica stops sending (batches that waited
    for the limiter included) and reports the backend down; thawed, it sends again."""
    monkeypatch.setattr(leases, "TTL_S", TTL_S)
    monkeypatch.setattr(leases, "BEAT_S", BEAT_S)
    server = own_redis()
    records = records_for(("acme",), inverters=10, days=30)
    async with FakeRegistry(SimOptions(tokens=TOKENS, open_inverters=True)) as sim:
        settings = config.from_dict(
            {
                "queue": server.url,
                "registry": {"base_url": sim.url, "max_records_per_request": 5, "timeout_s": 2},
                "limits": {"account": "4/1s", "ip": "3000/1s"},
                "retry": {"base_s": 0.05, "cap_s": 0.3},
                "worker": {"idle_poll_s": 0.05, "poll_statuses": False, "shutdown_timeout_s": 1},
                "accounts": [{"id": "acme", "token": TOKENS["acme"]}],
            }
        )
        async with (
            open_queue(settings.queue) as queue,
            RegistryClient.from_settings(settings) as client,
            queue.account_leases(["acme"]) as held,
        ):
            await queue.enqueue(records)
            uploader = Uploader(settings, queue, client, leases=held)
            running = asyncio.create_task(uploader.run())
            await until(lambda: requests(sim) >= 5, 10)
            server.freeze()
            await asyncio.sleep(TTL_S)  # past the proof of the last heartbeat
            assert not held.provable("acme")
            assert uploader.accounts.serving() == frozenset()
            stopped_at = requests(sim)
            await asyncio.sleep(3 * BEAT_S)
            assert requests(sim) == stopped_at
            assert not held.backend.up
            server.thaw()
            await until(lambda: requests(sim) >= stopped_at + 5, 10)
            assert uploader.accounts.serving() == {"acme"}
            uploader.stop()
            assert await asyncio.wait_for(running, 10) == 0
            assert not running.cancelled()
