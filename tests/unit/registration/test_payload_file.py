"""Reading payload files: exact decimals, "//" comments dropped, errors naming line and column."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from uploader.errors import ConfigError
from uploader.registration.payload import decode, read


def test_numbers_are_decoded_exactly_as_written() -> None:
    """A JSON number becomes the Decimal of its text, trailing zeros and all."""
    value = decode(b'{"Latitude": 1.3052780, "Capacity": 10, "Big": 1e3}', "p.json")
    assert value == {"Latitude": Decimal("1.3052780"), "Capacity": 10, "Big": Decimal("1E+3")}
    assert str(value["Latitude"]) == "1.3052780"


def test_comment_keys_are_dropped_at_every_depth() -> None:
    """Every "//" key goes, in the group, its devices and their inverters; nothing else does."""
    text = b"""{"//": "top", "A": 1, "Devices": [{"//": ["d"], "B": 2,
               "Inverters": [{"//": "i", "C": "//"}]}]}"""
    assert decode(text, "p.json") == {"A": 1, "Devices": [{"B": 2, "Inverters": [{"C": "//"}]}]}


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (b'{\n  "A": 1,\n  "B": ,\n}', "p.json:3:8:"),
        (b'{"A": 1,,}', "p.json:1:9:"),
        (b'{\n  "A": [1, 2', "p.json:2:13:"),  # truncated: just past the last character
    ],
)
def test_malformed_json_names_file_line_and_column(text: bytes, where: str) -> None:
    """Malformed JSON is a usage error whose message starts with file:line:column."""
    with pytest.raises(ConfigError) as caught:
        decode(text, "p.json")
    assert str(caught.value).startswith(where), str(caught.value)


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    """A payload path that does not exist is a ConfigError naming the path."""
    with pytest.raises(ConfigError, match=r"nope\.json: cannot read"):
        read(tmp_path / "nope.json")
