"""A fleet of identical replicas on one Redis queue, as real processes against a real server.

Each test starts its own `redis-server` (AOF, every write synced, in the test's folder) and
`uploader run` processes with the same configuration (all three accounts); see `fleet`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import signal
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.integration.push.conftest import ACCOUNTS, expected, held, records_for
from tests.integration.push.fleet import Replica, eventually, sim_options
from tests.redis_server import RedisServer
from uploader.queue import open_queue
from uploader.queue.redis.leases import BEAT_S, TTL_S
from uploader.records import Record
from uploader.simulator import FakeRegistry

pytestmark = pytest.mark.slow

# The stated bound (docs/decisions.md, "Replicas"): a dead replica's accounts are served again
# within TTL_S + BEAT_S; one more second for the processes' scheduling and the probe's polls.
FAILOVER_S = TTL_S + BEAT_S + 1.0


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[Callable[[str, str, str], Replica]]:
    """Makes replicas (name, registry URL, queue URL); any still running is killed at the end."""
    made: list[Replica] = []

    def make(name: str, registry: str, queue: str) -> Replica:
        made.append(Replica(tmp_path, name, registry, queue))
        return made[-1]

    yield make
    for replica in made:
        replica.stop()


async def enqueue(queue: str, records: list[Record]) -> None:
    """Queue the records through the shared queue's URL."""
    async with open_queue(queue) as opened:
        await opened.enqueue(records)


def lines(records: list[Record]) -> bytes:
    """JSON Lines an ingest request carries."""
    return b"\n".join(
        json.dumps({"RemoteInvId": r.remote_inv_id, "Timestamp": r.day.isoformat(),
                    "PeriodProductionInKWh": str(r.period_kwh),
                    "AccumulatedEnergyInKWh": str(r.accumulated_kwh)}).encode()
        for r in records
    )  # fmt: skip


async def shares(*fleet: Replica) -> list[set[str]]:
    """What each replica serves now."""
    return [await replica.serving() for replica in fleet]


async def test_a_killed_replicas_accounts_and_claims_are_served_by_the_survivor(
    own_redis: Callable[..., RedisServer], replicas: Callable[[str, str, str], Replica]
) -> None:
    """Two identical replicas share three accounts; one is SIGKILLed mid-push: the survivor
    serves all three within the bound and its drain delivers every record exactly, no 429."""
    queue = f"{own_redis().url}?prefix=fleet"
    records = records_for(ACCOUNTS, inverters=10, days=60)  # 150 requests per account
    async with FakeRegistry(sim_options()) as sim:
        await enqueue(queue, records)
        one, two = replicas("one", sim.url, queue), replicas("two", sim.url, queue)
        await one.start("--drain")
        await eventually(lambda: one_serves_all(one), 20)
        await two.start("--drain")
        await eventually(lambda: split_between(one, two), 20)
        assert len(held(sim.state())) < len(records)  # mid-push
        one.signal(signal.SIGKILL)
        took = await eventually(lambda: one_serves_all(two), FAILOVER_S + 5)
        assert took < FAILOVER_S, two.log()
        assert await two.wait(120) == 0, two.log()
        state = sim.state()
    assert held(state) == expected(records)
    assert state["rate_limited"] == 0


async def one_serves_all(replica: Replica) -> bool:
    """The replica serves every account."""
    return await replica.serving() == set(ACCOUNTS)


async def split_between(*fleet: Replica) -> bool:
    """Every replica serves a share and together they serve every account."""
    served = await shares(*fleet)
    return all(served) and sum(map(len, served)) == len(ACCOUNTS)


async def test_a_replica_that_joins_mid_push_gets_its_share_and_any_replica_takes_ingest(
    own_redis: Callable[..., RedisServer], replicas: Callable[[str, str, str], Replica]
) -> None:
    """A third replica is handed one account each replica; records posted to it for every
    account are delivered by whoever serves them; no 429, every record exactly once."""
    queue = f"{own_redis().url}?prefix=fleet"
    queued = records_for(ACCOUNTS, inverters=10, days=40)
    posted = records_for(ACCOUNTS, inverters=2, days=10, first=_after(queued))
    async with FakeRegistry(sim_options()) as sim:
        await enqueue(queue, queued)
        one, two, three = (replicas(name, sim.url, queue) for name in ("one", "two", "three"))
        for replica in (one, two):
            await replica.start()
        await eventually(lambda: split_between(one, two), 20)
        await three.start()
        await eventually(lambda: split_between(one, two, three), 20)
        assert [len(s) for s in await shares(one, two, three)] == [1, 1, 1]
        assert len(held(sim.state())) < len(queued)  # mid-push
        for account in ACCOUNTS:
            mine = [r for r in posted if r.account == account]
            assert await three.post(account, lines(mine)) == 202
        everything = expected([*queued, *posted])
        await eventually(lambda: _holds(sim, everything), 60)
        for replica in (one, two, three):
            replica.signal(signal.SIGTERM)
        codes = [await replica.wait() for replica in (one, two, three)]
        state = sim.state()
    assert codes == [0, 0, 0]
    assert held(state) == everything
    assert state["rate_limited"] == 0


