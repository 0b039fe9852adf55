"""The ingest rules: what is rejected and why, what is rounded, what is flagged."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from uploader.ingest import history
from uploader.ingest.validate import Validator
from uploader.records import Flag, Record, canonical

TODAY = dt.date(2025, 3, 10)  # earliest claimable date: 2024-01-01
GOOD = ("acme", "INV1", "2024-05-01", "1.5", "100")


def validator(**kw: object) -> Validator:
    """A validator for the accounts acme and bolt, on TODAY."""
    return Validator({"acme", "bolt"}, today=TODAY, **kw)  # type: ignore[arg-type]


def check(v: Validator, *fields: object) -> Record | str:
    """Validate fields given in the order of GOOD."""
    account, inv, ts, period, acc = fields
    return v.fields(account, inv, ts, period, acc, "f.csv:2")  # type: ignore[arg-type]


def test_a_good_row_becomes_a_record() -> None:
    """A valid row gives a record carrying its key, exact values and source."""
    record = check(validator(), *GOOD)
    assert record == Record(
        account="acme",
        remote_inv_id="INV1",
        day=dt.date(2024, 5, 1),
        period_kwh=Decimal("1.5"),
        accumulated_kwh=Decimal("100"),
        source="f.csv:2",
    )


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        (0, "nope", "unknown account 'nope'"),
        (0, None, "no account: give --account or an Account value"),
        (1, "", "RemoteInvId is empty"),
        (1, "   ", "RemoteInvId is empty"),
        (1, "X" * 101, "RemoteInvId is longer than 100 characters"),
        (1, "INV\udcff", "RemoteInvId is not valid UTF-8"),
        (2, "2024-13-01", "Timestamp '2024-13-01' is not a calendar date"),
        (2, "2023-02-29", "Timestamp '2023-02-29' is not a calendar date"),
        (2, "20240501", "Timestamp '20240501' is not a date in the form YYYY-MM-DD"),
        (2, "2024-05-01T00:00", "is not a date in the form YYYY-MM-DD"),
        (2, "01/05/2024", "is not a date in the form YYYY-MM-DD"),
        (2, "2025-03-11", "Timestamp 2025-03-11 is in the future"),
        (3, "abc", "PeriodProductionInKWh 'abc' is not a number"),
        (3, "", "PeriodProductionInKWh '' is not a number"),
        (3, "NaN", "PeriodProductionInKWh 'NaN' is not a number"),
        (3, "Infinity", "PeriodProductionInKWh 'Infinity' is not a number"),
        (3, "-0.5", "PeriodProductionInKWh -0.5 is negative"),
        (3, 1.5, "PeriodProductionInKWh 1.5 is not a number (give text or an exact decimal)"),
        (3, True, "PeriodProductionInKWh True is not a number"),
        (3, "1e20", "PeriodProductionInKWh 1E+20 is too large"),
        (4, "1234567890123456", "AccumulatedEnergyInKWh 1234567890123456 is too large"),
        (4, "1,5", "AccumulatedEnergyInKWh '1,5' is not a number"),
        (3, "1_000", "PeriodProductionInKWh '1_000' is not a number"),
        (4, "١٢", "AccumulatedEnergyInKWh '١٢' is not a number"),
        (4, "１２", "AccumulatedEnergyInKWh '１２' is not a number"),
        (3, "999999999999999.9999", "PeriodProductionInKWh 999999999999999.9999 is too large"),
        (1, "INV1\x00", "RemoteInvId 'INV1\\x00' contains the non-printable character U+0000"),
        (1, "INV1\t", "RemoteInvId 'INV1\\t' contains the non-printable character U+0009"),
        (1, "INV\n1", "RemoteInvId 'INV\\n1' contains the non-printable character U+000A"),
        (1, "INV1\r", "RemoteInvId 'INV1\\r' contains the non-printable character U+000D"),
        (1, "INV1\x85", "contains the non-printable character U+0085"),
        (1, "INV\u20281", "contains the non-printable character U+2028"),
        (1, "\x1fINV1", "contains the non-printable character U+001F"),
    ],
)
def test_a_bad_field_rejects_the_row_with_its_reason(
    field: int, value: object, reason: str
) -> None:
    """Each rule of the issue refuses the row with a reason that names the field."""
    fields = list(GOOD)
    fields[field] = value  # type: ignore[call-overload]
    result = check(validator(), *fields)
    assert isinstance(result, str)
    assert reason in result


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1.2345", "1.234"),  # half-even: the 4 goes down
        ("1.2355", "1.236"),  # half-even: 5 rounds to the even 6
        ("1.2365", "1.236"),  # half-even: 5 rounds to the even 6
        ("0.0005", "0"),
        ("2.99999", "3"),
    ],
)
def test_more_than_three_places_are_rounded_half_even_and_counted(text: str, value: str) -> None:
    """By default a value with more places is rounded half-even to three, and counted."""
    v = validator()
    record = check(v, "acme", "INV1", "2024-05-01", text, "100")
    assert isinstance(record, Record)
    assert record.period_kwh == Decimal(value)
    assert v.rounded == 1


def test_reject_mode_refuses_more_than_three_places() -> None:
    """With decimals = "reject" the row is refused instead of rounded."""
    v = validator(decimals="reject")
    result = check(v, "acme", "INV1", "2024-05-01", "1.2345", "100")
    assert result == "PeriodProductionInKWh 1.2345 has more than 3 decimal places"
    assert v.rounded == 0


def test_trailing_zeros_beyond_three_places_are_not_rounding() -> None:
    """1.2340 has an exact three-place value: accepted in reject mode, nothing counted."""
    v = validator(decimals="reject")
    record = check(v, "acme", "INV1", "2024-05-01", "1.2340", "100")
    assert isinstance(record, Record)
    assert record.period_kwh == Decimal("1.234")
    assert v.rounded == 0


@pytest.mark.parametrize(
    "raw", ["12.300", "0.000", "-0", "1E+3", "007.5", " 2.50 ", 5, Decimal("1.2000")]
)
def test_record_values_come_out_in_canonical_form(raw: object) -> None:
    """A record's decimal prints as its canonical text, however the input wrote it."""
    record = check(validator(), "acme", "INV1", "2024-05-01", raw, raw)
    assert isinstance(record, Record)
    assert str(record.period_kwh) == canonical(record.period_kwh)
    assert str(record.accumulated_kwh) == canonical(record.accumulated_kwh)


