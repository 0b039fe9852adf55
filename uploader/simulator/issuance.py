"""Issuance: `POST rec-applications/grouped-device` and `GET rec-applications`.

A request names a grouped device by the id its registration answered (`DeviceId`) and a
vintage. Checked in this order: a body the registry cannot read, a DeviceId that is no
UUID, a vintage that ends before it starts, or one wholly before the earliest claimable day
(`deadline`) is a 400; a DeviceId that names no application is a 404, another account's a
403; a device not Approved yet, a vintage ending in the future, or one overlapping a live
application of the same device (any status but Rejected or Withdrawn) is a 422. Otherwise
201 with the new application's id, and a warning in `Message` when the vintage starts
before the earliest claimable day. The application starts InProgress; its Quantity is the
MWh the registry holds for the group's inverters in the claimable part of the vintage.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from decimal import Decimal

import msgspec
from aiohttp import web

from uploader.simulator import deadline
from uploader.simulator import responses as r
from uploader.simulator.core import ACCOUNT, CORE, Core
from uploader.simulator.paging import BadQuery, page_params, paginate
from uploader.simulator.state import Application, RecApplication, as_decimal
from uploader.simulator.wire import (
    INVALID_VALUE,
    MALFORMED,
    MONTHS,
    STATUSES,
    IdData,
    IssuanceRequest,
    RecApplicationItem,
    named,
)

CREATED = "Create REC issuance successfully."  # the page's 201 Message
PAST_DEADLINE = "The vintage is past the Residual Mix Deadline."
PARTLY_PAST = "Part of the vintage is past the Residual Mix Deadline and will not be issued."
RULE = "Rule"
CLOSED = frozenset({"Rejected", "Withdrawn"})  # their periods may be requested again
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
_request = msgspec.json.Decoder(IssuanceRequest)
_GROUPED = named("Grouped", {"Grouped": "Grouped"})
_IREC = named("IREC", {"IREC": "I-REC"})


async def post_issuance(request: web.Request) -> web.Response:
    """Check the request in the documented order; file it, or answer why not."""
    try:
        body = _request.decode(await request.read())
    except msgspec.DecodeError as exc:
        return r.bad_body(exc)
    core = request.app[CORE]
    now = core.clock()
    earliest = deadline.earliest_claimable(deadline.request_day(now))
    refusal = _unreadable(body, earliest)
    if refusal is not None:
        return refusal
    device = core.state.applications.get(body.DeviceId.lower())
    if device is None:
        return r.error(404, "NotFound", f"no grouped device {body.DeviceId}", "DeviceId")
    if device.account != request[ACCOUNT]:
        return r.error(403, "Forbidden", f"device {body.DeviceId} is another account's", "DeviceId")
    broken = _broken_rule(core, device, body, now)
    if broken is not None:
        return r.error(422, RULE, *broken)
    filed = _file(core, device, body, max(body.VintageFrom, earliest), now)
    message = CREATED
    if body.VintageFrom < earliest:
        message = f"{CREATED} {PARTLY_PAST} {deadline.from_when(earliest)}"
    return r.envelope(201, IdData(Id=filed.id), message=message)


def _unreadable(body: IssuanceRequest, earliest: dt.date) -> web.Response | None:
    """The 400s: a DeviceId that is no UUID, a reversed vintage, a vintage past the deadline."""
    if not _UUID.fullmatch(body.DeviceId):
        return r.error(400, MALFORMED, "DeviceId must be a UUID", "DeviceId")
    if body.VintageTo < body.VintageFrom:
        message = f"VintageTo {body.VintageTo} is before VintageFrom {body.VintageFrom}"
        return r.error(400, INVALID_VALUE, message, "VintageTo")
    if body.VintageTo < earliest:
        message = f"{PAST_DEADLINE} {deadline.from_when(earliest)}"
        return r.error(400, INVALID_VALUE, message, "VintageTo")
    return None


def _broken_rule(
    core: Core, device: Application, body: IssuanceRequest, now: float
) -> tuple[str, str | None] | None:
    """The first business rule the request breaks: (message, field), or None."""
    status = device.status(now)
    if status != "Approved":
        return f"device {device.id} is {status}, not Approved", "DeviceId"
    if body.VintageTo > core.today(now):
        return f"VintageTo {body.VintageTo} is in the future", "VintageTo"
    for other in core.state.rec_applications.values():
        first, last = other.vintage
        live = other.device is device and other.status not in CLOSED
        if live and first <= body.VintageTo and body.VintageFrom <= last:
            message = f"the vintage overlaps application {_number(other)} ({first} to {last})"
            return message, None
    return None


def _file(
    core: Core, device: Application, body: IssuanceRequest, first: dt.date, now: float
) -> RecApplication:
    """Keep a new application, its quantity read from what the registry holds now."""
    core.processes.settle(now)
    filed = RecApplication(
        id=core.new_id(),
        number=len(core.state.rec_applications) + 1,
        device=device,
        vintage=(body.VintageFrom, body.VintageTo),
        quantity_mwh=_held_kwh(core, device, first, body.VintageTo).scaleb(-3),
    )
    core.state.rec_applications[filed.id] = filed
    return filed


def _held_kwh(core: Core, device: Application, first: dt.date, last: dt.date) -> Decimal:
    """kWh held for the group's inverters from `first` to `last`: days, and whole months."""
    state = core.state.account(device.account)
    total = Decimal(0)
    for rid in device.remote_inv_ids:
        for day, rec in state.days.get(rid, {}).items():
            if first <= day <= last:
                total += as_decimal(rec.PeriodProductionInKWh)
        for year, months in state.monthly.get(rid, {}).items():
            for name, value in months.items():
                month = MONTHS.index(name) + 1
                end = dt.date(year, month, calendar.monthrange(year, month)[1])
                if first <= dt.date(year, month, 1) and end <= last:
                    total += value
    return total


