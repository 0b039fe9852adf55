"""Typed reads of a decoded JSON object's fields, each problem recorded as a Violation.

A reader returns the value when it could be read (even if a rule on it failed, so that
cross-field rules still see it) and None when the field is absent or unreadable.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping
from decimal import Decimal
from typing import Any

from uploader.registration.model import Violation

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")  # JSON's number syntax, as text
_UUID = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
_ABSENT: Any = object()


def json_type(value: object) -> str:
    """The JSON name of a decoded value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float | Decimal):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def as_decimal(value: object) -> Decimal | None:
    """A JSON number (or a numeric string, as ASP.NET reads them) as an exact Decimal."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))  # the shortest text that reads back: what was written
    elif isinstance(value, str) and _NUMBER.fullmatch(value):
        number = Decimal(value)
    else:
        return None
    return number if number.is_finite() else None


def digits(value: Decimal) -> tuple[int, int]:
    """(integer digits, decimal places) of a finite value, trailing zeros not counted."""
    normal = value.normalize()
    exponent = normal.as_tuple().exponent
    assert isinstance(exponent, int)  # only NaN and infinities have a letter here
    whole = normal.adjusted() + 1 if abs(normal) >= 1 else 0
    return whole, max(0, -exponent)


class Fields:
    """The fields of one JSON object at `path`; problems go to `out`."""

    def __init__(self, node: Mapping[str, Any], path: str, out: list[Violation]) -> None:
        self.node = node
        self.prefix = path
        self.out = out

    def path(self, key: str) -> str:
        """The full path of one field of this object."""
        return f"{self.prefix}.{key}" if self.prefix else key

    def report(self, key: str, message: str, *, malformed: bool = False) -> None:
        """Record a violation of field `key`."""
        self.out.append(Violation(self.path(key), message, malformed))

    def raw(self, key: str, required: bool, empty: tuple[object, ...] = (None,)) -> Any:
        """The value, or _ABSENT (recording 'required' when it had to be there)."""
        value = self.node.get(key, _ABSENT)
        if value is _ABSENT or value in empty:
            if required:
                self.report(key, "required", malformed=True)
            return _ABSENT
        return value

    def _typed(self, key: str, value: Any, kind: type | tuple[type, ...], name: str) -> bool:
        if isinstance(value, kind) and not (isinstance(value, bool) and kind is not bool):
            return True
        self.report(key, f"must be {name}, not {json_type(value)}", malformed=True)
        return False

    def text(self, key: str, max_len: int, *, required: bool = True) -> str | None:
        """A string of at most `max_len` characters; a required one must not be blank."""
        value = self.raw(key, required, empty=(None,) if required else (None, ""))
        if value is _ABSENT or not self._typed(key, value, str, "a string"):
            return None
        if required and not value.strip():
            self.report(key, "must not be empty", malformed=True)
            return None
        if len(value) > max_len:
            self.report(key, f"longer than {max_len} characters ({len(value)})")
        return str(value)

    def choice(self, key: str, allowed: Collection[str], *, required: bool = False) -> str | None:
        """One of `allowed` (an enum of the registry: anything else does not parse)."""
        value = self.text(key, 255, required=required)
        if value is not None and value not in allowed:
            self.report(key, f"must be one of {', '.join(allowed)}, not {value!r}", malformed=True)
            return None
        return value

    def boolean(self, key: str, *, required: bool = True) -> bool | None:
        """true or false."""
        value = self.raw(key, required)
        if value is _ABSENT or not self._typed(key, value, bool, "true or false"):
            return None
        return bool(value)

    def decimal(
        self, key: str, low: Decimal, high: Decimal, shape: tuple[int, int], *, required: bool
    ) -> Decimal | None:
        """A number in [low, high] with at most shape = (integer digits, decimal places)."""
        value = self.raw(key, required)
        if value is _ABSENT:
            return None
        number = as_decimal(value)
        if number is None:
            self.report(key, f"must be a number, not {json_type(value)} {value!r}", malformed=True)
            return None
        whole, places = digits(number)
        if places > shape[1]:
            self.report(key, f"at most {shape[1]} decimal places ({number})")
        if whole > shape[0]:
            self.report(key, f"at most {shape[0]} digits before the decimal point ({number})")
        if not low <= number <= high:
            self.report(key, f"must be between {low} and {high} ({number})")
        return number

    def date(self, key: str, *, required: bool = True) -> dt.date | None:
        """A calendar day written YYYY-MM-DD; an optional one may be null or empty."""
        value = self.raw(key, required, empty=(None,) if required else (None, ""))
        if value is _ABSENT or not self._typed(key, value, str, "a date string"):
            return None
        try:
            if not _DATE.fullmatch(value):
                raise ValueError(value)
            return dt.date.fromisoformat(value)
        except ValueError:
            self.report(key, f"must be a date YYYY-MM-DD, not {value!r}", malformed=True)
            return None

    def uuid(self, key: str, known: frozenset[str] | None) -> str | None:
        """A UUID, and one of `known` (lower-case ids) when that set is given."""
        value = self.text(key, 255)
        if value is None:
            return None
        if not _UUID.fullmatch(value):
            self.report(key, f"must be a UUID, not {value!r}", malformed=True)
            return None
        if known is not None and value.lower() not in known:
            self.report(key, f"no uploaded document has the id {value}")
        return value

    def array(self, key: str) -> list[Any] | None:
        """A required, non-empty array."""
        value = self.raw(key, True)
        if value is _ABSENT or not self._typed(key, value, list, "an array"):
            return None
        if not value:
            self.report(key, "must not be empty")
        return list(value)
