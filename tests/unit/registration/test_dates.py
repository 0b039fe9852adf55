"""Dates: not in the future, ends after starts, effective periods within the grid connection."""

from __future__ import annotations

from typing import Any

import pytest

from tests.documented_cases import set_path

from .payloads import TODAY, violations

D0 = "Devices[0]"
I0 = "Devices[0].Inverters[0]"
TOMORROW = "2025-01-16"  # TODAY is 2025-01-15; the seed's grid connection is 2022-05-13

CASES = [
    pytest.param(
        {f"{D0}.GridConnectionDate": TOMORROW}, f"{D0}.GridConnectionDate", id="grid-future"
    ),
    pytest.param(
        {f"{D0}.OwnersDeclarationEndDate": "2022-05-13"},
        f"{D0}.OwnersDeclarationEndDate",
        id="od-end-equals-start",
    ),
    pytest.param(
        {f"{D0}.OwnersDeclarationEndDate": "2021-01-01"},
        f"{D0}.OwnersDeclarationEndDate",
        id="od-end-before-start",
    ),
    pytest.param(
        {f"{I0}.EffectiveStartDate": "2022-05-12"},
        f"{I0}.EffectiveStartDate",
        id="eff-start-before-grid",
    ),
    pytest.param(
        {f"{I0}.EffectiveStartDate": TOMORROW}, f"{I0}.EffectiveStartDate", id="eff-start-future"
    ),
    pytest.param(
        {f"{I0}.EffectiveStartDate": "2023-01-10", f"{I0}.EffectiveEndDate": "2023-01-10"},
        f"{I0}.EffectiveEndDate",
        id="eff-end-equals-start",
    ),
    pytest.param(
        {f"{I0}.EffectiveStartDate": "2023-01-10", f"{I0}.EffectiveEndDate": "2022-12-31"},
        f"{I0}.EffectiveEndDate",
        id="eff-end-before-start",
    ),
    pytest.param(
        {f"{I0}.EffectiveEndDate": "2022-05-01"}, f"{I0}.EffectiveEndDate", id="eff-end-before-grid"
    ),
    pytest.param(
        {f"{I0}.EffectiveEndDate": TOMORROW}, f"{I0}.EffectiveEndDate", id="eff-end-future"
    ),
]


@pytest.mark.parametrize(("changes", "path"), CASES)
def test_date_rule_is_reported_at_its_path(
    payload: dict[str, Any], changes: dict[str, str], path: str
) -> None:
    """A date that breaks one ordering rule is a 422 at that date's path, and only there."""
    for changed, value in changes.items():
        set_path(payload, changed, value)
    found = violations(payload)
    assert [(v.field, v.malformed) for v in found] == [(path, False)], [str(v) for v in found]


def test_end_before_grid_without_start_names_the_default_start(payload: dict[str, Any]) -> None:
    """Without EffectiveStartDate the period starts at grid connection, as the message says."""
    found = violations(set_path(payload, f"{I0}.EffectiveEndDate", "2022-05-13"))
    assert [str(v) for v in found] == [
        f"{I0}.EffectiveEndDate: must be after GridConnectionDate (2022-05-13)"
    ]


def test_today_is_not_in_the_future(payload: dict[str, Any]) -> None:
    """Dates equal to today are accepted: only later days are in the future."""
    today = TODAY.isoformat()
    set_path(payload, f"{D0}.GridConnectionDate", "2022-05-13")
    set_path(payload, f"{I0}.EffectiveStartDate", "2024-01-01")
    set_path(payload, f"{I0}.EffectiveEndDate", today)
    assert violations(payload) == []


def test_effective_period_of_the_replacement_guideline_passes(payload: dict[str, Any]) -> None:
    """The guideline's faulty inverter (ended, replaced) and its replacement register together."""
    inverters = payload["Devices"][0]["Inverters"]
    inverters[0] |= {
        "EffectiveStartDate": "2022-05-13",
        "EffectiveEndDate": "2024-02-01",
        "ReplacedByRemoteInvId": "NewRM1",
    }
    inverters.append(
        {
            "RemoteInvId": "NewRM1",
            "ElectronicSerialNumber": "HW99",
            "BrandCode": "HW21",
            "InstalledCapacity": 10,
            "EffectiveStartDate": "2024-02-02",
        }
    )
    assert violations(payload) == []
