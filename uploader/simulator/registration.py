"""Grouped-device registration, the account's applications, and an application's devices.

`POST device-applications/i-rec/grouped` checks every rule of the registration page at
once (`registration_rules`): anything the registry could not read makes it a 400, any
other broken rule a 422, each error at its field path; else 201 with the application's
id. A registered application's inverters become the account's known inverters, with
their capacity, grid connection date and effective period. The application is
InProgress, then Approved `approval_delay_s` later (at once by default).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import msgspec
from aiohttp import web

from uploader.simulator import responses as r
from uploader.simulator.core import ACCOUNT, CORE, Core
from uploader.simulator.metadata import BRAND_CODES
from uploader.simulator.paging import BadQuery, page_params, paginate
from uploader.simulator.registration_form import Problem
from uploader.simulator.registration_rules import Reference, check
from uploader.simulator.state import AccountState, Application, Group, InverterInfo
from uploader.simulator.wire import (
    INVALID_VALUE,
    MALFORMED,
    DeviceApplicationItem,
    ErrorItem,
    IdData,
    RegisteredDevice,
    named,
)

_any_decoder = msgspec.json.Decoder(float_hook=Decimal)  # numbers stay exact for the rules
RULE = "Rule"  # the error code of a broken business rule


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _refusal(problems: list[Problem]) -> web.Response:
    status = 400 if any(p.malformed for p in problems) else 422
    errors = [
        ErrorItem(Code=MALFORMED if p.malformed else RULE, Message=p.message, Field=p.field)
        for p in problems
    ]
    return r.envelope(status, errors=errors)


async def post_grouped(request: web.Request) -> web.Response:
    """`POST device-applications/i-rec/grouped`: check every rule, then register."""
    raw = await request.read()
    try:
        payload: Any = _any_decoder.decode(raw)
    except msgspec.DecodeError as exc:
        return r.bad_body(exc)
    core = request.app[CORE]
    account = request[ACCOUNT]
    problems = check(payload, _reference(core, account))
    if problems:
        return _refusal(problems)
    app_id = core.new_id()
    try:
        devices = [
            _registered(core, device, payload.get("Timezone")) for device in payload["Devices"]
        ]
    except msgspec.ValidationError as exc:  # the rules are the stricter; this is a safety net
        return r.bad_body(exc)
    _know(core.state.account(account), devices)
    applications = core.state.applications
    approved_at = core.clock() + core.options.approval_delay_s
    number = len(applications) + 1
    group = _group(payload)
    applications[app_id] = Application(app_id, number, account, group, devices, approved_at)
    return r.envelope(201, IdData(Id=app_id))


def _group(payload: dict[str, Any]) -> Group:
    """The group's own fields (the body passed every rule)."""
    return Group(
        english_name=payload["GroupedEnglishName"],
        local_name=payload["GroupedLocalName"],
        country=payload["CountryCode"],
        province=payload["Province"],
        frequency=payload.get("GenerationDataFrequency") or "Daily",
    )


def _reference(core: Core, account: str) -> Reference:
    files = frozenset(fid.lower() for fid, owner in core.state.files.items() if owner == account)
    return Reference(
        today=core.today(core.clock()),
        countries=core.options.countries,
        brands=BRAND_CODES,
        files=files,
    )


def _registered(core: Core, device: dict[str, Any], timezone: str | None) -> RegisteredDevice:
    """The device as the registry keeps it, its inverters numbered (the body is valid)."""
    inverters = [inverter | {"Id": core.next_inverter_id()} for inverter in device["Inverters"]]
    tariff = bool(device.get("FeedInTariff"))  # absent means false
    changes = {
        "Id": core.new_id(),
        "Inverters": inverters,
        "Timezone": timezone,
        "FeedInTariff": tariff,
    }
    return msgspec.convert(device | changes, RegisteredDevice)


def _know(state: AccountState, devices: list[RegisteredDevice]) -> None:
    """The devices' inverters become known to the account, with what their data must obey."""
    for device in devices:
        grid = _date(device.GridConnectionDate)
        for inverter in device.Inverters:
            state.inverters[inverter.RemoteInvId] = InverterInfo(
                capacity_kw=inverter.InstalledCapacity,
                grid_connection=grid,
                effective_start=_date(inverter.EffectiveStartDate),
                effective_end=_date(inverter.EffectiveEndDate),
            )


async def get_devices(request: web.Request) -> web.Response:
    """`GET device-applications/{id}/devices`: the devices of one of the account's applications."""
    core = request.app[CORE]
    app_id = request.match_info["id"]
    application = core.state.applications.get(app_id)
    if application is None:
        return r.error(404, "NotFound", f"no application {app_id}", "id")
    if application.account != request[ACCOUNT]:
        return r.error(403, "Forbidden", f"application {app_id} is another account's", "id")
    return r.envelope(200, application.devices)


async def get_applications(request: web.Request) -> web.Response:
    """`GET device-applications`: the account's applications, oldest first, paged."""
    try:
        page, per_page = page_params(request)
    except BadQuery as exc:
        return r.error(400, INVALID_VALUE, exc.message, exc.field)
    core = request.app[CORE]
    now, account = core.clock(), request[ACCOUNT]
    mine = [a for a in core.state.applications.values() if a.account == account]
    items, meta = paginate([_listed(a, now) for a in mine], page, per_page)
    return r.envelope(200, items, meta=meta)


def _listed(application: Application, now: float) -> DeviceApplicationItem:
    group = application.group
    return DeviceApplicationItem(
        Id=application.id,
        GroupedEnglishName=group.english_name,
        GroupedLocalName=group.local_name,
        CountryCode=group.country,
        Province=group.province,
        GenerationDataFrequency=group.frequency,
        Status=named(application.status(now)),
        Inverters=[i for device in application.devices for i in device.Inverters],
    )
