"""The grouped-device registration payload against every rule of the registration page.

`validate` walks the decoded JSON once, reading each field with its type, length and
format (`fields.py`), then applies the rules that span fields, devices and inverters
(`rules.py`). It reports every violation at once, each at its exact field path.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal

from uploader.registration import rules
from uploader.registration.fields import Fields, json_type
from uploader.registration.model import (
    MAX_INVERTER_KW,
    OTHER_BRAND,
    DeviceView,
    InverterView,
    ValidationContext,
    Violation,
)

FREQUENCIES = ("Daily", "Monthly")
_TIMEZONE = re.compile(r"UTC[+-](\d{2}):(\d{2})")


def validate(payload: object, ctx: ValidationContext) -> list[Violation]:
    """Every violation of the registry's grouped-device rules in `payload` (decoded JSON)."""
    out: list[Violation] = []
    group = _fields(payload, "", out)
    if group is None:
        return [Violation("$", f"must be a JSON object, not {json_type(payload)}", True)]
    if ctx.file_ids is not None:  # file ids are compared ignoring case
        ctx = dataclasses.replace(ctx, file_ids=frozenset(i.lower() for i in ctx.file_ids))
    country = _group(group, ctx)
    items = group.array("Devices") or []
    views = (_device(item, f"Devices[{n}]", ctx, country, out) for n, item in enumerate(items))
    devices = [device for device in views if device is not None]
    inverters = [inverter for device in devices for inverter in device.inverters]
    out.extend(rules.feed_in_tariff(devices))
    for device in devices:
        out.extend(rules.effective_period(device, ctx.today))
    out.extend(rules.unique_remote_ids(inverters))
    out.extend(rules.unique_serials(inverters))
    out.extend(rules.replacements(inverters))
    out.extend(rules.group_size(inverters))
    return out


def _fields(node: object, path: str, out: list[Violation]) -> Fields | None:
    if isinstance(node, Mapping):
        return Fields(node, path, out)
    if path:
        out.append(Violation(path, f"must be an object, not {json_type(node)}", True))
    return None


def _group(f: Fields, ctx: ValidationContext) -> str | None:
    """Reads the group's fields; returns its country when it is a supported one."""
    f.text("GroupedLocalName", 255)
    rules.english(f, "GroupedEnglishName", f.text("GroupedEnglishName", 255))
    country = f.text("CountryCode", 2)
    if country is not None and len(country) <= 2 and country not in ctx.countries:
        f.report("CountryCode", f"{country} is not supported ({', '.join(sorted(ctx.countries))})")
        country = None
    rules.province(f, country, f.text("Province", 20))
    timezone = f.text("Timezone", 64, required=False)
    if timezone is not None and not _is_utc_offset(timezone):
        f.report("Timezone", f"must be an offset like UTC+08:00, not {timezone!r}")
    f.choice("GenerationDataFrequency", FREQUENCIES)
    return country


def _is_utc_offset(text: str) -> bool:
    match = _TIMEZONE.fullmatch(text)
    return match is not None and int(match[1]) <= 14 and int(match[2]) < 60


def _device(
    node: object, path: str, ctx: ValidationContext, country: str | None, out: list[Violation]
) -> DeviceView | None:
    f = _fields(node, path, out)
    if f is None:
        return None
    rules.installation_name(f, f.text("InstallationName", 255))
    rules.english(f, "Address", f.text("Address", 255))
    f.text("PostalCode", 100)
    latitude = f.decimal("Latitude", Decimal(-90), Decimal(90), (2, 6), required=True)
    longitude = f.decimal("Longitude", Decimal(-180), Decimal(180), (3, 6), required=True)
    rules.in_country(f, country, latitude, longitude)
    grid = _device_dates(f, ctx)
    f.boolean("Domestic")
    feed_in_tariff = f.boolean("FeedInTariff", required=False)
    if f.node.get("FeedInTariff") is None:
        feed_in_tariff = False  # the registry's default
    f.uuid("DeclarationFormFileId", ctx.file_ids)
    f.decimal("PercentageRenewable", Decimal(0), Decimal(100), (3, 6), required=False)
    items = f.array("Inverters") or []
    views = (_inverter(item, f"{path}.Inverters[{m}]", ctx, out) for m, item in enumerate(items))
    inverters = tuple(view for view in views if view is not None)
    return DeviceView(path, grid, feed_in_tariff, inverters)


def _device_dates(f: Fields, ctx: ValidationContext) -> dt.date | None:
    """Reads the device's dates; returns the grid connection date."""
    grid = f.date("GridConnectionDate")
    if grid is not None and grid > ctx.today:
        f.report("GridConnectionDate", f"in the future (today is {ctx.today.isoformat()})")
    start = f.date("OwnersDeclarationStartDate")
    if start is not None and start > ctx.today:
        message = f"OwnersDeclarationStartDate {start} is in the future (today is {ctx.today}): "
        f.report("OwnersDeclarationStartDate", message + "it must be on or before a request")
    end = f.date("OwnersDeclarationEndDate", required=False)
    if start is not None and end is not None and end <= start:
        f.report("OwnersDeclarationEndDate", f"must be after OwnersDeclarationStartDate ({start})")
    return grid


def _inverter(
    node: object, path: str, ctx: ValidationContext, out: list[Violation]
) -> InverterView | None:
    f = _fields(node, path, out)
    if f is None:
        return None
    return InverterView(
        path=path,
        remote_inv_id=f.text("RemoteInvId", 100),
        serial=f.text("ElectronicSerialNumber", 255),
        brand=_brand(f, ctx.brands),
        capacity=_capacity(f),
        start=f.date("EffectiveStartDate", required=False),
        end=f.date("EffectiveEndDate", required=False),
        replaced=f.text("ReplacedRemoteInvId", 100, required=False),
        replaced_by=f.text("ReplacedByRemoteInvId", 100, required=False),
    )


def _brand(f: Fields, brands: frozenset[str] | None) -> str | None:
    """The inverter's brand for serial uniqueness: BrandCode, or OtherBrandName with OT27."""
    code = f.text("BrandCode", 20)
    other = f.text("OtherBrandName", 255, required=False)
    if code == OTHER_BRAND:
        if other is None or not other.strip():
            f.report("OtherBrandName", f"required when BrandCode is {OTHER_BRAND}")
            return None
        return other.strip()
    if code is not None and brands is not None and code not in brands:
        f.report("BrandCode", f"unknown brand code {code} (use {OTHER_BRAND} and OtherBrandName)")
    return code


def _capacity(f: Fields) -> Decimal | None:
    """InstalledCapacity in kW: positive, decimal(12,3), at most 250 kW (0.25 MW)."""
    capacity = f.decimal("InstalledCapacity", Decimal(0), MAX_INVERTER_KW, (9, 3), required=True)
    if capacity is not None and capacity == 0:
        f.report("InstalledCapacity", "must be greater than 0")
    return capacity


def advice(payload: object) -> list[Violation]:
    """What is allowed but probably not meant: each device without PercentageRenewable (the
    registration page gives it two defaults, 0 in its type line and 100 in its text)."""
    devices = payload.get("Devices") if isinstance(payload, Mapping) else None
    if not isinstance(devices, list):
        return []
    message = "not given: the registration page's defaults differ (0 or 100); state it"
    return [
        Violation(f"Devices[{n}].PercentageRenewable", message, malformed=False)
        for n, device in enumerate(devices)
        if isinstance(device, Mapping) and device.get("PercentageRenewable") is None
    ]
