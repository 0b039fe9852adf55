"""Reads: `GET generation-datas` (stored daily data, paged) and processing statuses."""

from __future__ import annotations

import calendar
import datetime as dt

from aiohttp import web

from uploader.simulator import responses as r
from uploader.simulator import wire
from uploader.simulator.core import ACCOUNT, CORE
from uploader.simulator.paging import BadQuery, date_param, int_param, page_params, paginate
from uploader.simulator.state import AccountState, as_decimal
from uploader.simulator.wire import GenerationDay

MAX_RANGE_MONTHS = 3  # FromDate..ToDate spans at most three months


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, clamped to the end of a shorter month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    return day.replace(year=year, month=month, day=min(day.day, last_day))


def _range(request: web.Request) -> tuple[dt.date, dt.date]:
    frequency = request.query.get("FrequencyType")
    if frequency != "Daily":
        raise BadQuery("FrequencyType", "FrequencyType: only Daily is supported per inverter")
    first, last = date_param(request, "FromDate"), date_param(request, "ToDate")
    if last < first:
        raise BadQuery("ToDate", "ToDate is before FromDate")
    if last > add_months(first, MAX_RANGE_MONTHS):
        raise BadQuery("ToDate", f"the range may span at most {MAX_RANGE_MONTHS} months")
    return first, last


def _days(
    state: AccountState, rid: str | None, first: dt.date, last: dt.date
) -> list[GenerationDay]:
    rids = sorted(state.days) if rid is None else [rid]
    return [
        GenerationDay(
            RemoteInvId=name,
            Timestamp=day,
            PeriodProductionInKWh=as_decimal(rec.PeriodProductionInKWh),
            AccumulatedEnergyInKWh=as_decimal(rec.AccumulatedEnergyInKWh),
        )
        for name in rids
        for day, rec in sorted(state.days.get(name, {}).items())
        if first <= day <= last
    ]


async def get_generation(request: web.Request) -> web.Response:
    """The account's stored days in a range of at most 3 months, one inverter or all."""
    core = request.app[CORE]
    try:
        first, last = _range(request)
        page, per_page = page_params(request)
    except BadQuery as exc:
        return r.error(400, wire.INVALID_VALUE, exc.message, exc.field)
    core.processes.settle(core.clock())
    state = core.state.account(request[ACCOUNT])
    rid = request.query.get("RemoteInvId") or None
    known = rid is None or rid in state.inverters or rid in state.days
    if not known and not core.options.open_inverters:
        return r.error(422, wire.UNKNOWN_INVERTER, f"unknown inverter {rid!r}", "RemoteInvId")
    items, meta = paginate(_days(state, rid, first, last), page, per_page)
    return r.envelope(200, items, meta=meta)


async def get_status(request: web.Request) -> web.Response:
    """`generation-datas/statuses?ProcessId=N`: the process of one of the account's requests."""
    core = request.app[CORE]
    try:
        process_id = int_param(request, "ProcessId")
    except BadQuery as exc:
        return r.error(400, wire.INVALID_VALUE, exc.message, exc.field)
    process = core.processes.get(process_id)
    if process is None:
        return r.error(404, "NotFound", f"no process {process_id}", "ProcessId")
    if process.account != request[ACCOUNT]:
        return r.error(403, "Forbidden", f"process {process_id} is another account's", "ProcessId")
    return r.envelope(200, core.processes.status(process, core.clock()))
