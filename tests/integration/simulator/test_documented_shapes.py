"""What the documentation does not describe is refused: empty lists, other content types, an
inverter in two items, a body over the record limit; and refusals say what the pages say."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from uploader.simulator import FakeRegistry

from .helpers import Api
from .payloads import ACME, SEED_BATCH, SEED_LEGACY, SEED_RID, SEED_SINGLE, batch, day, days

BATCHES = "/generation-datas/batches"
NO_CONTENT_TYPE = {"skip_auto_headers": ["Content-Type"]}


@pytest.fixture
def seed_inverter(sim: FakeRegistry) -> str:
    """The seed examples' inverter, known to acme."""
    sim.add_inverter(ACME, SEED_RID)
    return SEED_RID


def _stored(sim: FakeRegistry) -> int:
    accounts = sim.state(summary=True)["accounts"]
    return int(accounts.get(ACME, {}).get("day_count", 0))


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (BATCHES, {"Devices": []}, "Devices"),
        (BATCHES, batch((SEED_RID, [])), "Devices[0].Data"),
        ("/generation-datas", {"RemoteInvId": SEED_RID, "Data": []}, "Data"),
        ("/generation-data", SEED_LEGACY | {"Data": []}, "Data"),
    ],
)
async def test_an_empty_list_is_400(
    api: Api, seed_inverter: str, path: str, body: dict[str, Any], field: str
) -> None:
    """`Devices` and `Data` are documented as required: an empty one is a 400 at its path."""
    answer = await api.post(path, json=body)
    assert (answer.status, answer.fields) == (400, [field])
    assert answer.body["Errors"][0]["Message"] == f"{field} must not be empty"


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "Devices"), ({"Devices": [{"RemoteInvId": SEED_RID}]}, "Devices[0].Data")],
)
async def test_a_missing_list_is_required(api: Api, body: dict[str, Any], field: str) -> None:
    """A missing `Devices` answers 400 "Devices is required" (and so for a nested `Data`)."""
    answer = await api.post(BATCHES, json=body)
    assert (answer.status, answer.fields) == (400, [field])
    assert answer.body["Errors"][0]["Message"] == f"{field} is required"


@pytest.mark.parametrize("stamp", ["2023/05/04", "04-05-2023", "2023-02-30", 20230504])
async def test_a_bad_timestamp_names_its_path_and_the_format(
    api: Api, seed_inverter: str, stamp: Any
) -> None:
    """A Timestamp that is no `YYYY-MM-DD` date is a 400 naming its path and the format."""
    data = [*days(dt.date(2023, 5, 1), 3), day("2023-05-04") | {"Timestamp": stamp}]
    answer = await api.post(BATCHES, json=batch((seed_inverter, data)))
    path = "Devices[0].Data[3].Timestamp"
    assert (answer.status, answer.fields) == (400, [path])
    assert answer.body["Errors"][0]["Message"] == f"{path} must be a date in the format YYYY-MM-DD"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (BATCHES, SEED_BATCH),
        ("/generation-datas", SEED_SINGLE),
        ("/generation-data", SEED_LEGACY),
        ("/connect/token", {"ApiKey": "k", "GrantType": "api_key", "ClientId": "c",
                            "ClientSecret": "s"}),
    ],
)  # fmt: skip
@pytest.mark.parametrize(
    "sent",
    [{"headers": {"Content-Type": "text/plain"}}, {"headers": {"Content-Type": "application/xml"}},
     NO_CONTENT_TYPE],
)  # fmt: skip
async def test_a_post_that_is_not_application_json_is_400(
    api: Api, sim: FakeRegistry, seed_inverter: str, path: str, body: Any, sent: Any
) -> None:
    """A JSON POST with another Content-Type, or none, is a 400 naming Content-Type."""
    answer = await api.post(path, data=json.dumps(body).encode(), **sent)
    assert (answer.status, answer.fields) == (400, ["Content-Type"])
    assert "application/json" in answer.body["Errors"][0]["Message"]
    assert _stored(sim) == 0


async def test_application_json_with_a_charset_is_taken(
    api: Api, sim: FakeRegistry, seed_inverter: str
) -> None:
    """`application/json; charset=utf-8` is application/json; a GET needs no Content-Type."""
    headers = {"Content-Type": "Application/JSON; charset=utf-8"}
    answer = await api.post(BATCHES, data=json.dumps(SEED_BATCH).encode(), headers=headers)
    assert answer.status == 200
    assert _stored(sim) == 2
    assert (await api.get("/metadata/inverter-brands", **NO_CONTENT_TYPE)).status == 200


async def test_an_inverter_in_two_items_is_400(
    api: Api, sim: FakeRegistry, seed_inverter: str
) -> None:
    """The same RemoteInvId in two `Devices` items, even on other days, is a 400 at the second."""
    body = batch((seed_inverter, [day("2024-01-01")]), (seed_inverter, [day("2024-01-02")]))
    answer = await api.post(BATCHES, json=body)
    assert answer.status == 400
    assert (answer.codes, answer.fields) == (["DuplicateInverter"], ["Devices[1].RemoteInvId"])
    assert "Devices[0].RemoteInvId" in answer.body["Errors"][0]["Message"]
    assert _stored(sim) == 0


async def test_a_body_over_the_limit_gets_one_error(api: Api, seed_inverter: str) -> None:
    """3001 records, each of them wrong, answer one error (too many records), not 3001."""
    data = [day(dt.date(2016, 1, 1) + dt.timedelta(days=n), "-1.0001") for n in range(3001)]
    answer = await api.post(BATCHES, json=batch((seed_inverter, data)))
    assert answer.status == 400
    assert (answer.codes, answer.fields) == (["TooManyRecords"], ["Devices"])
