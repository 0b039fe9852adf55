"""Reads: query generation data (paged, range <= 3 months) and processing statuses."""

from __future__ import annotations

import datetime as dt

import aiohttp
import pytest

from uploader.simulator import FakeRegistry, ManualClock

from .helpers import Api, SimFactory, api_for
from .payloads import ACME, OTHER, OTHER_TOKEN, batch, day, days

QUERY = "/generation-datas"
STATUSES = "/generation-datas/statuses"


def query(**params: str | int) -> dict[str, str | int]:
    """Query parameters of a daily read."""
    return {"FrequencyType": "Daily", **params}


async def test_query_returns_stored_days_paged(api: Api, sim: FakeRegistry) -> None:
    """Stored days come back sorted by inverter and day, ItemsPerPage at a time, with Meta."""
    for rid in ("A", "B"):
        sim.add_inverter(ACME, rid)
    body = batch(("B", days(dt.date(2024, 1, 1), 8)), ("A", days(dt.date(2024, 1, 1), 8)))
    await api.post("/generation-datas/batches", json=body)
    params = query(FromDate="2024-01-03", ToDate="2024-03-31", ItemsPerPage=10, CurrentPage=2)
    answer = await api.get(QUERY, params=params)
    assert answer.status == 200
    assert answer.body["Meta"] == {
        "CurrentPage": 2,
        "TotalPage": 2,
        "ItemsPerPage": 10,
        "TotalItems": 12,
    }
    assert [(d["RemoteInvId"], d["Timestamp"]) for d in answer.body["Data"]] == [
        ("B", "2024-01-07"),
        ("B", "2024-01-08"),
    ]
    assert answer.body["Data"][0]["AccumulatedEnergyInKWh"] == "106.000"


async def test_query_one_inverter(api: Api, sim: FakeRegistry) -> None:
    """RemoteInvId narrows the answer to one inverter."""
    for rid in ("A", "B"):
        sim.add_inverter(ACME, rid)
    body = batch(("A", [day("2024-01-01")]), ("B", [day("2024-01-01")]))
    await api.post("/generation-datas/batches", json=body)
    params = query(RemoteInvId="B", FromDate="2024-01-01", ToDate="2024-01-31")
    answer = await api.get(QUERY, params=params)
    assert [d["RemoteInvId"] for d in answer.body["Data"]] == ["B"]


async def test_query_answers_the_accounts_own_data_only(api: Api, sim: FakeRegistry) -> None:
    """Without RemoteInvId all of the account's inverters, never another account's days."""
    sim.add_inverter(ACME, "A")
    sim.add_inverter(OTHER, "THEIRS")
    await api.post("/generation-datas/batches", json=batch(("A", [day("2024-01-01")])))
    theirs = api.as_token(OTHER_TOKEN)
    await theirs.post("/generation-datas/batches", json=batch(("THEIRS", [day("2024-01-01")])))
    window = query(FromDate="2024-01-01", ToDate="2024-01-31")
    mine = await api.get(QUERY, params=window)
    assert [d["RemoteInvId"] for d in mine.body["Data"]] == ["A"]
    named = await api.get(QUERY, params=window | {"RemoteInvId": "THEIRS"})
    assert (named.status, named.fields) == (422, ["RemoteInvId"])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        (query(FromDate="2024-01-01", ToDate="2024-04-02"), "ToDate"),
        (query(FromDate="2024-02-01", ToDate="2024-01-01"), "ToDate"),
        (query(FromDate="2024-1-1", ToDate="2024-01-02"), "FromDate"),
        ({"FromDate": "2024-01-01", "ToDate": "2024-01-02"}, "FrequencyType"),
        (query(FromDate="2024-01-01", ToDate="2024-01-02", ItemsPerPage=5), "ItemsPerPage"),
    ],
)
async def test_query_refuses_bad_parameters(
    api: Api, params: dict[str, str | int], field: str
) -> None:
    """Over 3 months, reversed or bad dates, no frequency or a bad page size: 400s."""
    answer = await api.get(QUERY, params=params)
    assert (answer.status, answer.fields) == (400, [field])


async def test_query_range_of_exactly_3_months_is_allowed(api: Api) -> None:
    """FromDate 2024-01-01 to ToDate 2024-04-01 spans three months and is allowed."""
    answer = await api.get(QUERY, params=query(FromDate="2024-01-01", ToDate="2024-04-01"))
    assert answer.status == 200
    assert answer.body["Data"] == []


async def test_process_goes_new_processing_success(
    make_sim: SimFactory, session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """With a 10 s delay a process is New, Processing, then Success; data appears at the end."""
    sim = await make_sim(process_delay_s=10.0)
    sim.add_inverter(ACME, "A")
    api = api_for(sim, session)
    posted = await api.post("/generation-datas/batches", json=batch(("A", [day("2024-01-01")])))
    params = {"ProcessId": posted.body["Data"]["ProcessId"]}
    seen = []
    for step in (0, 6, 5):
        clock.advance(step)
        answer = await api.get(STATUSES, params=params)
        seen.append(answer.body["Data"]["Status"])
        if step == 6:
            assert sim.state()["accounts"][ACME]["inverters"] == {}
    assert seen == ["New", "Processing", "Success"]
    assert answer.body["Data"]["ProcessingType"] == "CreateNewGenerationData"
    assert "A" in sim.state()["accounts"][ACME]["inverters"]


async def test_failed_process_keeps_nothing(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    """With process_fail_rate 1 the process ends Failed and none of its data is kept."""
    sim = await make_sim(process_fail_rate=1.0)
    sim.add_inverter(ACME, "A")
    api = api_for(sim, session)
    posted = await api.post("/generation-datas/batches", json=batch(("A", [day("2024-01-01")])))
    assert posted.status == 200
    params = {"ProcessId": posted.body["Data"]["ProcessId"]}
    answer = await api.get("/generation-datas/status", params=params)
    assert answer.body["Data"]["Status"] == "Failed"
    state = sim.state()
    assert state["accounts"][ACME]["inverters"] == {}
    assert state["processes"]["Failed"] == 1


async def test_status_of_another_accounts_process_is_403(api: Api, sim: FakeRegistry) -> None:
    """A ProcessId of another account answers 403; an unknown one 404; a missing one 400."""
    sim.add_inverter(ACME, "A")
    posted = await api.post("/generation-datas/batches", json=batch(("A", [day("2024-01-01")])))
    process_id = posted.body["Data"]["ProcessId"]
    other = await api.as_token(OTHER_TOKEN).get(STATUSES, params={"ProcessId": process_id})
    assert other.status == 403
    assert (await api.get(STATUSES, params={"ProcessId": process_id + 1})).status == 404
    assert (await api.get(STATUSES)).status == 400
