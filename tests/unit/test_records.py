"""The record model: canonical decimal text and flags."""

from __future__ import annotations

from decimal import Decimal

import pytest

from uploader.records import Flag, canonical


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("12.345", "12.345"),
        ("0", "0"),
        ("0.000", "0"),
        ("-0", "0"),
        ("5012.300", "5012.3"),
        ("1000", "1000"),
        ("1E+3", "1000"),
        ("1.5E-7", "0.00000015"),
        ("10.0", "10"),
        ("007.50", "7.5"),
        ("-1.50", "-1.5"),
    ],
)
def test_canonical_is_plain_positional_text(value: str, text: str) -> None:
    """canonical() writes any finite decimal without exponent or trailing zeros."""
    assert canonical(Decimal(value)) == text


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "sNaN"])
def test_canonical_refuses_non_finite_values(value: str) -> None:
    """A NaN or an infinity has no canonical text."""
    with pytest.raises(ValueError, match="not a finite number"):
        canonical(Decimal(value))


def test_equal_values_have_equal_canonical_text() -> None:
    """Values that compare equal get the same text, which is what the queue compares."""
    assert len({canonical(Decimal(v)) for v in ("1.5", "1.50", "1.500", "15E-1")}) == 1


def test_flags_combine_as_bits() -> None:
    """Both flags fit in one int, as the queue stores them."""
    both = Flag.BEFORE_CLAIMABLE | Flag.ACCUMULATED_FALLS
    assert int(both) == 3
    assert both & Flag.ACCUMULATED_FALLS
