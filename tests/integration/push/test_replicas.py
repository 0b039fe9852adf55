"""Replicas on one Redis queue: each serves its own accounts, and none may share an account."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from tests.integration.push.conftest import (
    TOKENS,
    enqueue,
    expected,
    held,
    records_for,
    start_uploader,
)
from uploader import config
from uploader.registry.ratespec import RateSpec
from uploader.simulator import FakeRegistry, SimOptions

LIMIT = "8/1s"  # per account, in the uploader and in the simulator alike


def write_config(path: Path, url: str, queue: str, accounts: tuple[str, ...]) -> Path:
    """A replica's configuration: the shared queue, its own accounts."""
    listed = "".join(f'[[accounts]]\nid = "{a}"\ntoken = "{TOKENS[a]}"\n' for a in accounts)
    path.write_text(
        f'queue = "{queue}"\n'
        f'[registry]\nbase_url = "{url}"\nmax_records_per_request = 25\ntimeout_s = 5\n'
        f'[limits]\naccount = "{LIMIT}"\nip = "3000/1s"\n'
        "[worker]\nidle_poll_s = 0.05\nshutdown_timeout_s = 2\n"
        '[server]\nlisten = "127.0.0.1:0"\n'
        '[log]\nlevel = "warning"\n' + listed
    )
    return path


async def test_two_replicas_drain_their_own_accounts_from_one_queue(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    """Two `run --drain` processes share one Redis queue; every record arrives, with no 429."""
    options = SimOptions(
        tokens=TOKENS, open_inverters=True, latency_ms=(2.0, 20.0),
        account_limit=RateSpec.parse(LIMIT),
    )  # fmt: skip
    queue = f"{redis_url}?prefix={redis_prefix}"
    async with FakeRegistry(options) as sim:
        first = write_config(tmp_path / "one.toml", sim.url, queue, ("acme", "bolt"))
        second = write_config(tmp_path / "two.toml", sim.url, queue, ("cera",))
        records = records_for(("acme", "bolt", "cera"), inverters=6, days=25)
        await enqueue(config.load(first, env={}), records)
        replicas = [await start_uploader(path, "run", "--drain") for path in (first, second)]
        outputs = await asyncio.gather(*(p.communicate() for p in replicas))
        state = sim.state()
    assert [p.returncode for p in replicas] == [0, 0], outputs
    assert held(state) == expected(records)
    assert state["rate_limited"] == 0


async def test_a_replica_refuses_an_account_another_one_serves(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    """The second replica exits 2 naming the shared account; the first serves on, then stops."""
    queue = f"{redis_url}?prefix={redis_prefix}"
    async with FakeRegistry(SimOptions(tokens=TOKENS, open_inverters=True)) as sim:
        first = write_config(tmp_path / "one.toml", sim.url, queue, ("acme", "bolt"))
        second = write_config(tmp_path / "two.toml", sim.url, queue, ("bolt", "cera"))
        serving = await start_uploader(first, "run")
        try:
            await asyncio.sleep(1.5)  # started, accounts leased
            refused = await start_uploader(second, "run")
            out, _ = await asyncio.wait_for(refused.communicate(), timeout=30)
        finally:
            serving.send_signal(signal.SIGTERM)
            await asyncio.wait_for(serving.wait(), timeout=30)
    assert refused.returncode == 2
    assert b"'bolt' is served by replica" in out
    assert serving.returncode == 0
