"""`uploader demo`: a simulated registry, a generated fleet, and the upload, end to end.

The simulator runs in this process with the seed's per-account rate on a window ten times
shorter (5 requests per 6 s is the rate of 50 per 60 s), a little latency and a few faults.
The fleet's inverters are registered in it, two records are deliberately impossible, and the
uploader drains the queue exactly as `uploader run --drain` would.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from uploader import config
from uploader.demo import fleet
from uploader.demo.view import ProgressView
from uploader.push.service import Uploader
from uploader.queue import open_queue
from uploader.records import Record
from uploader.registry.client import RegistryClient
from uploader.registry.ratespec import RateSpec
from uploader.simulator import FakeRegistry, SimOptions

REDRAW_S = 0.5


@dataclass(frozen=True)
class DemoPlan:
    """What the demo generates and how the simulated registry behaves."""

    accounts: tuple[str, ...] = ("sunrise", "equator", "monsoon")
    inverters: int = 1000
    days: int = 60
    account_rate: str = "5/6s"
    ip_rate: str = "300/30s"
    latency_ms: tuple[float, float] = (20.0, 120.0)
    fail_rate: float = 0.03
    reset_rate: float = 0.01

    @classmethod
    def quick(cls) -> DemoPlan:
        """A shortened run for CI: a smaller fleet, shorter windows."""
        return cls(inverters=500, days=60, account_rate="5/1s", ip_rate="300/5s")

    @property
    def tokens(self) -> dict[str, str]:
        """Demo tokens, one per account (not secrets: the simulator made them up)."""
        return {account: f"demo-{account}" for account in self.accounts}

    def sim_options(self) -> SimOptions:
        """The simulated registry's behaviour."""
        return SimOptions(
            tokens=self.tokens,
            account_limit=RateSpec.parse(self.account_rate),
            ip_limit=RateSpec.parse(self.ip_rate),
            latency_ms=self.latency_ms,
            fail_rate=self.fail_rate,
            reset_rate=self.reset_rate,
            process_delay_s=1.0,
            seed=42,
        )


def settings_for(plan: DemoPlan, url: str, workdir: Path) -> dict[str, Any]:
    """The uploader's configuration for the demo, as a TOML-shaped mapping."""
    return {
        "queue": f"sqlite:///{workdir.resolve() / 'queue.db'}",
        "registry": {"base_url": url, "timeout_s": 10},
        "limits": {"account": plan.account_rate, "ip": plan.ip_rate},
        "retry": {"base_s": 0.2, "cap_s": 2.0},
        "worker": {"idle_poll_s": 0.2, "status_poll_interval_s": 1.0},
        "log": {"level": "error"},
        "accounts": [{"id": a, "token": t} for a, t in plan.tokens.items()],
    }


