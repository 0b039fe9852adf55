"""Coordinates, installed capacity and renewable percentage: ranges and decimal places."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.documented_cases import set_path

from .payloads import context, violations

D0 = "Devices[0]"
I0 = "Devices[0].Inverters[0]"

CASES = [
    pytest.param(f"{D0}.Latitude", "90.000001", "must be between -90 and 90", id="lat-over-90"),
    pytest.param(f"{D0}.Latitude", "-90.5", "must be between -90 and 90", id="lat-under-minus-90"),
    pytest.param(f"{D0}.Latitude", "1.3052781", "at most 6 decimal places", id="lat-7-places"),
    pytest.param(f"{D0}.Longitude", "180.000001", "between -180 and 180", id="lon-over-180"),
    pytest.param(f"{D0}.Longitude", "-181", "must be between -180 and 180", id="lon-under"),
    pytest.param(f"{D0}.Longitude", "103.9086101", "at most 6 decimal places", id="lon-7-places"),
    pytest.param(f"{I0}.InstalledCapacity", "250.001", "between 0 and 250", id="cap-over-250kW"),
    pytest.param(f"{I0}.InstalledCapacity", "0", "must be greater than 0", id="cap-zero"),
    pytest.param(f"{I0}.InstalledCapacity", "-1", "between 0 and 250", id="cap-negative"),
    pytest.param(f"{I0}.InstalledCapacity", "10.9001", "at most 3 decimal places", id="cap-4dp"),
    pytest.param(f"{D0}.PercentageRenewable", "100.5", "between 0 and 100", id="pct-over"),
    pytest.param(f"{D0}.PercentageRenewable", "-0.1", "between 0 and 100", id="pct-negative"),
    pytest.param(f"{D0}.PercentageRenewable", "50.1234567", "at most 6 decimal", id="pct-7dp"),
]


@pytest.mark.parametrize(("path", "value", "message"), CASES)
def test_number_rule_is_reported_at_its_path(
    payload: dict[str, Any], path: str, value: str, message: str
) -> None:
    """A number outside its range or with too many decimal places is a 422 at its path."""
    found = violations(set_path(payload, path, Decimal(value)))
    assert [(v.field, v.malformed) for v in found] == [(path, False)], [str(v) for v in found]
    assert message in found[0].message


def test_latitude_with_three_integer_digits_breaks_range_and_shape(
    payload: dict[str, Any],
) -> None:
    """Latitude 100 is both out of range and wider than decimal(2,6): both are said."""
    found = violations(set_path(payload, f"{D0}.Latitude", Decimal(100)))
    assert {v.field for v in found} == {f"{D0}.Latitude"}
    assert any("at most 2 digits before the decimal point" in v.message for v in found)
    assert len(found) == 2


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (f"{D0}.Latitude", "90"),
        (f"{D0}.Latitude", "-90"),
        (f"{D0}.Latitude", "-89.999999"),
        (f"{D0}.Longitude", "180"),
        (f"{D0}.Longitude", "-180"),
        (f"{D0}.PercentageRenewable", "0"),
        (f"{D0}.PercentageRenewable", "99.999999"),
        (f"{I0}.InstalledCapacity", "0.001"),
        (f"{I0}.InstalledCapacity", "250.000"),
    ],
)
def test_bounds_are_inclusive(payload: dict[str, Any], path: str, value: str) -> None:
    """The ends of each documented range, at full precision, are accepted (coordinates in a
    country without bounds of its own, so only the range is in play)."""
    payload["CountryCode"] = "XX"
    ctx = context(countries=frozenset({"XX"}))
    assert violations(set_path(payload, path, Decimal(value)), ctx) == []
