"""Requests for issuance (`POST rec-applications/grouped-device`): each documented answer.

Under the test clock (2024-06-15) the earliest claimable day is 2023-07-01: a request made
from June to September claims from 1 July of the previous year.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from uploader.simulator import FakeRegistry, ManualClock, RateSpec

from .helpers import Answer, Api, SimFactory, api_for, registered
from .payloads import OTHER_TOKEN

ISSUE = "/rec-applications/grouped-device"
UNKNOWN_DEVICE = "3f2b8c1e-0a4d-4b6e-9c7f-1d2e3f4a5b6c"


def vintage(device: str, first: str, last: str) -> dict[str, str]:
    """An issuance request body."""
    return {"VintageFrom": first, "VintageTo": last, "DeviceId": device}


@pytest.fixture
async def device(api: Api) -> str:
    """A grouped device of acme, registered (and so Approved) under the default options."""
    return await registered(api)


async def test_a_claimable_vintage_is_created(api: Api, device: str) -> None:
    """A vintage after the earliest claimable day: 201, the page's Message and a new Id."""
    answer = await api.post(ISSUE, json=vintage(device, "2024-01-01", "2024-03-31"))
    assert answer.status == 201
    assert answer.body["Message"] == "Create REC issuance successfully."
    assert answer.body["Errors"] is None
    assert len(answer.body["Data"]["Id"]) == 36


async def test_a_vintage_partly_past_the_deadline_is_created_with_a_warning(
    api: Api, device: str
) -> None:
    """A vintage starting before 2023-07-01 is a 201 whose Message names JULY, 2023."""
    answer = await api.post(ISSUE, json=vintage(device, "2023-06-01", "2023-12-31"))
    assert answer.status == 201
    message = answer.body["Message"]
    assert message.startswith("Create REC issuance successfully. ")
    assert message.endswith("You can request to issue REC from JULY, 2023.")


async def test_a_vintage_wholly_past_the_deadline_is_400(api: Api, device: str) -> None:
    """A vintage that ends before the earliest claimable day is a 400 naming it."""
    answer = await api.post(ISSUE, json=vintage(device, "2023-01-01", "2023-06-30"))
    assert (answer.status, answer.fields) == (400, ["VintageTo"])
    assert "JULY, 2023" in answer.body["Errors"][0]["Message"]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"VintageFrom": "2024/01/01"}, "VintageFrom", "VintageFrom must be a date in the format"),
        ({"VintageTo": "2024-02-30"}, "VintageTo", "VintageTo must be a date in the format"),
        ({"VintageTo": "2023-12-31"}, "VintageTo", "is before VintageFrom"),
        ({"DeviceId": "not-a-uuid"}, "DeviceId", "DeviceId must be a UUID"),
        ({"DeviceId": None}, "DeviceId", "Expected `str`"),
        ({"Extra": 1}, "Extra", "unknown field"),
    ],
)
async def test_a_malformed_request_is_400(
    api: Api, device: str, change: dict[str, Any], field: str, message: str
) -> None:
    """Dates not YYYY-MM-DD, a reversed vintage, a DeviceId that is no UUID: 400s at the field."""
    body: dict[str, Any] = vintage(device, "2024-01-01", "2024-01-31") | change
    answer = await api.post(ISSUE, json=body)
    assert (answer.status, answer.fields) == (400, [field])
    assert message in answer.body["Errors"][0]["Message"]


async def test_a_missing_field_is_required(api: Api, device: str) -> None:
    """A request without VintageTo is a 400 "VintageTo is required"."""
    answer = await api.post(ISSUE, json={"VintageFrom": "2024-01-01", "DeviceId": device})
    assert (answer.status, answer.fields) == (400, ["VintageTo"])
    assert answer.body["Errors"][0]["Message"] == "VintageTo is required"


async def test_an_unknown_device_is_404_and_another_accounts_403(api: Api, device: str) -> None:
    """A DeviceId that names no application is a 404; one of another account a 403."""
    unknown = await api.post(ISSUE, json=vintage(UNKNOWN_DEVICE, "2024-01-01", "2024-01-31"))
    assert (unknown.status, unknown.fields) == (404, ["DeviceId"])
    theirs = await api.as_token(OTHER_TOKEN).post(
        ISSUE, json=vintage(device, "2024-01-01", "2024-01-31")
    )
    assert (theirs.status, theirs.fields) == (403, ["DeviceId"])


