"""A push harness: a simulator on 127.0.0.1:0, a real SQLite queue, the real uploader."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from uploader import config
from uploader.demo import fleet
from uploader.push.service import Uploader
from uploader.queue import open_queue
from uploader.records import Record
from uploader.registry.client import RegistryClient
from uploader.simulator import FakeRegistry, SimOptions

ACCOUNTS = ("acme", "bolt", "cera")
TOKENS = {account: f"tok-{account}" for account in ACCOUNTS}

SettingsFactory = Callable[..., config.Settings]


def records_for(
    accounts: tuple[str, ...], inverters: int, days: int, first: dt.date = dt.date(2026, 9, 1)
) -> list[Record]:
    """A plausible fleet's records: `inverters` per account, `days` each."""
    return list(fleet.records(fleet.inverters(list(accounts), inverters), fleet.days(first, days)))


def over_capacity(sim: FakeRegistry) -> tuple[list[Record], Record]:
    """acme's 50 records of 5 inverters the simulator knows (100 kW each), and one more record
    above what such an inverter can make in a day: the registry refuses it, naming it."""
    records = records_for(("acme",), inverters=5, days=10, first=dt.date(2026, 10, 1))
    for rid in {r.remote_inv_id for r in records}:
        sim.add_inverter("acme", rid, capacity_kw=100)
    bad = Record(
        account="acme",
        remote_inv_id=records[0].remote_inv_id,
        day=dt.date(2026, 9, 30),
        period_kwh=Decimal("2400.001"),
        accumulated_kwh=Decimal("1"),
    )
    return records, bad


def held(state: dict[str, Any]) -> dict[tuple[str, str, str], tuple[Decimal, Decimal]]:
    """What the simulator holds: (account, inverter, day) -> exact values."""
    out = {}
    for account, data in state["accounts"].items():
        for rid, days in data["inverters"].items():
            for day, values in days.items():
                out[(account, rid, day)] = (
                    Decimal(values["PeriodProductionInKWh"]),
                    Decimal(values["AccumulatedEnergyInKWh"]),
                )
    return out


def expected(records: list[Record]) -> dict[tuple[str, str, str], tuple[Decimal, Decimal]]:
    """The latest value of every key, as the simulator must end up holding it."""
    return {
        (r.account, r.remote_inv_id, r.day.isoformat()): (r.period_kwh, r.accumulated_kwh)
        for r in records
    }


@pytest.fixture
async def sim() -> AsyncIterator[FakeRegistry]:
    """A simulator with static tokens for the three test accounts and open inverters."""
    async with FakeRegistry(SimOptions(tokens=TOKENS, open_inverters=True)) as registry:
        yield registry


@pytest.fixture
def make_settings(tmp_path: Path) -> SettingsFactory:
    """Settings pointing at a simulator URL, with a SQLite queue in tmp_path."""

    def make(url: str, accounts: tuple[str, ...] = ACCOUNTS, **tables: Any) -> config.Settings:
        raw: dict[str, Any] = {
            "queue": f"sqlite:///{tmp_path / 'queue.db'}",
            "registry": {"base_url": url, "timeout_s": 5, **tables.pop("registry", {})},
            "limits": {"account": "1000/1s", "ip": "3000/1s", **tables.pop("limits", {})},
            "retry": {"base_s": 0.01, "cap_s": 0.2, **tables.pop("retry", {})},
            "worker": {
                "idle_poll_s": 0.05,
                "status_poll_interval_s": 0.05,
                "shutdown_timeout_s": 2,
                **tables.pop("worker", {}),
            },
            "accounts": [{"id": a, "token": TOKENS.get(a, "wrong")} for a in accounts],
            **tables,
        }
        return config.from_dict(raw)

    return make


async def enqueue(settings: config.Settings, records: list[Record]) -> None:
    """Put records into the settings' queue."""
    async with open_queue(settings.queue) as queue:
        await queue.enqueue(records)


async def drain(settings: config.Settings) -> tuple[int, Uploader]:
    """Run the uploader with --drain semantics; returns its exit code and itself."""
    async with (
        open_queue(settings.queue) as queue,
        RegistryClient.from_settings(settings) as client,
    ):
        uploader = Uploader(settings, queue, client)
        code = await uploader.run(drain=True)
        return code, uploader


def write_config(
    path: Path,
    url: str,
    queue: str,
    accounts: tuple[str, ...] = ACCOUNTS,
    *,
    limits: str = 'account = "1000/1s"\nip = "3000/1s"\n',
    worker: str = "",
    timeout_s: float = 5,
) -> Path:
    """A configuration file for `uploader run` in a subprocess: static tokens, 40 records a
    request, quick idle polls, quiet logs, any free port; `limits` and `worker` are TOML lines."""
    listed = "".join(f'[[accounts]]\nid = "{a}"\ntoken = "{TOKENS[a]}"\n' for a in accounts)
    path.write_text(
        f'queue = "{queue}"\n'
        f'[registry]\nbase_url = "{url}"\nmax_records_per_request = 40\ntimeout_s = {timeout_s}\n'
        f"[limits]\n{limits}"
        f"[worker]\nidle_poll_s = 0.05\nshutdown_timeout_s = 1\n{worker}"
        '[server]\nlisten = "127.0.0.1:0"\n'
        '[log]\nlevel = "warning"\n' + listed
    )
    return path


async def start_uploader(
    config_path: Path, *args: str, env: dict[str, str] | None = None
) -> asyncio.subprocess.Process:
    """`uploader --config PATH ARGS...` in a subprocess, stdout and stderr on one pipe."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "uploader",
        "--config",
        str(config_path),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
