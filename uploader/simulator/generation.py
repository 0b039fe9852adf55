"""Daily generation POSTs: the legacy endpoint, the grouped single inverter, and batches.

All-or-nothing per request: a body with any violation stores nothing and the answer lists
every violation. An accepted grouped body gets a ProcessId and is stored when its process
succeeds; the legacy endpoint answers `Data: {}` and stores at once. Grouped bodies try
the fast lane first (`fastpath`); whatever it does not accept takes the precise path.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

import msgspec
from aiohttp import web

from uploader.simulator import bodies, fastpath
from uploader.simulator.checks import Group, Rules, check, status_of
from uploader.simulator.core import ACCOUNT, CORE, Core
from uploader.simulator.responses import bad_body, envelope, error
from uploader.simulator.state import AccountState, Stats, StoredDay
from uploader.simulator.wire import INVALID_VALUE, MALFORMED, DailyData, FastDaily, ProcessIdData

# What a body stores: (RemoteInvId, its days, its records) per inverter, days in step.
Batch = list[tuple[str, list[dt.date], Sequence[StoredDay]]]


async def post_batch(request: web.Request) -> web.Response:
    """`POST generation-datas/batches`: many inverters, at most 3000 records in all."""
    raw = await request.read()
    try:
        fast = fastpath.batch_decoder.decode(raw)
    except msgspec.DecodeError:
        pass
    else:
        groups = [(d.RemoteInvId, d.Data) for d in fast.Devices]
        if (answer := _fast(request, raw, "batch", groups)) is not None:
            return answer
    try:
        body = bodies.batch_decoder.decode(raw)
    except msgspec.DecodeError as exc:
        return bad_body(exc)
    precise = [
        Group(d.RemoteInvId, f"Devices[{i}].RemoteInvId", f"Devices[{i}].", d.Data)
        for i, d in enumerate(body.Devices)
    ]
    return _precise(request, raw, "batch", precise, records_field="Devices")


async def post_single(request: web.Request) -> web.Response:
    """`POST generation-datas`: one inverter of a grouped device."""
    raw = await request.read()
    try:
        fast = fastpath.single_decoder.decode(raw)
    except msgspec.DecodeError:
        pass
    else:
        if (answer := _fast(request, raw, "single", [(fast.RemoteInvId, fast.Data)])) is not None:
            return answer
    try:
        body = bodies.single_decoder.decode(raw)
    except msgspec.DecodeError as exc:
        return bad_body(exc)
    group = Group(body.RemoteInvId, "RemoteInvId", "", body.Data)
    return _precise(request, raw, "single", [group], records_field="Data")


async def post_legacy(request: web.Request) -> web.Response:
    """`POST generation-data`: the seed's single-device body, 4 decimals allowed."""
    raw = await request.read()
    try:
        body = bodies.legacy_decoder.decode(raw)
    except msgspec.DecodeError as exc:
        return bad_body(exc)
    rid = body.RemoteInvId if body.RemoteInvId is not None else body.RemoteId
    if rid is None:
        return error(400, MALFORMED, "Object missing required field `RemoteInvId`", "RemoteInvId")
    if body.FrequencyType != "Daily":
        message = f"FrequencyType {body.FrequencyType!r}: only Daily is supported"
        return error(400, INVALID_VALUE, message, "FrequencyType")
    field = "RemoteInvId" if body.RemoteInvId is not None else "RemoteId"
    data = [
        DailyData(
            Timestamp=d.Timestamp,
            PeriodProductionInKWh=d.PeriodProductionInKWh,
            AccumulatedEnergyInKWh=d.AccumulatedPowerInKWh,
        )
        for d in body.Data
    ]
    group = Group(rid, field, "", data)
    return _precise(request, raw, "legacy", [group], records_field="Data", legacy=True)


def _fast(
    request: web.Request,
    raw: bytes,
    kind: str,
    groups: Sequence[tuple[str, Sequence[FastDaily]]],
) -> web.Response | None:
    """Accept a canonical body that breaks no rule; None hands it to the precise path."""
    core = request.app[CORE]
    now = core.clock()
    state = core.state.account(request[ACCOUNT])
    days = fastpath.fast_days(groups, _rules(core, state, "", False, now))
    if days is None:
        return None
    batch: Batch = [(rid, d, data) for (rid, data), d in zip(groups, days, strict=True)]
    return _commit(request, core, state, raw, kind, batch, now, legacy=False)


def _precise(
    request: web.Request,
    raw: bytes,
    kind: str,
    groups: list[Group],
    *,
    records_field: str,
    legacy: bool = False,
) -> web.Response:
    """Check every record; store them all (now, or when the process succeeds) or none."""
    core = request.app[CORE]
    now = core.clock()
    state = core.state.account(request[ACCOUNT])
    errors = check(groups, _rules(core, state, records_field, legacy, now))
    if errors:
        return envelope(status_of(errors), errors=errors)
    batch: Batch = [(g.rid, g.days, g.data) for g in groups]
    return _commit(request, core, state, raw, kind, batch, now, legacy=legacy)


def _commit(
    request: web.Request,
    core: Core,
    state: AccountState,
    raw: bytes,
    kind: str,
    batch: Batch,
    now: float,
    *,
    legacy: bool,
) -> web.Response:
    """Remember the body, count its records, and store them through a process."""
    state.bodies.append((kind, raw))
    core.state.stats.records_accepted += sum(len(data) for _, _, data in batch)
    store = _storer(state, batch, core.state.stats)
    if legacy:
        store()
        return envelope(200, {})
    process = core.processes.create(request[ACCOUNT], "CreateNewGenerationData", store, now)
    return envelope(200, ProcessIdData(ProcessId=process.id))


def _rules(core: Core, state: AccountState, records_field: str, legacy: bool, now: float) -> Rules:
    options = core.options
    return Rules(
        today=core.today(now),
        places=options.legacy_decimals if legacy else options.grouped_decimals,
        inverters=state.inverters,
        open_inverters=options.open_inverters,
        max_records=options.max_records,
        records_field=records_field,
        accumulated="AccumulatedPowerInKWh" if legacy else "AccumulatedEnergyInKWh",
    )


def _storer(state: AccountState, batch: Batch, stats: Stats) -> Callable[[], None]:
    """Store the body's records; a day sent again overwrites the one stored."""

    def store() -> None:
        """Runs when the process succeeds."""
        for rid, days, data in batch:
            by_day = state.days.get(rid)
            if by_day is None:
                by_day = state.days[rid] = {}
            by_day.update(zip(days, data, strict=True))
            stats.records_stored += len(data)

    return store
