"""`POST generation-datas/monthly-data`: one inverter, one year of nullable months.

The same rules as daily data, per month: a known inverter, no month that starts in the
future or lies wholly outside the inverter's effective period, values finite,
non-negative, at most 3 decimals, and at most installed capacity x 24 h x days of the month.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import msgspec
from aiohttp import web

from uploader.simulator import bodies, wire
from uploader.simulator import responses as r
from uploader.simulator.checks import status_of, value_errors
from uploader.simulator.core import ACCOUNT, CORE
from uploader.simulator.state import AccountState, InverterInfo, Stats
from uploader.simulator.wire import MONTHS, ErrorItem, ProcessIdData

_MONTHS_FIELD = "Data.PeriodProductionPerMonthInKWh."


async def post_monthly(request: web.Request) -> web.Response:
    """Check the year's months; store them when the process succeeds, or refuse them all."""
    raw = await request.read()
    try:
        body = bodies.monthly_decoder.decode(raw)
    except msgspec.DecodeError as exc:
        return r.bad_body(exc)
    core = request.app[CORE]
    account = request[ACCOUNT]
    now = core.clock()
    state = core.state.account(account)
    months = _given(body)
    places = core.options.grouped_decimals
    errors = _check(body, months, state, core.options.open_inverters, core.today(now))
    for name, value in months.items():
        errors.extend(value_errors(value, places, None, _MONTHS_FIELD + name))
    if errors:
        return r.envelope(status_of(errors), errors=errors)
    state.bodies.append(("monthly", raw))
    core.state.stats.records_accepted += len(months)
    store = _storer(state, body.RemoteInvId, body.Data.Year, months, core.state.stats)
    process = core.processes.create(account, "CreateMonthlyData", store, now)
    return r.envelope(200, ProcessIdData(ProcessId=process.id))


def _given(body: bodies.MonthlyBody) -> dict[str, Decimal]:
    values = body.Data.PeriodProductionPerMonthInKWh
    given = {m: getattr(values, m) for m in MONTHS}
    return {m: v for m, v in given.items() if v is not None}


def _check(
    body: bodies.MonthlyBody,
    months: dict[str, Decimal],
    state: AccountState,
    open_inverters: bool,
    today: dt.date,
) -> list[ErrorItem]:
    info = state.inverters.get(body.RemoteInvId)
    errors: list[ErrorItem] = []
    if info is None and not open_inverters:
        message = f"unknown inverter {body.RemoteInvId!r} for this account"
        errors.append(ErrorItem(Code=wire.UNKNOWN_INVERTER, Message=message, Field="RemoteInvId"))
    year = body.Data.Year
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        message = f"{year} is not a year"
        return [*errors, ErrorItem(Code=wire.MALFORMED, Message=message, Field="Data.Year")]
    if year > today.year:
        message = f"year {year} is in the future"
        return [*errors, ErrorItem(Code=wire.FUTURE, Message=message, Field="Data.Year")]
    for name, value in months.items():
        errors.extend(_month_errors(year, MONTHS.index(name) + 1, value, info, today))
    return errors


def _month_errors(
    year: int, month: int, value: Decimal, info: InverterInfo | None, today: dt.date
) -> list[ErrorItem]:
    path = _MONTHS_FIELD + MONTHS[month - 1]
    first = dt.date(year, month, 1)
    days = calendar.monthrange(year, month)[1]
    last = first + dt.timedelta(days=days - 1)
    errors: list[ErrorItem] = []
    if first > today:
        message = f"{first:%Y-%m} is in the future"
        errors.append(ErrorItem(Code=wire.FUTURE, Message=message, Field=path))
    start = info.first_day if info else None
    if start is not None and last < start:
        message = f"{first:%Y-%m} is before the inverter's effective start {start}"
        errors.append(ErrorItem(Code=wire.BEFORE_START, Message=message, Field=path))
    end = info.effective_end if info else None
    if end is not None and first > end:
        message = f"{first:%Y-%m} is after the inverter's effective end {end}"
        errors.append(ErrorItem(Code=wire.AFTER_END, Message=message, Field=path))
    cap = info.max_daily_kwh if info else None
    if cap is not None and value.is_finite() and value > cap * days:
        message = f"{value} kWh is above installed capacity x 24 h x {days} days"
        errors.append(ErrorItem(Code=wire.ABOVE_CAPACITY, Message=message, Field=path))
    return errors


def _storer(
    state: AccountState, rid: str, year: int, months: dict[str, Decimal], stats: Stats
) -> Callable[[], None]:
    def store() -> None:
        """Runs when the process succeeds."""
        state.monthly.setdefault(rid, {}).setdefault(year, {}).update(months)
        stats.records_stored += len(months)

    return store
