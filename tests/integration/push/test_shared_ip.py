"""Replicas behind one address share its IP budget through Redis (`limits.ip_shared`)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

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

IP = RateSpec.parse("10/1s")  # the binding policy, in the uploader and in the simulator alike
POLL_S = 0.01


def replica_config(path: Path, url: str, queue: str, accounts: tuple[str, ...]) -> Path:
    """A replica's configuration: the shared queue and IP budget, its own accounts."""
    limits = f'account = "1000/1s"\nip = "{IP.limit}/{IP.window_s:g}s"\nip_shared = true\n'
    return write_config(path, url, queue, accounts, limits=limits)


class Answers:
    """When the simulator's count of answered requests first and last changed (polled)."""

    def __init__(self, sim: FakeRegistry) -> None:
        self._sim = sim
        self.first: float | None = None
        self.last = 0.0

    async def watch(self) -> None:
        """Sample the count every POLL_S until cancelled."""
        seen = 0
        while True:
            total = self._sim.state(summary=True)["requests"]["total"]
            if total != seen:
                seen, self.last = total, time.monotonic()
                self.first = self.first or self.last
            await asyncio.sleep(POLL_S)

    @property
    def span_s(self) -> float:
        """From the first answer to the last, rounded up by one sampling period."""
        assert self.first is not None
        return self.last - self.first + POLL_S


async def test_two_replicas_share_one_ip_budget_without_a_429(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    """Two replicas with disjoint accounts and one binding IP budget: every record arrives,
    no 429, and at least 0.9 of what the IP's windows allowed was used."""
    options = SimOptions(
        tokens=TOKENS, open_inverters=True, latency_ms=(2.0, 10.0), ip_limit=IP,
        account_limit=RateSpec.parse("1000/1s"),
    )  # fmt: skip
    queue = f"{redis_url}?prefix={redis_prefix}&durability=none"
    async with FakeRegistry(options) as sim:
        first = replica_config(tmp_path / "one.toml", sim.url, queue, ACCOUNTS[:2])
        second = replica_config(tmp_path / "two.toml", sim.url, queue, ACCOUNTS[2:])
        records = records_for(ACCOUNTS, inverters=20, days=40)  # 60 requests: 6 windows' worth
        await enqueue(config.load(first, env={}), records)
        answers = Answers(sim)
        watcher = asyncio.create_task(answers.watch())
        replicas = [await start_uploader(path, "run", "--drain") for path in (first, second)]
        outputs = await asyncio.gather(*(p.communicate() for p in replicas))
        watcher.cancel()
        state = sim.state()
    assert [p.returncode for p in replicas] == [0, 0], outputs
    assert held(state) == expected(records)
    assert state["rate_limited"] == 0
    # A span of T touches at most 1 + T/W windows of the IP's policy, N requests each.
    allowed = IP.limit * (1 + answers.span_s / IP.window_s)
    assert state["requests"]["total"] / allowed >= 0.9