def test_remote_inv_id_is_stripped_of_surrounding_spaces() -> None:
    """Surrounding spaces are stripped: " INV1 " is the inverter INV1."""
    record = check(validator(), "acme", " INV1 ", "2024-05-01", "1", "1")
    assert isinstance(record, Record)
    assert record.remote_inv_id == "INV1"


def test_days_before_the_earliest_claimable_date_are_flagged_not_dropped() -> None:
    """A day before the residual-mix rule's earliest date is accepted with a flag."""
    v = validator()
    old = check(v, "acme", "INV1", "2023-12-31", "1", "1")
    new = check(v, "bolt", "INV1", "2024-01-01", "1", "1")
    assert isinstance(old, Record)
    assert isinstance(new, Record)
    assert old.flags == Flag.BEFORE_CLAIMABLE
    assert new.flags == 0
    assert v.flagged == 1


def test_a_falling_accumulated_value_flags_the_later_day() -> None:
    """Accumulated energy that decreases from one day to the next is flagged."""
    v = validator()
    rows = [("2024-05-01", "100"), ("2024-05-02", "90"), ("2024-05-03", "95")]
    flags = [check(v, "acme", "INV1", day, "1", acc).flags for day, acc in rows]  # type: ignore[union-attr]
    assert flags == [0, Flag.ACCUMULATED_FALLS, 0]


def test_the_falling_check_follows_each_inverter_through_interleaved_rows() -> None:
    """Rows of several inverters mixed together are compared per inverter."""
    v = validator()
    rows = [
        ("INV1", "2024-05-01", "100"),
        ("INV2", "2024-05-01", "5"),
        ("INV1", "2024-05-02", "99"),
        ("INV2", "2024-05-02", "6"),
        ("INV2", "2024-04-30", "7"),  # an earlier day with more energy: also a fall
    ]
    flags = [check(v, "acme", inv, d, "1", a).flags for inv, d, a in rows]  # type: ignore[union-attr]
    assert flags == [0, 0, Flag.ACCUMULATED_FALLS, 0, Flag.ACCUMULATED_FALLS]