async def test_the_device_id_is_matched_ignoring_case(api: Api, device: str) -> None:
    """A UUID written in capitals names the same device."""
    answer = await api.post(ISSUE, json=vintage(device.upper(), "2024-01-01", "2024-01-31"))
    assert answer.status == 201


async def test_a_device_not_approved_yet_is_422(
    make_sim: SimFactory, session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    """Within approval_delay_s of registration the device is InProgress: a 422; then a 201."""
    api = api_for(await make_sim(approval_delay_s=60.0), session)
    device = await registered(api)
    early = await api.post(ISSUE, json=vintage(device, "2024-01-01", "2024-01-31"))
    assert (early.status, early.fields) == (422, ["DeviceId"])
    assert "InProgress" in early.body["Errors"][0]["Message"]
    clock.advance(60)
    assert (await api.post(ISSUE, json=vintage(device, "2024-01-01", "2024-01-31"))).status == 201


async def test_a_vintage_ending_in_the_future_is_422(api: Api, device: str) -> None:
    """A vintage that ends after today (2024-06-15) is a 422 at VintageTo; today itself is not."""
    later = await api.post(ISSUE, json=vintage(device, "2024-06-01", "2024-06-16"))
    assert (later.status, later.fields) == (422, ["VintageTo"])
    assert (await api.post(ISSUE, json=vintage(device, "2024-06-01", "2024-06-15"))).status == 201


@pytest.mark.parametrize(
    ("first", "last"),
    [("2024-01-01", "2024-01-31"), ("2024-01-31", "2024-02-29"), ("2023-12-01", "2024-01-01")],
)
async def test_an_overlapping_vintage_of_the_same_device_is_422(
    api: Api, device: str, first: str, last: str
) -> None:
    """The same period, or one sharing a day with a filed one, is a 422; the day after is not."""
    assert (await api.post(ISSUE, json=vintage(device, "2024-01-01", "2024-01-31"))).status == 201
    again = await api.post(ISSUE, json=vintage(device, first, last))
    assert again.status == 422
    assert "overlaps application RA0000001" in again.body["Errors"][0]["Message"]
    assert (await api.post(ISSUE, json=vintage(device, "2024-02-01", "2024-02-29"))).status == 201


async def test_another_device_may_claim_the_same_period(api: Api, device: str) -> None:
    """The overlap rule is per device: a second grouped device files the same vintage."""
    second = await registered(api)
    for name in (device, second):
        answer = await api.post(ISSUE, json=vintage(name, "2024-01-01", "2024-01-31"))
        assert answer.status == 201


@pytest.mark.parametrize(("status", "created"), [("Rejected", 201), ("Approved", 422)])
async def test_a_rejected_applications_period_may_be_requested_again(
    api: Api, sim: FakeRegistry, device: str, status: str, created: int
) -> None:
    """Once its application is Rejected (or Withdrawn) a period is free again; not if Approved."""
    body = vintage(device, "2024-01-01", "2024-01-31")
    first: Answer = await api.post(ISSUE, json=body)
    sim.set_rec_status(first.body["Data"]["Id"], status)
    assert (await api.post(ISSUE, json=body)).status == created


async def test_issuance_needs_a_token_and_counts_against_the_account(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    """Without a token it is a 401; it spends the account's budget like every route (429)."""
    sim = await make_sim(account_limit=RateSpec.parse("3/60s"), account_counts="any")
    api = api_for(sim, session)
    device = await registered(api)  # an upload and a registration: two of the three
    body = vintage(device, "2024-01-01", "2024-01-31")
    assert (await api.as_token(None).post(ISSUE, json=body)).status == 401
    assert (await api.post(ISSUE, json=body)).status == 201
    limited = await api.post(ISSUE, json=vintage(device, "2024-02-01", "2024-02-29"))
    assert limited.status == 429
    assert limited.headers["Retry-After"]


async def test_a_scripted_fault_answers_before_issuance(api: Api, sim: FakeRegistry) -> None:
    """A scripted 503 answers an issuance request and files nothing."""
    device = await registered(api)
    sim.script("acme", [503])
    answer = await api.post(ISSUE, json=vintage(device, "2024-01-01", "2024-01-31"))
    assert answer.status == 503
    assert (await api.post(ISSUE, json=vintage(device, "2024-01-01", "2024-01-31"))).status == 201
