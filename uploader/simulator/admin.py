"""Test hooks that make the registry lose or change what it holds, and decide applications.

Each is a function on the simulator's core, called by a `FakeRegistry` method and by a
`/_sim/...` route (plain JSON, outside auth, limits and faults), so a test in another
process can use it too. Due processes settle first: a hook acts on what is stored by then.

    POST /_sim/drop-days   {"Account", "RemoteInvId" (null: every inverter), "FromDate", "ToDate"}
    POST /_sim/alter-day   {"Account", "RemoteInvId", "Timestamp",
                            "PeriodProductionInKWh"?, "AccumulatedEnergyInKWh"?}
    POST /_sim/rec-status  {"Id", "Status"}
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import msgspec
from aiohttp import web

from uploader.simulator.core import CORE, Core
from uploader.simulator.responses import JSON
from uploader.simulator.state import as_decimal
from uploader.simulator.wire import ENCODER, STATUSES, DailyData


class DropDays(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Which stored days to forget."""

    Account: str
    FromDate: dt.date
    ToDate: dt.date
    RemoteInvId: str | None = None


class AlterDay(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A stored day and its new values (a value left out keeps the stored one)."""

    Account: str
    RemoteInvId: str
    Timestamp: dt.date
    PeriodProductionInKWh: Decimal | None = None
    AccumulatedEnergyInKWh: Decimal | None = None


class RecStatus(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A REC application's new status."""

    Id: str
    Status: str


_drop_days = msgspec.json.Decoder(DropDays)
_alter_day = msgspec.json.Decoder(AlterDay)  # values decode to exact Decimals, never floats
_rec_status = msgspec.json.Decoder(RecStatus)


def drop_days(
    core: Core, account: str, remote_inv_id: str | None, first: dt.date, last: dt.date
) -> int:
    """Forget the account's stored days from `first` to `last`; how many were dropped."""
    core.processes.settle(core.clock())
    days = core.state.account(account).days
    dropped = 0
    for rid in list(days) if remote_inv_id is None else [remote_inv_id]:
        by_day = days.get(rid, {})
        gone = [day for day in by_day if first <= day <= last]
        for day in gone:
            del by_day[day]
        dropped += len(gone)
    return dropped


def alter_day(
    core: Core,
    account: str,
    remote_inv_id: str,
    day: dt.date,
    produced: Decimal | None = None,
    accumulated: Decimal | None = None,
) -> None:
    """Give a stored day other values; KeyError when that day is not stored."""
    core.processes.settle(core.clock())
    by_day = core.state.account(account).days.get(remote_inv_id, {})
    stored = by_day[day]
    by_day[day] = DailyData(
        Timestamp=day,
        PeriodProductionInKWh=_or_stored(produced, stored.PeriodProductionInKWh),
        AccumulatedEnergyInKWh=_or_stored(accumulated, stored.AccumulatedEnergyInKWh),
    )


def _or_stored(new: Decimal | None, stored: Decimal | str) -> Decimal:
    return as_decimal(stored) if new is None else new


def set_rec_status(core: Core, rec_id: str, status: str) -> None:
    """Decide a REC application; KeyError for an unknown id, ValueError for a bad status."""
    if status not in STATUSES:
        raise ValueError(f"Status must be one of {', '.join(STATUSES)}")
    core.state.rec_applications[rec_id.lower()].status = status


def _answer(status: int, data: dict[str, Any]) -> web.Response:
    return web.Response(body=ENCODER.encode(data), status=status, content_type=JSON)


async def post_drop_days(request: web.Request) -> web.Response:
    """`POST /_sim/drop-days`: answers `{"dropped": n}`."""
    try:
        body = _drop_days.decode(await request.read())
    except msgspec.DecodeError as exc:
        return _answer(400, {"error": str(exc)})
    core = request.app[CORE]
    dropped = drop_days(core, body.Account, body.RemoteInvId, body.FromDate, body.ToDate)
    return _answer(200, {"dropped": dropped})


async def post_alter_day(request: web.Request) -> web.Response:
    """`POST /_sim/alter-day`: 200, or 404 when the day is not stored."""
    try:
        body = _alter_day.decode(await request.read())
    except msgspec.DecodeError as exc:
        return _answer(400, {"error": str(exc)})
    core = request.app[CORE]
    values = (body.PeriodProductionInKWh, body.AccumulatedEnergyInKWh)
    try:
        alter_day(core, body.Account, body.RemoteInvId, body.Timestamp, *values)
    except KeyError:
        return _answer(404, {"error": f"{body.Timestamp} of {body.RemoteInvId} is not stored"})
    return _answer(200, {"altered": 1})


async def post_rec_status(request: web.Request) -> web.Response:
    """`POST /_sim/rec-status`: 200, 400 for a status not listed, 404 for an unknown id."""
    try:
        body = _rec_status.decode(await request.read())
        set_rec_status(request.app[CORE], body.Id, body.Status)
    except (msgspec.DecodeError, ValueError) as exc:
        return _answer(400, {"error": str(exc)})
    except KeyError:
        return _answer(404, {"error": f"no REC application {body.Id}"})
    return _answer(200, {"status": body.Status})