def test_the_same_inverter_of_two_accounts_is_two_inverters() -> None:
    """The falling check is keyed by account and inverter."""
    v = validator()
    check(v, "acme", "INV1", "2024-05-01", "1", "100")
    record = check(v, "bolt", "INV1", "2024-05-02", "1", "5")
    assert isinstance(record, Record)
    assert record.flags == 0


def test_the_inverter_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past MAX_TRACKED_INVERTERS distinct inverters the memory starts over instead of growing."""
    monkeypatch.setattr(history, "MAX_TRACKED_INVERTERS", 10)
    v = validator()
    for n in range(25):
        check(v, "acme", f"INV{n}", "2024-05-01", "1", "1")
    assert 0 < len(v.history._inverters) <= 10


def test_a_mapping_row_is_checked_by_its_keys() -> None:
    """row() reads the CSV header's names; a JSON number arrives as an exact Decimal."""
    row = {
        "RemoteInvId": "INV1",
        "Timestamp": "2024-05-01",
        "PeriodProductionInKWh": Decimal("0.1"),
        "AccumulatedEnergyInKWh": 7,
        "Account": "bolt",
    }
    record = validator(default_account="acme").row(row, "ingest:r1:1")
    assert isinstance(record, Record)
    assert (record.account, record.period_kwh, record.accumulated_kwh) == (
        "bolt",
        Decimal("0.1"),
        Decimal(7),
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"Timestamp": None}, "missing key Timestamp"),
        ({"RemoteInvId": 12}, "RemoteInvId 12 is not text"),
        ({"Timestamp": 20240501}, "Timestamp 20240501 is not a date in the form YYYY-MM-DD"),
        ({"Account": ["acme"]}, "unknown account ['acme']"),
    ],
)
def test_a_mapping_row_with_a_missing_or_mistyped_key_is_rejected(
    change: dict[str, object], reason: str
) -> None:
    """Keys that are absent or of the wrong JSON type give a reason, never an exception."""
    row: dict[str, object] = {
        "RemoteInvId": "INV1",
        "Timestamp": "2024-05-01",
        "PeriodProductionInKWh": "1",
        "AccumulatedEnergyInKWh": "1",
    }
    for key, value in change.items():
        if value is None:
            del row[key]
        else:
            row[key] = value
    assert validator(default_account="acme").row(row, "x:1") == reason


def test_a_value_rounded_past_fifteen_digits_is_refused_even_in_round_mode() -> None:
    """999999999999999.9999 would round to a 16-digit 1000000000000000: refused, not rounded."""
    v = validator()
    result = check(v, "acme", "INV1", "2024-05-01", "1", "999999999999999.9995")
    assert result == "AccumulatedEnergyInKWh 999999999999999.9995 is too large"
    assert v.rounded == 0
    record = check(v, "acme", "INV1", "2024-05-01", "1", "999999999999999.9994")
    assert isinstance(record, Record)
    assert record.accumulated_kwh == Decimal("999999999999999.999")


def test_a_non_ascii_remote_inv_id_that_is_printable_is_kept() -> None:
    """Printable non-ASCII text is an identifier like any other, kept exactly."""
    record = check(validator(), "acme", "逆变器-1", "2024-05-01", "1", "1")
    assert isinstance(record, Record)
    assert record.remote_inv_id == "逆变器-1"


def test_rounded_values_are_noted_with_their_source_and_field() -> None:
    """Each rounding is kept with the row's source, the field, the value given and the one kept."""
    v = validator()
    check(v, "acme", "INV1", "2024-05-01", "1.2345", "7.0001")
    assert [tuple(r) for r in v.roundings] == [
        ("f.csv:2", "PeriodProductionInKWh", "1.2345", "1.234"),
        ("f.csv:2", "AccumulatedEnergyInKWh", "7.0001", "7"),
    ]
