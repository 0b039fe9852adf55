"""Fixed-window counters and exact decimal places: the simulator's two pieces of arithmetic."""

from __future__ import annotations

from decimal import Decimal

import pytest

from uploader.simulator.checks import decimal_places
from uploader.simulator.rates import RateSpec
from uploader.simulator.windows import FixedWindows


def test_windows_follow_the_phase() -> None:
    """With a 4 s phase, 10 s windows start at 4, 14, 24..."""
    windows = FixedWindows(RateSpec(2, 10.0), phase_s=4.0)
    assert [windows.index(t) for t in (3.9, 4.0, 13.9, 14.0)] == [-1, 0, 0, 1]


def test_retry_after_appears_at_the_limit_and_rounds_up() -> None:
    """Below the limit there is no wait; at it, whole seconds to the reset, at least 1."""
    windows = FixedWindows(RateSpec(2, 10.0), phase_s=0.0)
    windows.hit("k", windows.index(1.0))
    assert windows.retry_after("k", 1.0) is None
    windows.hit("k", windows.index(1.0))
    assert windows.retry_after("k", 1.0) == 9
    assert windows.retry_after("k", 9.95) == 1
    assert windows.retry_after("k", 10.0) is None


def test_a_late_count_for_a_past_window_is_dropped() -> None:
    """A success counted after its window closed does not use the new window's slots."""
    windows = FixedWindows(RateSpec(1, 10.0), phase_s=0.0)
    windows.hit("k", 1)
    windows.hit("k", 0)
    assert windows.count("k", 15.0) == 1


@pytest.mark.parametrize(
    ("text", "places"),
    [("1", 0), ("1.5000", 1), ("0.001", 3), ("1E-4", 4), ("1E+3", 0), ("-0.0", 0), ("0.1234", 4)],
)
def test_decimal_places_ignore_trailing_zeros(text: str, places: int) -> None:
    """Decimal places are counted by value: trailing zeros and exponents are accounted for."""
    assert decimal_places(Decimal(text)) == places
