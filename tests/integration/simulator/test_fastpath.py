"""The fast lane takes only plainly written values; everything else goes the precise way."""

from __future__ import annotations

import datetime as dt

import pytest

from uploader.simulator.fastpath import canonical
from uploader.simulator.wire import FastDaily


def group(*values: str) -> list[tuple[str, list[FastDaily]]]:
    """One inverter whose days carry these values (production and accumulated alike)."""
    start = dt.date(2024, 1, 1)
    data = [
        FastDaily(
            Timestamp=start + dt.timedelta(days=n),
            PeriodProductionInKWh=v,
            AccumulatedEnergyInKWh=v,
        )
        for n, v in enumerate(values)
    ]
    return [("INV", data)]


@pytest.mark.parametrize("value", ["0", "1", "0.5", "12.345", "240.000", "123456789012.125"])
def test_plain_values_are_canonical(value: str) -> None:
    """Non-negative decimals with at most 3 places, without leading zeros, take the fast lane."""
    assert canonical(group("1.000", value))


@pytest.mark.parametrize(
    "value",
    ["1.2345", "1.5000", "-1", "1.", ".5", "007", "1e3", "", " 1", "1.2.3", "NaN", "1\n2", "١"],
)
def test_anything_else_takes_the_precise_path(value: str) -> None:
    """More places, signs, exponents, spaces, stray points or non-ASCII digits do not."""
    assert not canonical(group("1.000", value))


def test_an_inverter_without_days_takes_the_precise_path() -> None:
    """An empty Data list is left to the precise path."""
    assert not canonical([("INV", [])])