async def get_rec_applications(request: web.Request) -> web.Response:
    """`GET rec-applications?DeviceIds&Status`: the account's applications, oldest first."""
    try:
        page, per_page = page_params(request)
        devices, status = _filters(request)
    except BadQuery as exc:
        return r.error(400, INVALID_VALUE, exc.message, exc.field)
    core = request.app[CORE]
    account = request[ACCOUNT]
    chosen = [
        a
        for a in core.state.rec_applications.values()
        if a.device.account == account
        and (not devices or a.device.id in devices)
        and (status is None or a.status == status)
    ]
    items, meta = paginate([_listed(a) for a in chosen], page, per_page)
    return r.envelope(200, items, meta=meta)


def _filters(request: web.Request) -> tuple[frozenset[str], str | None]:
    """`DeviceIds` (repeated, UUIDs) and `Status` (one of the page's statuses)."""
    devices = request.query.getall("DeviceIds", [])
    for device in devices:
        if not _UUID.fullmatch(device):
            raise BadQuery("DeviceIds", f"DeviceIds {device!r} is not a UUID")
    status = request.query.get("Status") or None
    if status is not None and status not in STATUSES:
        raise BadQuery("Status", f"Status must be one of {', '.join(STATUSES)}")
    return frozenset(d.lower() for d in devices), status


def _number(application: RecApplication) -> str:
    return f"RA{application.number:07d}"


def _listed(application: RecApplication) -> RecApplicationItem:
    device = application.device
    first, last = application.vintage
    return RecApplicationItem(
        Id=application.id,
        ApplicationNumber=_number(application),
        DeviceId=device.id,
        DeviceName=device.group.english_name,
        DeviceUniqueId=f"GD{device.number:07d}",
        DeviceType=_GROUPED,
        CountryCode=device.group.country,
        ProvinceCode=device.group.province,
        Energy="Solar",
        FuelType="Group Solar Rooftop",  # the registration page's fuel type
        Registry=_IREC,
        Status=named(application.status),
        VintageFrom=first,
        VintageTo=last,
        Quantity=application.quantity_mwh,
    )
