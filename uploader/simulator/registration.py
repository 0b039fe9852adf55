"""Grouped-device registration and an application's devices.

The rules are the shared validator's (`uploader.registration.validate`), so the client and
the simulator cannot disagree: any malformed violation is a 400, any other a 422, else
201 with the application's id. A registered application's inverters become the account's
known inverters, with their capacity, grid connection date and effective period.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import msgspec
from aiohttp import web

from uploader.registration import ValidationContext, Violation, validate
from uploader.registry.wire import (
    Device,
    DeviceWithInverters,
    ErrorItem,
    GroupedDeviceApplication,
    IdData,
    Inverter,
    RegisteredInverter,
)
from uploader.simulator import responses as r
from uploader.simulator.core import ACCOUNT, CORE, Core
from uploader.simulator.metadata import BRAND_CODES
from uploader.simulator.state import Application, InverterInfo

_any_decoder = msgspec.json.Decoder(float_hook=Decimal)  # numbers stay exact for the rules
_application_decoder = msgspec.json.Decoder(GroupedDeviceApplication)


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _refusal(violations: list[Violation]) -> web.Response:
    status = 400 if any(v.malformed for v in violations) else 422
    errors: list[ErrorItem | str] = [
        ErrorItem(Code=r.MALFORMED if v.malformed else "Rule", Message=v.message, Field=v.field)
        for v in violations
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
    violations = validate(payload, _context(core, account))
    if violations:
        return _refusal(violations)
    try:
        application = _application_decoder.decode(raw)
    except msgspec.DecodeError as exc:  # the validator is the stricter; this is a safety net
        return r.bad_body(exc)
    app_id = core.new_id()
    tz = application.Timezone
    devices = [_registered(core, account, device, tz) for device in application.Devices]
    core.state.applications[app_id] = Application(app_id, account, devices)
    return r.envelope(201, IdData(Id=app_id))


def _context(core: Core, account: str) -> ValidationContext:
    files = frozenset(fid for fid, owner in core.state.files.items() if owner == account)
    return ValidationContext(
        today=core.today(core.clock()),
        countries=core.options.countries,
        brands=BRAND_CODES,
        file_ids=files,
    )


def _registered(
    core: Core, account: str, device: Device, timezone: str | None
) -> DeviceWithInverters:
    """The device as the registry keeps it; its inverters become known to the account."""
    known = core.state.account(account).inverters
    grid = _date(device.GridConnectionDate)
    for inverter in device.Inverters:
        known[inverter.RemoteInvId] = InverterInfo(
            capacity_kw=inverter.InstalledCapacity,
            grid_connection=grid,
            effective_start=_date(inverter.EffectiveStartDate),
            effective_end=_date(inverter.EffectiveEndDate),
        )
    fields = msgspec.structs.asdict(device)
    inverters = [_numbered(core, inverter) for inverter in device.Inverters]
    fields.update(Id=core.new_id(), Inverters=inverters, Timezone=timezone)
    return msgspec.convert(fields, DeviceWithInverters, from_attributes=True)


def _numbered(core: Core, inverter: Inverter) -> RegisteredInverter:
    return RegisteredInverter(
        Id=core.next_inverter_id(),
        RemoteInvId=inverter.RemoteInvId,
        ElectronicSerialNumber=inverter.ElectronicSerialNumber,
        BrandCode=inverter.BrandCode,
        InstalledCapacity=inverter.InstalledCapacity,
        OtherBrandName=inverter.OtherBrandName,
        EffectiveStartDate=inverter.EffectiveStartDate,
        EffectiveEndDate=inverter.EffectiveEndDate,
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
