"""Application lists: `GET device-applications` and `GET rec-applications`, paged, own only."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from uploader.simulator import FakeRegistry, ManualClock

from .helpers import Api, SimFactory, api_for, registered
from .payloads import OTHER_TOKEN, batch, day

DEVICE_APPS = "/device-applications"
REC_APPS = "/rec-applications"
ISSUE = "/rec-applications/grouped-device"
RID = "RM1000020003386274014"  # the seed registration's inverter


async def _filed(api: Api, device: str, first: str, last: str) -> str:
    body = {"VintageFrom": first, "VintageTo": last, "DeviceId": device}
    answer = await api.post(ISSUE, json=body)
    assert answer.status == 201, answer.body
    rec_id: str = answer.body["Data"]["Id"]
    return rec_id


async def test_device_applications_list_each_with_status_and_inverters(api: Api) -> None:
    """Each registered application is listed with its Id, group, status and inverters."""
    device = await registered(api)
    answer = await api.get(DEVICE_APPS)
    assert answer.status == 200
    assert answer.body["Meta"] == {
        "CurrentPage": 1,
        "TotalPage": 1,
        "ItemsPerPage": 100,
        "TotalItems": 1,
    }
    [item] = answer.body["Data"]
    assert item["Id"] == device
    assert item["Status"] == {"Value": "Approved", "Description": "Approved"}
    assert (item["CountryCode"], item["Province"]) == ("SG", "Singapore")
    assert item["GenerationDataFrequency"] == "Daily"
    assert [i["RemoteInvId"] for i in item["Inverters"]] == [RID]
    assert isinstance(item["Inverters"][0]["Id"], int)


async def test_device_applications_are_paged_oldest_first(api: Api) -> None:
    """Eleven applications make two pages of ten, in order of registration."""
    devices = [await registered(api) for _ in range(11)]
    first = await api.get(DEVICE_APPS, params={"ItemsPerPage": 10})
    second = await api.get(DEVICE_APPS, params={"ItemsPerPage": 10, "CurrentPage": 2})
    assert [i["Id"] for i in first.body["Data"] + second.body["Data"]] == devices
    assert second.body["Meta"]["TotalPage"] == 2
    bad = await api.get(DEVICE_APPS, params={"CurrentPage": 0})
    assert (bad.status, bad.fields) == (400, ["CurrentPage"])


async def test_a_device_application_is_in_progress_until_approved(
    make_sim: SimFactory, session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """With approval_delay_s 30 an application is InProgress, then Approved 30 s later."""
    api = api_for(await make_sim(approval_delay_s=30.0), session)
    await registered(api)
    statuses = []
    for step in (0, 29.9, 0.1):
        clock.advance(step)
        statuses.append((await api.get(DEVICE_APPS)).body["Data"][0]["Status"])
    assert statuses == [
        {"Value": "InProgress", "Description": "In Progress"},
        {"Value": "InProgress", "Description": "In Progress"},
        {"Value": "Approved", "Description": "Approved"},
    ]


async def test_lists_hold_only_the_accounts_own_applications(api: Api) -> None:
    """Another account sees none of acme's device or REC applications."""
    device = await registered(api)
    await _filed(api, device, "2024-01-01", "2024-01-31")
    theirs = api.as_token(OTHER_TOKEN)
    for path in (DEVICE_APPS, REC_APPS):
        answer = await theirs.get(path)
        assert (answer.status, answer.body["Data"], answer.body["Meta"]["TotalItems"]) == (
            200,
            [],
            0,
        )


async def test_a_rec_application_lists_the_pages_fields(api: Api) -> None:
    """A filed application is listed InProgress with its device, vintage and exact MWh."""
    device = await registered(api)
    data = [day("2023-06-30", "100.000"), day("2023-07-01", "250.125"), day("2023-07-02", "0.5")]
    posted = await api.post("/generation-datas/batches", json=batch((RID, data)))
    assert posted.status == 200
    rec_id = await _filed(api, device, "2023-06-01", "2023-07-31")  # before JULY, 2023 is left out
    answer = await api.get(REC_APPS)
    [item] = answer.body["Data"]
    assert item["Quantity"] == "0.250625"
    expected: dict[str, Any] = {
        "Id": rec_id,
        "ApplicationNumber": "RA0000001",
        "DeviceId": device,
        "DeviceName": "SEASolar-Singapore-20240516001",
        "DeviceType": {"Value": "Grouped", "Description": "Grouped"},
        "CountryCode": "SG",
        "ProvinceCode": "Singapore",
        "Energy": "Solar",
        "FuelType": "Group Solar Rooftop",
        "Registry": {"Value": "IREC", "Description": "I-REC"},
        "Status": {"Value": "InProgress", "Description": "In Progress"},
        "VintageFrom": "2023-06-01",
        "VintageTo": "2023-07-31",
    }
    assert {key: item[key] for key in expected} == expected
    assert item["DeviceUniqueId"]


async def test_rec_applications_filter_by_device_and_status(api: Api, sim: FakeRegistry) -> None:
    """`DeviceIds` (repeated) and `Status` narrow the list; both may be combined."""
    one, two = await registered(api), await registered(api)
    a = await _filed(api, one, "2024-01-01", "2024-01-31")
    b = await _filed(api, two, "2024-01-01", "2024-01-31")
    c = await _filed(api, two, "2024-02-01", "2024-02-29")
    sim.set_rec_status(c, "Approved")

    async def ids(params: list[tuple[str, str]]) -> list[str]:
        answer = await api.get(REC_APPS, params=params)
        assert answer.status == 200
        return [item["Id"] for item in answer.body["Data"]]

    assert await ids([]) == [a, b, c]
    assert await ids([("DeviceIds", two)]) == [b, c]
    assert await ids([("DeviceIds", one), ("DeviceIds", two.upper())]) == [a, b, c]
    assert await ids([("Status", "InProgress")]) == [a, b]
    assert await ids([("DeviceIds", two), ("Status", "Approved")]) == [c]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"Status": "Done"}, "Status"), ({"DeviceIds": "a,b"}, "DeviceIds"),
     ({"ItemsPerPage": 101}, "ItemsPerPage")],
)  # fmt: skip
async def test_rec_applications_refuse_bad_filters(
    api: Api, params: dict[str, Any], field: str
) -> None:
    """A status not listed, a DeviceIds that is no UUID, or a bad page size is a 400."""
    answer = await api.get(REC_APPS, params=params)
    assert (answer.status, answer.fields) == (400, [field])


async def test_quantity_counts_whole_months_of_a_monthly_group(api: Api) -> None:
    """Monthly data counts when its whole month lies in the claimable vintage."""
    device = await registered(api)
    months = {"Jan": "1000", "Feb": "2000.5"}
    body = {"RemoteInvId": RID, "Data": {"Year": 2024, "PeriodProductionPerMonthInKWh": months}}
    assert (await api.post("/generation-datas/monthly-data", json=body)).status == 200
    await _filed(api, device, "2024-01-01", "2024-02-28")
    await _filed(api, device, "2023-12-01", "2023-12-31")
    quantities = [i["Quantity"] for i in (await api.get(REC_APPS)).body["Data"]]
    assert quantities == ["1.000", "0.000"]  # February 2024 ends on the 29th: not whole
