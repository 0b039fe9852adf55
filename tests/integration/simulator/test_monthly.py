"""`POST generation-datas/monthly-data`: one inverter, one year of nullable months."""

from __future__ import annotations

import datetime as dt
from typing import Any

from uploader.simulator import FakeRegistry

from .helpers import Api
from .payloads import ACME

MONTHLY = "/generation-datas/monthly-data"


def monthly(rid: str, year: int, **months: Any) -> dict[str, Any]:
    """A monthly body; months not given are null."""
    return {"RemoteInvId": rid, "Data": {"Year": year, "PeriodProductionPerMonthInKWh": months}}


async def test_monthly_data_is_stored_per_inverter_year(api: Api, sim: FakeRegistry) -> None:
    """Months with values are stored under the inverter and year; null months are skipped."""
    sim.add_inverter(ACME, "RM-1")
    answer = await api.post(MONTHLY, json=monthly("RM-1", 2023, Jan=321.111, Feb="12.5", Mar=None))
    assert answer.status == 200
    status = await api.get(
        "/generation-datas/statuses", params={"ProcessId": answer.body["Data"]["ProcessId"]}
    )
    assert status.body["Data"]["ProcessingType"] == "CreateMonthlyData"
    assert sim.state()["accounts"][ACME]["monthly"] == {
        "RM-1": {"2023": {"Jan": "321.111", "Feb": "12.5"}}
    }


async def test_monthly_resend_overwrites_the_given_months(api: Api, sim: FakeRegistry) -> None:
    """A month sent again replaces the stored one; other months stay."""
    sim.add_inverter(ACME, "RM-1")
    await api.post(MONTHLY, json=monthly("RM-1", 2023, Jan="1", Feb="2"))
    await api.post(MONTHLY, json=monthly("RM-1", 2023, Feb="3"))
    assert sim.state()["accounts"][ACME]["monthly"]["RM-1"]["2023"] == {"Jan": "1", "Feb": "3"}


async def test_monthly_rules_report_every_month(api: Api, sim: FakeRegistry) -> None:
    """Future month, negative, 4 decimals and above capacity x 24 h x days are 422s by month."""
    sim.add_inverter(ACME, "RM-1", capacity_kw="1", grid_connection=dt.date(2023, 1, 1))
    body = monthly("RM-1", 2024, Jan="-1", Feb="1.2345", Mar="744.001", Jul="1")
    answer = await api.post(MONTHLY, json=body)
    assert answer.status == 422
    prefix = "Data.PeriodProductionPerMonthInKWh."
    assert list(zip(answer.codes, answer.fields, strict=True)) == [
        ("AboveCapacity", prefix + "Mar"),
        ("FutureDate", prefix + "Jul"),
        ("Negative", prefix + "Jan"),
        ("TooManyDecimals", prefix + "Feb"),
    ]
    assert sim.state()["accounts"][ACME]["monthly"] == {}


async def test_monthly_unknown_inverter_and_future_year(api: Api) -> None:
    """An unknown inverter and a future year are both reported (422)."""
    answer = await api.post(MONTHLY, json=monthly("NOPE", 2025, Jan="1"))
    assert answer.status == 422
    assert answer.fields == ["RemoteInvId", "Data.Year"]


async def test_monthly_unknown_month_name_is_400(api: Api, sim: FakeRegistry) -> None:
    """A month key that is not one of Jan..Dec (such as `July`) is a 400."""
    sim.add_inverter(ACME, "RM-1")
    answer = await api.post(MONTHLY, json=monthly("RM-1", 2023, July="1"))
    assert answer.status == 400
    assert answer.fields == ["Data.PeriodProductionPerMonthInKWh.July"]
