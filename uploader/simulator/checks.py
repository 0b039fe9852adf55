"""The rules a body of daily records must pass, reporting every violation with its path.

Status: 400 for more records than allowed (that error alone: the records are not read), an
inverter in two `Devices` items, a duplicate (RemoteInvId, day) and a non-finite value;
422 for the business rules (unknown inverter, a day outside the inverter's
effective period or in the future, a negative value, too many decimals, production above
installed capacity x 24 h). No other rule is invented: an accumulated meter value may fall.

Speed matters here (a 3000-record batch must pass in about a millisecond), so each group
of records first takes whole-list checks; only a group that fails them is walked record by
record to name each violation. (`fastpath` goes further for canonical bodies.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from uploader.simulator import wire
from uploader.simulator.state import InverterInfo
from uploader.simulator.wire import DailyData, ErrorItem

ZERO = Decimal(0)
MALFORMED_CODES = frozenset(
    {
        wire.TOO_MANY_RECORDS,
        wire.DUPLICATE,
        wire.DUPLICATE_INVERTER,
        wire.NOT_FINITE,
        wire.MALFORMED,
    }
)
QUANTA = {places: Decimal(1).scaleb(-places) for places in range(7)}


@dataclass(slots=True)
class Group:
    """The records of one inverter in a body, and where they sit in it."""

    rid: str
    rid_field: str  # "Devices[0].RemoteInvId"
    prefix: str  # "Devices[0]." ("" on the single-inverter endpoints)
    data: Sequence[DailyData]
    days: list[dt.date] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Rules:
    """What a body is checked against."""

    today: dt.date
    places: int
    inverters: dict[str, InverterInfo]
    open_inverters: bool
    max_records: int
    records_field: str  # where a "too many records" error points
    accumulated: str = "AccumulatedEnergyInKWh"  # the legacy endpoint's name differs


def status_of(errors: list[ErrorItem]) -> int:
    """400 when any error is of the malformed kind, else 422."""
    return 400 if any(e.Code in MALFORMED_CODES for e in errors) else 422


def decimal_places(value: Decimal) -> int:
    """Decimal places of the value (trailing zeros do not count): exact, for the slow path."""
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # callers pass finite values
    if not any(digits):
        return 0
    trailing = len(digits) - len(bytes(digits).rstrip(b"\0"))
    return max(0, -(exponent + trailing))


def check(groups: list[Group], rules: Rules) -> list[ErrorItem]:
    """Every violation of the body's records; fills each group's `days`."""
    total = sum(len(g.data) for g in groups)
    if total > rules.max_records:
        message = f"{total} daily records; at most {rules.max_records} per request"
        field = rules.records_field
        return [ErrorItem(Code=wire.TOO_MANY_RECORDS, Message=message, Field=field)]
    errors: list[ErrorItem] = []
    seen: dict[str, set[dt.date]] = {}
    first: dict[str, str] = {}  # RemoteInvId -> the field of its first item
    for group in groups:
        if group.rid in first:
            message = f"inverter {group.rid!r} is already at {first[group.rid]}: one item each"
            errors.append(
                ErrorItem(Code=wire.DUPLICATE_INVERTER, Message=message, Field=group.rid_field)
            )
        first.setdefault(group.rid, group.rid_field)
        errors.extend(_check_group(group, rules, seen))
    return errors


def _check_group(group: Group, rules: Rules, seen: dict[str, set[dt.date]]) -> list[ErrorItem]:
    info = rules.inverters.get(group.rid)
    errors: list[ErrorItem] = []
    if info is None and not rules.open_inverters:
        message = f"unknown inverter {group.rid!r} for this account"
        errors.append(ErrorItem(Code=wire.UNKNOWN_INVERTER, Message=message, Field=group.rid_field))
    group.days = days = [rec.Timestamp for rec in group.data]
    if not days:
        return errors
    earlier = seen.get(group.rid, set())
    unique = set(days)
    fast = (
        len(unique) == len(days)
        and earlier.isdisjoint(unique)
        and days_ok(min(days), max(days), info, rules.today)
        and _values_ok(group.data, QUANTA[rules.places], info)
    )
    if not fast:
        errors.extend(_walk(group, rules, info, earlier))
    seen[group.rid] = earlier | unique if earlier else unique
    return errors


def days_ok(first: dt.date, last: dt.date, info: InverterInfo | None, today: dt.date) -> bool:
    """Whether days from `first` to `last` are neither in the future nor outside the period."""
    if last > today:
        return False
    if info is None:
        return True
    start, end = info.first_day, info.effective_end
    return (start is None or first >= start) and (end is None or last <= end)


def _values_ok(data: Sequence[DailyData], quantum: Decimal, info: InverterInfo | None) -> bool:
    """True when every value is finite, non-negative, short enough and within capacity."""
    try:
        for rec in data:
            p, a = rec.PeriodProductionInKWh, rec.AccumulatedEnergyInKWh
            # A remainder is non-zero past `places` decimals, NaN for NaN, and raises for
            # infinities and huge values (the walk then decides): half the cost of
            # quantize(), a third of as_tuple(). is_signed() also sends -0 to the walk.
            if p % quantum or a % quantum or p.is_signed() or a.is_signed():
                return False
    except InvalidOperation:
        return False
    cap = None if info is None else info.max_daily_kwh
    return cap is None or max(rec.PeriodProductionInKWh for rec in data) <= cap


def _walk(
    group: Group, rules: Rules, info: InverterInfo | None, earlier: set[dt.date]
) -> list[ErrorItem]:
    """Record by record: every violation with its field path."""
    errors: list[ErrorItem] = []
    seen = set(earlier)
    for j, rec in enumerate(group.data):
        at = f"{group.prefix}Data[{j}]."
        if rec.Timestamp in seen:
            message = f"duplicate day {rec.Timestamp} for inverter {group.rid!r}"
            errors.append(ErrorItem(Code=wire.DUPLICATE, Message=message, Field=at + "Timestamp"))
        seen.add(rec.Timestamp)
        errors.extend(_day_errors(rec.Timestamp, info, rules.today, at + "Timestamp"))
        values = (
            ("PeriodProductionInKWh", rec.PeriodProductionInKWh, info),
            (rules.accumulated, rec.AccumulatedEnergyInKWh, None),
        )
        for name, value, capped in values:
            errors.extend(value_errors(value, rules.places, capped, at + name))
    return errors


def _day_errors(
    day: dt.date, info: InverterInfo | None, today: dt.date, path: str
) -> list[ErrorItem]:
    errors: list[ErrorItem] = []
    if day > today:
        errors.append(ErrorItem(Code=wire.FUTURE, Message=f"{day} is in the future", Field=path))
    start = info.first_day if info else None
    if start is not None and day < start:
        message = f"{day} is before the inverter's effective start {start}"
        errors.append(ErrorItem(Code=wire.BEFORE_START, Message=message, Field=path))
    end = info.effective_end if info else None
    if end is not None and day > end:
        message = f"{day} is after the inverter's effective end {end}"
        errors.append(ErrorItem(Code=wire.AFTER_END, Message=message, Field=path))
    return errors


def value_errors(
    value: Decimal, places: int, capped: InverterInfo | None, path: str
) -> list[ErrorItem]:
    """Errors of one energy value; `capped` is the inverter when capacity applies."""
    if not value.is_finite():
        return [ErrorItem(Code=wire.NOT_FINITE, Message=f"{value} is not a number", Field=path)]
    errors: list[ErrorItem] = []
    if value < ZERO:
        errors.append(ErrorItem(Code=wire.NEGATIVE, Message=f"{value} is negative", Field=path))
    if decimal_places(value) > places:
        message = f"{value} has more than {places} decimal places"
        errors.append(ErrorItem(Code=wire.TOO_MANY_DECIMALS, Message=message, Field=path))
    cap = capped.max_daily_kwh if capped else None
    if cap is not None and value > cap:
        message = f"{value} kWh is above installed capacity x 24 h ({cap} kWh)"
        errors.append(ErrorItem(Code=wire.ABOVE_CAPACITY, Message=message, Field=path))
    return errors