def write_toml(raw: Mapping[str, Any], path: Path) -> None:
    """A small TOML writer for the demo's flat configuration (so `uploader status` works)."""
    lines = [f'queue = "{raw["queue"]}"']
    for table in ("registry", "limits", "retry", "worker", "log"):
        lines.append(f"\n[{table}]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in raw[table].items()]
    for account in raw["accounts"]:
        lines.append("\n[[accounts]]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in account.items()]
    path.write_text("\n".join(lines) + "\n")


def _toml_value(value: object) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value).lower()


def impossible_records(inverters: list[fleet.Inverter], day: dt.date) -> list[Record]:
    """Two typos an operator might make: a day's production above capacity x 24 h."""
    return [
        Record(
            account=inv.account,
            remote_inv_id=inv.remote_inv_id,
            day=day,
            period_kwh=inv.capacity_kw * 24 * 10,
            accumulated_kwh=inv.meter_start_kwh,
            source="demo: a deliberate typo",
        )
        for inv in inverters[:2]
    ]


async def run_demo(plan: DemoPlan, workdir: Path, out: TextIO = sys.stdout) -> int:
    """Run the whole demo in an existing `workdir`; 0 when it went as it should.

    As it should: every good record held by the registry with its exact value, and the two
    impossible records refused into the dead letters.
    """
    async with FakeRegistry(plan.sim_options()) as sim:
        raw = settings_for(plan, sim.url, workdir)
        write_toml(raw, workdir / "uploader.toml")
        settings = config.from_dict(raw)
        out.write(
            f"registry simulator on {sim.url} (limits {plan.account_rate} per account, "
            f"{plan.ip_rate} per IP; faults: {plan.fail_rate:.0%} 5xx, "
            f"{plan.reset_rate:.0%} resets)\n"
        )
        records, totals = await _prepare(plan, sim, settings, out)
        started = time.monotonic()
        code, uploader = await _upload(settings, totals, out)
        elapsed = time.monotonic() - started
        await _processed(sim)
        verified = _summary(plan, uploader, sim, records, totals, elapsed, workdir, out)
    refused = sum(uploader.stats.records_rejected.values())
    return 0 if code == 1 and verified == len(records) and refused == 2 else 1


async def _processed(sim: FakeRegistry, timeout_s: float = 10.0) -> None:
    """Wait until the registry has processed every accepted batch (it works asynchronously)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        processes = sim.state(summary=True)["processes"]
        if processes["New"] == 0 and processes["Processing"] == 0:
            return
        await asyncio.sleep(0.1)


async def _prepare(
    plan: DemoPlan, sim: FakeRegistry, settings: config.Settings, out: TextIO
) -> tuple[list[Record], dict[str, int]]:
    inverters = fleet.inverters(list(plan.accounts), plan.inverters)
    first = dt.date.today() - dt.timedelta(days=plan.days)
    for inv in inverters:
        sim.add_inverter(
            inv.account,
            inv.remote_inv_id,
            capacity_kw=inv.capacity_kw,
            grid_connection=first - dt.timedelta(days=365),
        )
    records = list(fleet.records(inverters, fleet.days(first, plan.days)))
    bad = impossible_records(inverters, first - dt.timedelta(days=1))
    started = time.monotonic()
    async with open_queue(settings.queue) as queue:
        await queue.enqueue([*records, *bad])
    out.write(
        f"fleet: {len(plan.accounts)} accounts x {plan.inverters:,} inverters x "
        f"{plan.days} days = {len(records):,} records (+{len(bad)} impossible ones), "
        f"queued in {time.monotonic() - started:.1f}s\n\n"
    )
    totals = {a: sum(1 for r in records if r.account == a) for a in plan.accounts}
    for record in bad:
        totals[record.account] += 1
    return records, totals


async def _upload(
    settings: config.Settings, totals: dict[str, int], out: TextIO
) -> tuple[int, Uploader]:
    async with (
        open_queue(settings.queue) as queue,
        RegistryClient.from_settings(settings) as client,
    ):
        uploader = Uploader(settings, queue, client)
        view = ProgressView(
            uploader,
            totals,
            RateSpec.parse(settings.limits.account),
            RateSpec.parse(settings.limits.ip),
            out,
        )
        run = asyncio.create_task(uploader.run(drain=True), name="demo-upload")
        while not run.done():
            view.draw()
            await asyncio.wait([run], timeout=REDRAW_S)
        view.draw()
        return run.result(), uploader


def _summary(
    plan: DemoPlan,
    uploader: Uploader,
    sim: FakeRegistry,
    records: list[Record],
    totals: dict[str, int],
    elapsed: float,
    workdir: Path,
    out: TextIO,
) -> int:
    state = sim.state()
    stats = uploader.stats
    rate = RateSpec.parse(plan.account_rate)
    per_account = max(math.ceil(n / 3000) for n in totals.values())
    least = max(0.0, (per_account - rate.limit) / rate.per_second)
    out.write("\n  account     records sent  requests  rejected\n")
    for account in plan.accounts:
        out.write(
            f"  {account:<10} {stats.records_sent[account]:>13,} "
            f"{stats.requests[account]:>9} {stats.records_rejected[account]:>9}\n"
        )
    verified = _verify(state, records)
    out.write(
        f"\n  done in {elapsed:.1f}s (the windows allow it in no less than about {least:.0f}s)\n"
        f"  429s the registry sent: {state['rate_limited']}   retries after faults: "
        f"{stats.retries}\n"
        f"  registry holds {verified:,} of {len(records):,} good records, every value exact\n"
        f"  queue and ledger: {workdir / 'queue.db'}\n"
        f"  dead letters:     uploader --config {workdir / 'uploader.toml'} dead-letter list\n"
    )
    return verified


def _verify(state: Mapping[str, Any], records: list[Record]) -> int:
    held = state["accounts"]
    exact = 0
    for r in records:
        day = held.get(r.account, {}).get("inverters", {}).get(r.remote_inv_id, {})
        values = day.get(r.day.isoformat())
        if values and Decimal(values["PeriodProductionInKWh"]) == r.period_kwh:
            exact += 1
    return exact
