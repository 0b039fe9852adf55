"""The residual-mix deadline: the earliest generation day an issuance request may claim.

Read from the seed page "Register Grouped Device Application": there are two deadlines a
year, 31 May and 30 September. Until 31 May a request claims from 1 January of the
previous year; each deadline passed moves that day on by half a year (after 31 May: 1 July
of the previous year; after 30 September: 1 January of this year), as the page's table of
request months shows (Jan-24..May-24: 2023-01-01; Jun-24..Sep-24: 2023-07-01; Oct-24..
May-25: 2024-01-01).

The request date is the registry's calendar day. Its pages never name its zone; REDEX is
in Singapore and its pages' example zone is UTC+08:00, so that is the simulator's.
"""

from __future__ import annotations

import datetime as dt

REGISTRY_ZONE = dt.timezone(dt.timedelta(hours=8))
_DEADLINES = ((5, 31), (9, 30))  # (month, day) of each year's two deadlines
_FIRST_MONTH = {0: 1, 1: 7}  # half of a year -> the month it starts
_MONTH_NAMES = {1: "JANUARY", 7: "JULY"}  # the only months an earliest day can fall in


def request_day(now: float) -> dt.date:
    """The registry's calendar day at `now` (seconds since the epoch)."""
    return dt.datetime.fromtimestamp(now, REGISTRY_ZONE).date()


def earliest_claimable(on: dt.date) -> dt.date:
    """The first generation day a request made on `on` may claim."""
    passed = sum(on > dt.date(on.year, month, day) for month, day in _DEADLINES)
    half = (on.year - 1) * 2 + passed  # counted in half-years
    return dt.date(half // 2, _FIRST_MONTH[half % 2], 1)


def from_when(earliest: dt.date) -> str:
    """The sentence the registry's warning ends with: "You can request ... from JULY, 2023."."""
    return f"You can request to issue REC from {_MONTH_NAMES[earliest.month]}, {earliest.year}."
