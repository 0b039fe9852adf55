"""Issuance cases: a request date and a vintage, and what the residual-mix deadline makes of it.

The registration page's "Residual Mix Deadline" gives the earliest claimable generation day
for a request date (its table of request months, and its worked example of 27 February
2024); the REC application page gives the answers: 201 "Create REC issuance successfully.",
201 with a warning ending "You can request to issue REC from JULY, 2023." when part of the
vintage is before that day, and 400 when all of it is. Each vintage ends before its request
date and belongs to an Approved device, so the deadline is the only rule in play.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tests.documented_cases import Verdict, refused

TABLE = "registration page: Residual Mix Deadline table"
EXAMPLE = "registration page: Residual Mix Deadline example (27 February 2024)"
ANSWERS = "REC application page: 201, 201 with a warning, 400 past the deadline"
CREATED = Verdict(201)
PAST = refused(400, "VintageTo")


@dataclass(frozen=True)
class IssuanceCase:
    """A request made on `on` for `first`..`last`, the earliest claimable day and the answer."""

    name: str
    on: dt.date
    first: dt.date
    last: dt.date
    earliest: dt.date  # the page's earliest claimable day for a request made on `on`
    verdict: Verdict
    source: str

    @property
    def warning(self) -> str | None:
        """The month the answer's warning names ("JULY, 2023"), when the vintage straddles."""
        if not self.verdict.accepted or self.first >= self.earliest:
            return None
        return f"{('JANUARY', 'JULY')[self.earliest.month > 1]}, {self.earliest.year}"


def case(
    name: str, on: str, vintage: str, earliest: str, verdict: Verdict, source: str
) -> IssuanceCase:
    """A case from its dates written YYYY-MM-DD (`vintage` as "first..last")."""
    first, _, last = vintage.partition("..")
    day = dt.date.fromisoformat
    return IssuanceCase(name, day(on), day(first), day(last), day(earliest), verdict, source)


ISSUANCE_CASES = [
    case("worked-example", "2024-02-27", "2023-01-01..2023-01-31", "2023-01-01", CREATED, EXAMPLE),
    case("worked-example-before", "2024-02-27", "2022-12-01..2022-12-31", "2023-01-01", PAST,
         EXAMPLE),
    case("worked-example-straddles", "2024-02-27", "2022-12-15..2023-01-15", "2023-01-01",
         CREATED, ANSWERS),
    case("may-31", "2024-05-31", "2023-01-01..2023-01-31", "2023-01-01", CREATED, TABLE),
    case("june-1", "2024-06-01", "2023-01-01..2023-06-30", "2023-07-01", PAST, TABLE),
    case("june-1-straddles", "2024-06-01", "2023-06-01..2023-07-31", "2023-07-01", CREATED,
         ANSWERS),
    case("september-30", "2024-09-30", "2023-07-01..2023-07-31", "2023-07-01", CREATED, TABLE),
    case("october-1", "2024-10-01", "2023-07-01..2023-12-31", "2024-01-01", PAST, TABLE),
    case("october-1-straddles", "2024-10-01", "2023-12-01..2024-01-31", "2024-01-01", CREATED,
         ANSWERS),
    case("may-2025", "2025-05-31", "2024-01-01..2024-01-31", "2024-01-01", CREATED, TABLE),
    case("may-2025-before", "2025-05-15", "2023-12-01..2023-12-31", "2024-01-01", PAST, TABLE),
]  # fmt: skip
