"""Rate specifications such as 50/60s."""

from __future__ import annotations

import pytest

from uploader.registry.ratespec import RateSpec


@pytest.mark.parametrize(
    ("text", "limit", "window_s"),
    [
        ("50/60s", 50, 60.0),
        ("3000/300s", 3000, 300.0),
        ("10/1s", 10, 1.0),
        ("10/s", 10, 1.0),
        ("24/500ms", 24, 0.5),
        ("60/1m", 60, 60.0),
        ("60/min", 60, 60.0),
        ("5/2h", 5, 7200.0),
    ],
)
def test_parse(text: str, limit: int, window_s: float) -> None:
    """Each accepted spelling gives the limit and the window in seconds."""
    assert RateSpec.parse(text) == RateSpec(limit, window_s)


@pytest.mark.parametrize("text", ["", "50", "50/", "fifty/60s", "0/60s", "50/0s", "-1/60s"])
def test_parse_refuses(text: str) -> None:
    """Anything that is not a positive N per positive window is refused."""
    with pytest.raises(ValueError, match=r"rate|positive"):
        RateSpec.parse(text)


def test_str_round_trips() -> None:
    """str() of a spec parses back to the same spec."""
    spec = RateSpec.parse("3000/300s")
    assert RateSpec.parse(str(spec)) == spec
    assert spec.per_second == 10.0
