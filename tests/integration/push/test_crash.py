"""SIGKILL at random moments loses nothing: the next run delivers every record."""

from __future__ import annotations

import asyncio
import random
import signal
from pathlib import Path

from tests.integration.push.conftest import (
    ACCOUNTS,
    TOKENS,
    drain,
    enqueue,
    expected,
    held,
    records_for,
    start_uploader,
)
from uploader import config
from uploader.registry.ratespec import RateSpec
from uploader.simulator import FakeRegistry, SimOptions


def write_config(path: Path, url: str, queue: Path, lease_s: float = 0.6) -> None:
    """An `uploader run` configuration: a slow account budget, 40 records a request."""
    accounts = "".join(f'[[accounts]]\nid = "{a}"\ntoken = "{TOKENS[a]}"\n' for a in ACCOUNTS)
    path.write_text(
        f'queue = "sqlite:///{queue}"\n'
        f'[registry]\nbase_url = "{url}"\nmax_records_per_request = 40\ntimeout_s = 5\n'
        '[limits]\naccount = "5/1s"\nip = "3000/1s"\n'
        f"[worker]\nlease_s = {lease_s}\nidle_poll_s = 0.05\nshutdown_timeout_s = 1\n"
        '[server]\nlisten = "127.0.0.1:0"\n'
        '[log]\nlevel = "warning"\n' + accounts
    )


async def run_and_kill(config_path: Path, after_s: float) -> int | None:
    """Start `uploader run` and SIGKILL it after `after_s`; its exit code if it ended first."""
    process = await start_uploader(config_path, "run")
    try:
        return await asyncio.wait_for(process.wait(), timeout=after_s)
    except TimeoutError:
        process.send_signal(signal.SIGKILL)
        await process.wait()
        return None


async def test_three_sigkills_lose_nothing(tmp_path: Path, rand: random.Random) -> None:
    """Killed three times mid-flight, the uploader still gets every record to the registry."""
    options = SimOptions(
        tokens=TOKENS,
        open_inverters=True,
        latency_ms=(20.0, 80.0),
        account_limit=RateSpec.parse("1000/1s"),
    )
    async with FakeRegistry(options) as sim:
        config_path = tmp_path / "uploader.toml"
        write_config(config_path, sim.url, tmp_path / "queue.db")
        settings = config.load(config_path, env={})
        records = records_for(ACCOUNTS, inverters=30, days=40)  # 90 requests, >= 5 s of budget
        await enqueue(settings, records)
        for _ in range(3):
            assert await run_and_kill(config_path, rand.uniform(0.8, 1.5)) is None
        mid_way = len(held(sim.state()))
        await asyncio.sleep(0.7)  # every lease of the killed runs has expired
        code, _ = await drain(settings)
        state = sim.state()
    assert 0 < mid_way < len(records), "the kills should land mid-way through the work"
    assert code == 0
    assert held(state) == expected(records)
