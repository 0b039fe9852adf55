"""The documented cases against the client's rules: registration and daily-record validation.

The same cases run against the simulator over HTTP
(tests/integration/simulator/test_documented_cases.py); only public names of the client
are used here, so its modules may move without this file changing. Issuance cases meet
the client's residual-mix calendar (`uploader.residual_mix`), which it files requests by.
"""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from tests.documented_cases import PAGES, TODAY
from tests.documented_cases.cases import (
    DAILY_CASES,
    ISSUANCE_CASES,
    REGISTRATION_CASES,
    DailyCase,
    IssuanceCase,
)
from tests.documented_cases.daily import RID
from tests.documented_cases.registration import LISTED_BRANDS, SEED_FILE_ID, RegistrationCase
from uploader.ingest import Validator
from uploader.registration import ValidationContext, validate
from uploader.residual_mix import earliest_claim_date, is_claimable

ACCOUNT = "acme"
_json = msgspec.json.Decoder(float_hook=Decimal)  # how the client reads payloads and rows
_RECORD_FIELD = re.compile(r"Data\[(\d+)\]\.(\w+)")


def _named(case: RegistrationCase | DailyCase | IssuanceCase) -> str:
    return case.name


@pytest.mark.parametrize("case", REGISTRATION_CASES, ids=_named)
def test_registration_case_on_the_client(case: RegistrationCase) -> None:
    """The client's registration rules refuse what the documentation refuses, at its fields."""
    context = ValidationContext(
        today=TODAY, brands=LISTED_BRANDS, file_ids=frozenset({SEED_FILE_ID})
    )
    found = validate(_json.decode(case.body()), context)
    status = 201 if not found else 400 if any(v.malformed for v in found) else 422
    verdict = (status, frozenset(v.field for v in found))
    assert verdict == (case.verdict.status, case.verdict.fields), [str(v) for v in found]


def _rows(case: DailyCase, validator: Validator) -> list[Any]:
    """Each record of the case through the validator: a Record, or the reason it is refused."""
    rows = _json.decode(case.body())["Data"]
    return [validator.row(row | {"RemoteInvId": RID}, case.name) for row in rows]


@pytest.mark.parametrize("case", DAILY_CASES, ids=_named)
def test_daily_case_on_the_client(case: DailyCase) -> None:
    """The client's ingest rules (decimals refused) refuse what the documentation refuses."""
    validator = Validator({ACCOUNT}, today=TODAY, decimals="reject", default_account=ACCOUNT)
    results = _rows(case, validator)
    expected = {}
    for path in case.verdict.fields:
        match = _RECORD_FIELD.fullmatch(path)
        assert match is not None, path
        expected[int(match[1])] = match[2]
    refused = {n: reason for n, reason in enumerate(results) if isinstance(reason, str)}
    assert refused.keys() == expected.keys(), refused
    for n, name in expected.items():
        assert name in refused[n]


@pytest.mark.parametrize("case", [c for c in DAILY_CASES if c.client_rounds], ids=_named)
def test_the_client_rounds_by_default_where_the_registry_refuses(case: DailyCase) -> None:
    """Its deliberate difference: by default a value past 3 decimals is rounded and counted."""
    validator = Validator({ACCOUNT}, today=TODAY, default_account=ACCOUNT)
    results = _rows(case, validator)
    assert all(not isinstance(result, str) for result in results), results
    assert validator.rounded == 1
    values = {r.period_kwh for r in results} | {r.accumulated_kwh for r in results}
    assert all(value == value.quantize(Decimal("0.001")) for value in values)


@pytest.mark.parametrize("case", ISSUANCE_CASES, ids=_named)
def test_issuance_case_on_the_client(case: IssuanceCase) -> None:
    """The client's residual-mix calendar gives the page's earliest day, and so its answer."""
    assert earliest_claim_date(case.on) == case.earliest
    whole, part = is_claimable(case.last, case.on), is_claimable(case.first, case.on)
    assert whole == case.verdict.accepted
    assert (whole and not part) == (case.warning is not None)


def test_every_case_is_named_once_and_cites_a_page() -> None:
    """Case names are unique (they are test ids) and each source starts with a page's name."""
    cases: list[RegistrationCase | DailyCase | IssuanceCase] = [
        *REGISTRATION_CASES,
        *DAILY_CASES,
        *ISSUANCE_CASES,
    ]
    repeated = [name for name, n in Counter(c.name for c in cases).items() if n > 1]
    assert repeated == []
    assert [c.source for c in cases if c.source.partition(": ")[0] not in PAGES] == []
    assert {c.verdict.status for c in cases} == {200, 201, 400, 422}


def test_cases_the_simulator_does_not_check_yet_are_refusals() -> None:
    """A case marked for the simulator is a refusal, so the simulator's 201 fails it there."""
    marked = [case for case in REGISTRATION_CASES if case.simulator]
    assert [case.name for case in marked if case.verdict.accepted] == []
