"""Test hooks: the registry "loses" or "changes" stored days, in Python and over `/_sim/*`."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from uploader.simulator import FakeRegistry

from .helpers import Api, registered
from .payloads import ACME, OTHER, batch, days

JAN = dt.date(2024, 1, 1)


@pytest.fixture
async def stored(api: Api, sim: FakeRegistry) -> FakeRegistry:
    """acme holds ten days (2024-01-01..10) of inverters A and B; other holds A's too."""
    for account in (ACME, OTHER):
        for rid in ("A", "B"):
            sim.add_inverter(account, rid)
    body = batch(("A", days(JAN, 10)), ("B", days(JAN, 10)))
    assert (await api.post("/generation-datas/batches", json=body)).status == 200
    assert (await api.as_token("tok-other").post("/generation-datas", json={
        "RemoteInvId": "A", "Data": days(JAN, 10)})).status == 200  # fmt: skip
    return sim


def held(sim: FakeRegistry, account: str = ACME) -> dict[str, Any]:
    """What the account holds, by inverter and day."""
    inverters: dict[str, Any] = sim.state()["accounts"][account]["inverters"]
    return inverters


async def test_drop_days_forgets_one_inverters_range(stored: FakeRegistry) -> None:
    """drop_days removes exactly the inverter's days in the range; the rest stays."""
    dropped = stored.drop_days(ACME, "A", dt.date(2024, 1, 3), dt.date(2024, 1, 5))
    assert dropped == 3
    assert sorted(held(stored)["A"]) == [f"2024-01-{d:02d}" for d in (1, 2, 6, 7, 8, 9, 10)]
    assert len(held(stored)["B"]) == 10
    assert len(held(stored, OTHER)["A"]) == 10


async def test_drop_days_of_every_inverter(stored: FakeRegistry) -> None:
    """With no inverter named, every inverter of the account loses the range."""
    assert stored.drop_days(ACME, None, dt.date(2024, 1, 10), dt.date(2024, 2, 1)) == 2
    assert [len(held(stored)[rid]) for rid in ("A", "B")] == [9, 9]


async def test_a_query_no_longer_finds_dropped_days(api: Api, stored: FakeRegistry) -> None:
    """After a drop, Query Generation Data answers without those days."""
    stored.drop_days(ACME, "B", JAN, dt.date(2024, 1, 9))
    params = {"FrequencyType": "Daily", "RemoteInvId": "B", "FromDate": "2024-01-01",
              "ToDate": "2024-01-31"}  # fmt: skip
    answer = await api.get("/generation-datas", params=params)
    assert [d["Timestamp"] for d in answer.body["Data"]] == ["2024-01-10"]


async def test_alter_day_changes_a_stored_value_exactly(api: Api, stored: FakeRegistry) -> None:
    """alter_day gives a stored day another value; the query answers it, to the last digit."""
    stored.alter_day(ACME, "A", dt.date(2024, 1, 2), produced="7.125")
    params = {"FrequencyType": "Daily", "RemoteInvId": "A", "FromDate": "2024-01-02",
              "ToDate": "2024-01-02"}  # fmt: skip
    [record] = (await api.get("/generation-datas", params=params)).body["Data"]
    assert (record["PeriodProductionInKWh"], record["AccumulatedEnergyInKWh"]) == (
        "7.125",
        "101.000",
    )


async def test_alter_day_of_a_day_not_held_is_a_key_error(stored: FakeRegistry) -> None:
    """Only a stored day can be altered."""
    with pytest.raises(KeyError):
        stored.alter_day(ACME, "A", dt.date(2024, 2, 1), produced="1")


async def test_the_sim_routes_drop_and_alter(api: Api, stored: FakeRegistry) -> None:
    """`/_sim/drop-days` and `/_sim/alter-day` do the same over HTTP, with no token."""
    anonymous = api.as_token(None)
    drop = {"Account": ACME, "RemoteInvId": "A", "FromDate": "2024-01-01", "ToDate": "2024-01-04"}
    answer = await anonymous.post("/_sim/drop-days", json=drop)
    assert (answer.status, answer.body) == (200, {"dropped": 4})
    alter = {"Account": ACME, "RemoteInvId": "B", "Timestamp": "2024-01-05",
             "AccumulatedEnergyInKWh": 9999.999}  # fmt: skip
    assert (await anonymous.post("/_sim/alter-day", json=alter)).status == 200
    assert held(stored)["B"]["2024-01-05"]["AccumulatedEnergyInKWh"] == "9999.999"
    assert len(held(stored)["A"]) == 6
    missing = await anonymous.post("/_sim/alter-day", json=alter | {"Timestamp": "2024-03-01"})
    assert missing.status == 404
    bad = await anonymous.post("/_sim/drop-days", json={"Account": ACME})
    assert bad.status == 400


async def test_the_sim_route_decides_a_rec_application(api: Api) -> None:
    """`/_sim/rec-status` sets a REC application's status; the list shows it."""
    device = await registered(api)
    body = {"VintageFrom": "2024-01-01", "VintageTo": "2024-01-31", "DeviceId": device}
    rec_id = (await api.post("/rec-applications/grouped-device", json=body)).body["Data"]["Id"]
    anonymous = api.as_token(None)
    decided = await anonymous.post("/_sim/rec-status", json={"Id": rec_id, "Status": "Approved"})
    assert decided.status == 200
    [item] = (await api.get("/rec-applications")).body["Data"]
    assert item["Status"] == {"Value": "Approved", "Description": "Approved"}
    unknown = await anonymous.post("/_sim/rec-status", json={"Id": "nope", "Status": "Approved"})
    assert unknown.status == 404
    wrong = await anonymous.post("/_sim/rec-status", json={"Id": rec_id, "Status": "Done"})
    assert wrong.status == 400
