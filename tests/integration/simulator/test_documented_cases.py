"""The documented cases against the simulator, over HTTP: registrations and daily records.

The same cases run against the client's rules (tests/unit/test_documented_cases.py). Each
case gets a fresh simulator whose clock stands at the cases' `TODAY`, midnight UTC.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from tests.documented_cases import TODAY
from tests.documented_cases.cases import (
    DAILY_CASES,
    ISSUANCE_CASES,
    REGISTRATION_CASES,
    DailyCase,
    IssuanceCase,
)
from tests.documented_cases.daily import RID
from tests.documented_cases.registration import LISTED_BRANDS, SEED_FILE_ID, RegistrationCase
from uploader.simulator import FakeRegistry, ManualClock

from .helpers import Api, file_id, registered
from .payloads import ACME

JSON = {"Content-Type": "application/json"}
_SEED_FILE = re.compile(re.escape(SEED_FILE_ID.encode()), re.IGNORECASE)


def _midnight(day: dt.date) -> float:
    """Midnight UTC of the day: the same calendar day in the registry's zone and the latest."""
    return dt.datetime.combine(day, dt.time(), dt.UTC).timestamp()


@pytest.fixture
def clock() -> ManualClock:
    """The simulator's clock at the cases' today."""
    return ManualClock(_midnight(TODAY))


def _named(case: RegistrationCase | DailyCase | IssuanceCase) -> str:
    return case.name


def _naming(body: bytes, file_id: str) -> bytes:
    """The body with the cases' file id replaced by an uploaded one, in the same case."""
    return _SEED_FILE.sub(lambda m: (file_id.upper() if m[0].isupper() else file_id).encode(), body)


def _on_the_simulator(cases: list[RegistrationCase]) -> list[Any]:
    """Each case; one whose rule the simulator does not check yet must fail there, until
    the simulator follows it (then the strict mark fails, and the case is unmarked)."""
    return [
        pytest.param(case, id=case.name, marks=pytest.mark.xfail(
            strict=True, reason=f"the simulator does not check yet: {case.simulator}"))
        if case.simulator else pytest.param(case, id=case.name)
        for case in cases
    ]  # fmt: skip


@pytest.mark.parametrize("case", _on_the_simulator(REGISTRATION_CASES))
async def test_registration_case_on_the_simulator(api: Api, case: RegistrationCase) -> None:
    """The simulator answers a registration with the documented status, naming its fields."""
    body = _naming(case.body(), await file_id(api))
    answer = await api.post("/device-applications/i-rec/grouped", data=body, headers=JSON)
    verdict = (answer.status, frozenset(answer.fields))
    assert verdict == (case.verdict.status, case.verdict.fields), answer.body["Errors"]


@pytest.mark.parametrize("endpoint", ["single", "batch"])
@pytest.mark.parametrize("case", DAILY_CASES, ids=_named)
async def test_daily_case_on_the_simulator(
    api: Api, sim: FakeRegistry, case: DailyCase, endpoint: str
) -> None:
    """The grouped endpoints answer a body of these records with the documented verdict."""
    sim.add_inverter(ACME, RID)
    if endpoint == "single":
        path, body, prefix = "/generation-datas", case.body(), ""
    else:
        path, body, prefix = "/generation-datas/batches", case.batch(), "Devices[0]."
    answer = await api.post(path, data=body, headers=JSON)
    fields = frozenset(prefix + field for field in case.verdict.fields)
    assert (answer.status, frozenset(answer.fields)) == (case.verdict.status, fields), answer.body


@pytest.mark.parametrize("case", ISSUANCE_CASES, ids=_named)
async def test_issuance_case_on_the_simulator(
    api: Api, clock: ManualClock, case: IssuanceCase
) -> None:
    """A request made on the case's date answers the documented status and warning."""
    clock.set(_midnight(case.on))
    device = await registered(api)
    body = {"VintageFrom": f"{case.first}", "VintageTo": f"{case.last}", "DeviceId": device}
    answer = await api.post("/rec-applications/grouped-device", json=body)
    assert (answer.status, frozenset(answer.fields)) == (case.verdict.status, case.verdict.fields)
    warned = answer.body["Message"] != "Create REC issuance successfully."
    assert warned == (case.warning is not None or not case.verdict.accepted), answer.body
    if case.warning is not None:
        assert answer.body["Message"].endswith(f"You can request to issue REC from {case.warning}.")


@pytest.mark.parametrize("code", sorted(LISTED_BRANDS))
async def test_the_cases_brands_are_in_the_brand_list(api: Api, code: str) -> None:
    """The brand codes the cases take as listed are in the simulator's brand list."""
    answer = await api.get("/metadata/inverter-brands", params={"Code": code})
    assert [brand["Code"] for brand in answer.body["Data"]] == [code]
