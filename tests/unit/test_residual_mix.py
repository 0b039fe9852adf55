"""The residual-mix calendar against the seed's table, and `uploader earliest-claim-date`."""

from __future__ import annotations

import calendar
import datetime as dt

import pytest

from uploader.cli import main
from uploader.residual_mix import (
    claim_deadline,
    earliest_claim_date,
    is_claimable,
    registry_today,
)

# The seed page's table: request month -> earliest claimable generation day.
SEED_TABLE = {
    **{(2024, m): dt.date(2023, 1, 1) for m in range(1, 6)},
    **{(2024, m): dt.date(2023, 7, 1) for m in range(6, 10)},
    **{(2024, m): dt.date(2024, 1, 1) for m in range(10, 13)},
    **{(2025, m): dt.date(2024, 1, 1) for m in range(1, 6)},
}


@pytest.mark.parametrize(("year", "month"), sorted(SEED_TABLE))
def test_every_day_of_a_table_month_gives_the_table_date(year: int, month: int) -> None:
    """Each request day of Jan 2024 .. May 2025 gives the seed table's earliest date."""
    last = calendar.monthrange(year, month)[1]
    days = {earliest_claim_date(dt.date(year, month, day)) for day in range(1, last + 1)}
    assert days == {SEED_TABLE[year, month]}


@pytest.mark.parametrize(
    ("on", "earliest"),
    [
        ("2024-02-27", "2023-01-01"),  # the seed's worked example
        ("2024-05-31", "2023-01-01"),
        ("2024-06-01", "2023-07-01"),
        ("2024-09-30", "2023-07-01"),
        ("2024-10-01", "2024-01-01"),
        ("2024-12-31", "2024-01-01"),
        ("2025-01-01", "2024-01-01"),
    ],
)
def test_deadline_boundary_days(on: str, earliest: str) -> None:
    """31 May and 30 September are the last days of their period; the day after moves on."""
    assert earliest_claim_date(dt.date.fromisoformat(on)) == dt.date.fromisoformat(earliest)


def test_claim_deadline_is_the_last_request_day_that_may_claim() -> None:
    """For every day of two years, it is claimable on its deadline and not the day after."""
    day = dt.date(2023, 1, 1)
    while day < dt.date(2025, 1, 1):
        deadline = claim_deadline(day)
        assert is_claimable(day, deadline), day
        assert not is_claimable(day, deadline + dt.timedelta(days=1)), day
        day += dt.timedelta(days=1)


def test_cli_prints_the_earliest_date(capsys: pytest.CaptureFixture[str]) -> None:
    """`earliest-claim-date --on 2024-06-01` prints 2023-07-01 and exits 0."""
    assert main(["earliest-claim-date", "--on", "2024-06-01"]) == 0
    assert capsys.readouterr().out == "2023-07-01\n"


def test_cli_defaults_to_today(capsys: pytest.CaptureFixture[str]) -> None:
    """Without --on the request date is today."""
    assert main(["earliest-claim-date"]) == 0
    assert capsys.readouterr().out == f"{earliest_claim_date(dt.date.today()).isoformat()}\n"


@pytest.mark.parametrize("bad", ["2024-02-30", "27/02/2024", "tomorrow"])
def test_cli_refuses_an_invalid_date_with_exit_2(
    capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    """An --on that is not a calendar date exits 2 and names the flag."""
    assert main(["earliest-claim-date", "--on", bad]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "--on" in captured.err


@pytest.mark.parametrize(
    ("day", "deadline"),
    [("2024-01-01", "2025-05-31"), ("2024-06-30", "2025-05-31"), ("2024-07-01", "2025-09-30")],
)
def test_deadline_command_prints_the_claim_deadline(
    capsys: pytest.CaptureFixture[str], day: str, deadline: str
) -> None:
    """`deadline --day D` prints the last request date that may claim D, and how far it is."""
    assert main(["deadline", "--day", day]) == 0
    captured = capsys.readouterr()
    assert captured.out == f"{deadline}\n"
    assert "closed" in captured.err or "closes" in captured.err


def test_deadline_command_refuses_a_bad_day(capsys: pytest.CaptureFixture[str]) -> None:
    """A --day that is not a calendar date exits 2 and names the flag."""
    assert main(["deadline", "--day", "2024-02-30"]) == 2
    captured = capsys.readouterr()
    assert (captured.out, "--day" in captured.err) == ("", True)


def test_the_registry_day_is_read_in_utc_plus_8() -> None:
    """16:00 UTC is already the next day on the registry's calendar; 15:59 is not."""
    midnight = dt.datetime(2024, 5, 31, 16, 0, tzinfo=dt.UTC).timestamp()
    assert registry_today(midnight) == dt.date(2024, 6, 1)
    assert registry_today(midnight - 60) == dt.date(2024, 5, 31)
