"""The generation record: one inverter's production on one day, for one business account.

A record is keyed by (account, remote_inv_id, day). Its energy values are exact decimals with
at most three places; the queue stores them as `canonical` text, so that "1.50" and "1.5" are
the same value and re-enqueueing a file changes nothing.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

import msgspec

__all__ = ["Flag", "Record", "canonical"]


class Flag(enum.IntFlag):
    """Warnings a record was accepted with; it is queued and sent all the same."""

    BEFORE_CLAIMABLE = 1  # the day is before the residual-mix rule's earliest claimable date
    ACCUMULATED_FALLS = 2  # the accumulated value falls from the inverter's previous day


# gc=False: an enqueue holds thousands of these; they reference only atoms, so no cycle.
class Record(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A validated record: values finite, >= 0, with at most three decimal places."""

    account: str
    remote_inv_id: str
    day: dt.date
    period_kwh: Decimal
    accumulated_kwh: Decimal
    flags: int = 0
    source: str | None = None  # "file.csv:17" or "ingest:<request id>:<line>"


def canonical(value: Decimal) -> str:
    """Plain positional text without trailing zeros: "12.345", "0", "5012.3", "1000".

    Never exponent notation, never "-0"; equal values give equal text.
    """
    if not value.is_finite():
        raise ValueError(f"{value} is not a finite number")
    text = str(value)
    if "E" in text:
        text = format(value, "f")
    if text[-1] == "0" and "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
