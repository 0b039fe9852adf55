"""`uploader run` on an SQLite file, as processes: one runner per file, a drain that ends only
once every record was delivered whatever runners died before it, and `status` after a kill."""

from __future__ import annotations

import asyncio
import json
import random
import signal
from pathlib import Path

from tests.integration.push.conftest import (
    ACCOUNTS,
    TOKENS,
    enqueue,
    expected,
    held,
    records_for,
    start_uploader,
)
from tests.integration.push.test_crash import run_and_kill, write_config
from uploader import config
from uploader.queue import open_queue
from uploader.records import Record
from uploader.registry.ratespec import RateSpec
from uploader.simulator import FakeRegistry, SimOptions

LEASE_S = 120.0  # the default: a killed runner's claims outlive every test here


def options() -> SimOptions:
    """A simulator that answers in 20-80 ms and never limits: the uploader's budget paces."""
    return SimOptions(
        tokens=TOKENS,
        open_inverters=True,
        latency_ms=(20.0, 80.0),
        account_limit=RateSpec.parse("1000/1s"),
    )


async def killed_mid_push(
    tmp_path: Path, sim: FakeRegistry, rand: random.Random, kills: int
) -> tuple[Path, list[Record]]:
    """Records queued and `uploader run` SIGKILLed `kills` times mid-push: the config and
    the records; the kills left claims behind."""
    config_path = tmp_path / "uploader.toml"
    write_config(config_path, sim.url, tmp_path / "queue.db", lease_s=LEASE_S)
    settings = config.load(config_path, env={})
    records = records_for(ACCOUNTS, inverters=30, days=40)  # 90 requests, >= 6 s of budget
    await enqueue(settings, records)
    for _ in range(kills):
        assert await run_and_kill(config_path, rand.uniform(0.8, 1.5)) is None
    async with open_queue(settings.queue) as queue:
        assert await queue.in_flight() > 0, "the kills should leave claimed records"
    return config_path, records


async def test_a_drain_after_sigkills_delivers_every_record(
    tmp_path: Path, rand: random.Random
) -> None:
    """Runs killed mid-push leave claims; `run --drain` frees them at once and exits 0 only
    with every record at the registry."""
    async with FakeRegistry(options()) as sim:
        config_path, records = await killed_mid_push(tmp_path, sim, rand, kills=3)
        drain = await start_uploader(config_path, "run", "--drain")
        output, _ = await asyncio.wait_for(drain.communicate(), timeout=60)
        state = sim.state()
    assert drain.returncode == 0, output.decode()
    assert held(state) == expected(records)


async def test_status_after_a_kill_counts_the_dead_runners_records_as_pending(
    tmp_path: Path, rand: random.Random
) -> None:
    """After a SIGKILL, `status` counts the killed runner's claims as pending, and their age."""
    async with FakeRegistry(options()) as sim:
        config_path, records = await killed_mid_push(tmp_path, sim, rand, kills=1)
        status = await start_uploader(config_path, "status", "--json")
        output, _ = await asyncio.wait_for(status.communicate(), timeout=30)
    assert status.returncode == 0, output.decode()
    total = json.loads(output.decode().strip().splitlines()[-1])["total"]
    assert total["leased"] == 0
    assert total["pending"] == len(records) - total["sent"] > 0
    assert total["oldest_pending_age_s"] >= 0.8  # queued before the run that was killed


async def test_a_second_run_on_one_queue_file_exits_2_naming_the_first(tmp_path: Path) -> None:
    """While one `uploader run` serves a queue file, a second exits 2 naming the first's pid."""
    async with FakeRegistry(options()) as sim:
        config_path = tmp_path / "uploader.toml"
        write_config(config_path, sim.url, tmp_path / "queue.db", lease_s=LEASE_S)
        first = await start_uploader(config_path, "run")
        try:
            await _until_locked(tmp_path / "queue.db.lock", first.pid)
            second = await start_uploader(config_path, "run")
            output, _ = await asyncio.wait_for(second.communicate(), timeout=30)
        finally:
            first.send_signal(signal.SIGTERM)
            first_output, _ = await asyncio.wait_for(first.communicate(), timeout=30)
    assert second.returncode == 2, output.decode()
    assert f"pid {first.pid}" in output.decode()
    assert first.returncode == 0, first_output.decode()


async def _until_locked(lock: Path, pid: int) -> None:
    """Wait until the runner `pid` has written itself into the lock file."""
    for _ in range(200):
        if _names(lock, pid):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{lock} never named pid {pid}")


def _names(lock: Path, pid: int) -> bool:
    return lock.exists() and lock.read_text().strip() == str(pid)
