"""One-inverter endpoints against the simulator: a backfill fills each request, and a monthly
body carries each month as the exact sum of its days."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from tests.integration.push.conftest import SettingsFactory, drain, enqueue, expected, held
from uploader.queue import open_queue
from uploader.records import Record
from uploader.simulator import FakeRegistry
from uploader.simulator.bodies import InverterDays, LegacyBody


def rec(inv: str, day: str | dt.date, period: str, accumulated: str = "0") -> Record:
    """A record of the account "acme"."""
    return Record(
        account="acme",
        remote_inv_id=inv,
        day=day if isinstance(day, dt.date) else dt.date.fromisoformat(day),
        period_kwh=Decimal(period),
        accumulated_kwh=Decimal(accumulated),
    )


def months(sim: FakeRegistry, inv: str, year: int) -> dict[str, str]:
    """The months the simulator holds for one inverter-year, as exact text."""
    held_months: dict[str, Any] = sim.state()["accounts"]["acme"]["monthly"]
    return dict(held_months.get(inv, {}).get(str(year), {}))


@pytest.mark.parametrize("endpoint", ["single", "legacy"])
async def test_a_backfill_of_one_inverter_fills_each_request(
    sim: FakeRegistry, make_settings: SettingsFactory, endpoint: str
) -> None:
    """3,500 days of one inverter go out as two requests, 3,000 days and 500, every value exact."""
    settings = make_settings(sim.url, accounts=("acme",), registry={"endpoint": endpoint})
    first = dt.date(2016, 6, 1)
    records = [
        rec("INV-BF", first + dt.timedelta(days=n), f"{n % 97}.{n % 1000:03d}", str(n))
        for n in range(3500)
    ]
    await enqueue(settings, records)
    code, _ = await drain(settings)
    sizes = [len(b.Data) for b in sim.accepted("acme") if isinstance(b, InverterDays | LegacyBody)]
    assert code == 0
    assert sizes == [3000, 500]
    assert held(sim.state()) == expected(records)


async def test_monthly_sends_the_sum_of_a_months_days(
    sim: FakeRegistry, make_settings: SettingsFactory
) -> None:
    """Two days of one month arrive as their exact sum; a corrected day re-sends the new sum."""
    settings = make_settings(sim.url, accounts=("acme",), registry={"endpoint": "monthly"})
    await enqueue(settings, [rec("MON-2", "2026-01-01", "10"), rec("MON-2", "2026-01-20", "20.125"),
                             rec("MON-2", "2026-02-03", "0.001")])  # fmt: skip
    assert (await drain(settings))[0] == 0
    assert months(sim, "MON-2", 2026) == {"Jan": "30.125", "Feb": "0.001"}
    await enqueue(settings, [rec("MON-2", "2026-01-20", "0.005")])
    assert (await drain(settings))[0] == 0
    assert months(sim, "MON-2", 2026) == {"Jan": "10.005", "Feb": "0.001"}
    async with open_queue(settings.queue) as queue:
        counts = (await queue.counts()).accounts["acme"]
    assert (counts.pending, counts.leased, counts.dead) == (0, 0, 0)


async def test_a_year_goes_in_one_request_across_claim_deadlines(
    sim: FakeRegistry, make_settings: SettingsFactory
) -> None:
    """Days in every month of a year (both sides of the residual-mix deadlines) go as one
    request carrying the twelve sums."""
    settings = make_settings(sim.url, accounts=("acme",), registry={"endpoint": "monthly"})
    records = [rec("MON-3", f"2025-{m:02d}-{d:02d}", f"{m}.{d:03d}") for m in range(1, 13)
               for d in (1, 15, 28)]  # fmt: skip
    await enqueue(settings, records)
    assert (await drain(settings))[0] == 0
    assert len(sim.accepted("acme")) == 1
    sums = {m: sum(Decimal(f"{m}.{d:03d}") for d in (1, 15, 28)) for m in range(1, 13)}
    names = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    assert months(sim, "MON-3", 2025) == {names[m - 1]: str(sums[m]) for m in range(1, 13)}


async def test_a_refused_month_dead_letters_its_days_only(
    sim: FakeRegistry, make_settings: SettingsFactory
) -> None:
    """A refusal naming March dead-letters March's days; January's sum still arrives."""
    sim.add_inverter("acme", "MON-4", capacity_kw=1)  # 24 kWh a day: 744 in March
    settings = make_settings(sim.url, accounts=("acme",), registry={"endpoint": "monthly"})
    days = {"2025-01-01": "5", "2025-01-02": "6.5", "2025-03-01": "400", "2025-03-02": "400"}
    await enqueue(settings, [rec("MON-4", day, period) for day, period in days.items()])
    code, _ = await drain(settings)
    assert code == 1
    assert months(sim, "MON-4", 2025) == {"Jan": "11.5"}
    async with open_queue(settings.queue) as queue:
        dead = await queue.list_dead()
    assert [d.day for d in dead] == ["2025-03-01", "2025-03-02"]
    assert all("PeriodProductionPerMonthInKWh.Mar" in d.reason for d in dead)
