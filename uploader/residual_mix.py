"""The registry's residual-mix calendar: which generation days can still become certificates.

Issuance deadlines fall on 31 May and 30 September. A request made from 1 Jan to 31 May of
year Y may claim generation from 1 Jan of Y-1; from 1 Jun to 30 Sep, from 1 Jul of Y-1; from
1 Oct to 31 Dec, from 1 Jan of Y (seed page "Register Grouped Device Application").

The request date is the registry's calendar day. Its pages name no zone; REDEX is in
Singapore and its pages' example zone is UTC+08:00, so dates "today" are read there.
"""

from __future__ import annotations

import datetime as dt
import time

REGISTRY_ZONE = dt.timezone(dt.timedelta(hours=8))


def registry_today(now: float | None = None) -> dt.date:
    """The registry's calendar day at `now` (seconds since the epoch; default: the clock)."""
    return dt.datetime.fromtimestamp(time.time() if now is None else now, REGISTRY_ZONE).date()


def earliest_claim_date(on: dt.date) -> dt.date:
    """The earliest generation day a request made on `on` may claim."""
    if on.month <= 5:
        return dt.date(on.year - 1, 1, 1)
    if on.month <= 9:
        return dt.date(on.year - 1, 7, 1)
    return dt.date(on.year, 1, 1)


def claim_deadline(day: dt.date) -> dt.date:
    """The last request date on which generation of `day` is still claimable.

    A first-half day stops being claimable when the earliest date moves to 1 Jul of its
    year, on 1 Jun of the next year; a second-half day when it moves to 1 Jan of the next
    year, on 1 Oct of the next year.
    """
    if day.month <= 6:
        return dt.date(day.year + 1, 5, 31)
    return dt.date(day.year + 1, 9, 30)


def is_claimable(day: dt.date, on: dt.date) -> bool:
    """Whether generation of `day` can still be issued by a request made on `on`."""
    return day >= earliest_claim_date(on)