async def _holds(sim: FakeRegistry, records: Mapping[Any, Any]) -> bool:
    return held(sim.state()) == records


def _after(records: list[Record]) -> dt.date:
    """The day after the last of `records`."""
    return max(r.day for r in records) + dt.timedelta(days=1)


async def test_a_redis_outage_is_ridden_out_and_readyz_says_so(
    own_redis: Callable[..., RedisServer], replicas: Callable[[str, str, str], Replica]
) -> None:
    """Redis killed for 5 s and restarted from its AOF: no replica exits, /readyz goes 503 and
    back, the log and nothing is lost."""
    server = own_redis()
    queue = f"{server.url}?prefix=fleet"
    records = records_for(ACCOUNTS, inverters=10, days=40)
    async with FakeRegistry(sim_options()) as sim:
        await enqueue(queue, records)
        fleet = [replicas(name, sim.url, queue) for name in ("one", "two")]
        for replica in fleet:
            await replica.start()
        await eventually(lambda: split_between(*fleet), 20)
        server.kill()
        down = time.monotonic()
        await eventually(lambda: _all_status(fleet, 503), 10)
        await asyncio.sleep(max(0.0, down + 5 - time.monotonic()))
        server.start()
        await eventually(lambda: _all_status(fleet, 200), 15)
        await eventually(lambda: _holds(sim, expected(records)), 90)
        assert all(replica.running for replica in fleet)
        for replica in fleet:
            replica.signal(signal.SIGTERM)
        codes = [await replica.wait() for replica in fleet]
    assert codes == [0, 0]
    for replica in fleet:
        assert "queue backend unreachable" in replica.log()
        assert "queue backend reachable again" in replica.log()


async def _all_status(fleet: list[Replica], status: int) -> bool:
    return all([(await replica.ready())[0] == status for replica in fleet])


async def test_a_redis_that_keeps_nothing_on_disk_is_refused_on_start(
    own_redis: Callable[..., RedisServer], replicas: Callable[[str, str, str], Replica]
) -> None:
    """`uploader run` on a server with neither AOF nor RDB exits 2 saying how to proceed."""
    replica = replicas("one", "http://127.0.0.1:9", own_redis(persistent=False).url)
    await replica.start()
    assert await replica.wait(30) == 2
    assert "keeps nothing on disk" in replica.log()
    assert "?durability=none" in replica.log()


async def test_a_redis_that_restarted_empty_stops_the_replica_with_a_clear_error(
    own_redis: Callable[..., RedisServer], replicas: Callable[[str, str, str], Replica]
) -> None:
    """A server without persistence restarted under a replica: it notices the queue's data is
    gone, /readyz says so with 503, it sends nothing more (new records included) and, stopped,
    exits 3."""
    server = own_redis(persistent=False)
    queue = f"{server.url}?prefix=fleet&durability=none"
    records = records_for(ACCOUNTS, inverters=10, days=40)
    later = records_for(ACCOUNTS, inverters=2, days=5, first=_after(records))
    async with FakeRegistry(sim_options()) as sim:
        await enqueue(queue, records)
        replica = replicas("one", sim.url, queue)
        await replica.start()
        await eventually(lambda: one_serves_all(replica), 20)
        server.kill()
        server.start()
        await eventually(lambda: _data_lost(replica), 15)
        await enqueue(queue, later)  # a queue made anew: the lost replica must not serve it
        await asyncio.sleep(3 * BEAT_S)
        state = sim.state()
        assert replica.running
        replica.signal(signal.SIGTERM)
        assert await replica.wait() == 3  # the run's queue lost its data
    delivered = held(state)
    assert not delivered.keys() & expected(later).keys()
    assert "queue data lost" in replica.log()


async def _data_lost(replica: Replica) -> bool:
    status, body = await replica.ready()
    return status == 503 and "queue data lost" in body.get("status", "")
