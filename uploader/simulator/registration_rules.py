"""Every rule of grouped-device registration, as the registry's pages state them.

Read from the registry's "Register Grouped Device Application" page, which wins wherever
another page differs, and its "API guideline on the Effective Period", which adds the
replacement fields. Beyond each field's own table entry (`registration_form`), the rules
are:

- the group: `CountryCode` one of the registry's locations, `Timezone` an offset such as
  `UTC+08:00`, `GroupedEnglishName` in English, `Province` a province code where the
  location has them (`places`); at most 500 inverters and 125 MW installed over all its
  devices;
- a device: `InstallationName` written `{company}-{province}-{counter}`, the counter six
  digits counting from 000001; `Address` in English; `Latitude` and `Longitude` inside the
  group's country; `GridConnectionDate` and `OwnersDeclarationStartDate` not in the future
  (the start must be on or before an issuance request's date, and the earliest request
  is today's), `OwnersDeclarationEndDate` after the start, its ODF uploaded by this account,
  `FeedInTariff` the same as the first device's (absent means false);
- an inverter: a brand from the brand list, or `OT27` with its name in `OtherBrandName`;
  its effective period starts on or after grid connection (by default on it), ends after
  it starts, and neither end lies in the future; `RemoteInvId` unique in the request, the
  serial unique per brand; a replacement field names another inverter of the request.

"In English" is read as printable ASCII: the page's examples and its Chinese twin ("只限英文")
leave no room for letters outside the English alphabet, and a tab or line break is no part
of an address or a name.

Identifiers are compared ignoring case: ids that differ only in case would be ambiguous to
the registry's operators, and a .NET service's store most likely compares them so.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from uploader.simulator.places import BOXES, PROVINCE_CODES, Box, is_province_code
from uploader.simulator.registration_form import (
    DEVICE,
    GROUP,
    INVERTER,
    Part,
    Problem,
    read_part,
)

OTHER_BRAND = "OT27"
MAX_INVERTERS = 500
MAX_TOTAL_KW = Decimal(125_000)  # 125 MW
_OFFSET = re.compile(r"UTC[+-]([0-9]{2}):([0-9]{2})")
_LATEST_OFFSET_MIN = 14 * 60  # no time zone is further than 14 h from UTC
_ENGLISH = re.compile(r"[\x20-\x7e]*")  # printable ASCII, as the docstring reads "in English"
# The page's {公司名称}-{省份}-{6 digits}; a company's name may hold hyphens, a province's not.
_INSTALLATION = re.compile(r"(.*\S.*)-([^-]*\S[^-]*)-([0-9]{6})")
_NO_COUNTER = "000000"  # the counter starts at 000001


@dataclass(frozen=True, slots=True)
class Reference:
    """What the registry knows besides the body."""

    today: dt.date
    countries: frozenset[str]
    brands: frozenset[str]
    files: frozenset[str]  # ids of the account's uploaded documents, lower case


@dataclass(slots=True)
class Device:
    """A device of the body and its inverters (those that are objects)."""

    part: Part
    inverters: list[Part]


def check(payload: object, ref: Reference) -> list[Problem]:
    """Every problem of a decoded registration body: field by field, then across the body."""
    out: list[Problem] = []
    group = read_part(payload, "", GROUP, out)
    if group is None:
        return out
    out.extend(_group_rules(group, ref))
    box = BOXES.get(group.values["CountryCode"]) if _supported(group, ref) else None
    nodes = enumerate(group.values["Devices"] or [])
    devices = [_device(node, n, ref, box, out) for n, node in nodes]
    present = [device for device in devices if device is not None]
    inverters = [inverter for device in present for inverter in device.inverters]
    out.extend(_same_tariff([device.part for device in present]))
    out.extend(_unique(inverters, "RemoteInvId", lambda i: i.values["RemoteInvId"]))
    out.extend(_unique(inverters, "ElectronicSerialNumber", _brand_and_serial))
    out.extend(_replacements(inverters))
    out.extend(_size(inverters))
    return out


def _group_rules(group: Part, ref: Reference) -> Iterator[Problem]:
    country, zone = group.values["CountryCode"], group.values["Timezone"]
    if country is not None and len(country) <= 2 and country not in ref.countries:
        listed = ", ".join(sorted(ref.countries))
        yield Problem("CountryCode", f"{country} is not supported (only {listed})", False)
    if zone is not None and not _is_offset(zone):
        yield Problem("Timezone", f"must be an offset such as UTC+08:00, not {zone!r}", False)
    yield from _english(group, "GroupedEnglishName")
    if _supported(group, ref):
        yield from _province(group)


def _supported(group: Part, ref: Reference) -> bool:
    """Whether the group's country is one of the registry's (else only that is reported)."""
    return group.values["CountryCode"] in ref.countries


def _province(group: Part) -> Iterator[Problem]:
    country, province = group.values["CountryCode"], group.values["Province"]
    if country not in PROVINCE_CODES or province is None or len(province) > 20:
        return  # a province over 20 characters is reported as that alone
    if not is_province_code(country, province):
        code = min(PROVINCE_CODES[country])
        message = (
            f"{province!r} is no {country} province code (ISO 3166-2: {code} or {country}-{code})"
        )
        yield Problem("Province", message, False)


def _english(part: Part, name: str) -> Iterator[Problem]:
    text = part.values[name]
    if text is not None and not _ENGLISH.fullmatch(text):
        other = next(c for c in text if not _ENGLISH.fullmatch(c))
        yield _rule(part, name, f"must be in English (printable ASCII), not {other!r}")


def _is_offset(text: str) -> bool:
    match = _OFFSET.fullmatch(text)
    if match is None:
        return False
    hours, minutes = int(match[1]), int(match[2])
    return minutes < 60 and hours * 60 + minutes <= _LATEST_OFFSET_MIN


def _device(
    node: object, n: int, ref: Reference, box: Box | None, out: list[Problem]
) -> Device | None:
    part = read_part(node, f"Devices[{n}]", DEVICE, out)
    if part is None:
        return None
    out.extend(_device_rules(part, ref))
    out.extend(_installation_name(part))
    out.extend(_english(part, "Address"))
    if box is not None:
        out.extend(_in_country(part, box))
    inverters = []
    for m, item in enumerate(part.values["Inverters"] or []):
        inverter = read_part(item, f"{part.path}.Inverters[{m}]", INVERTER, out)
        if inverter is not None:
            out.extend(_brand(inverter, ref.brands))
            out.extend(_effective_period(inverter, part.values["GridConnectionDate"], ref.today))
            inverters.append(inverter)
    return Device(part, inverters)


def _device_rules(device: Part, ref: Reference) -> Iterator[Problem]:
    values = device.values
    grid, start, end = (
        values["GridConnectionDate"],
        values["OwnersDeclarationStartDate"],
        values["OwnersDeclarationEndDate"],
    )
    if grid is not None and grid > ref.today:
        yield _rule(device, "GridConnectionDate", f"{grid} is in the future")
    if start is not None and start > ref.today:
        yield _rule(device, "OwnersDeclarationStartDate", f"{start} is in the future")
    if start is not None and end is not None and end <= start:
        yield _rule(device, "OwnersDeclarationEndDate", f"must be after the start {start}")
    file_id = values["DeclarationFormFileId"]
    if file_id is not None and file_id.lower() not in ref.files:
        yield _rule(device, "DeclarationFormFileId", f"{file_id} is no document of this account")


def _installation_name(device: Part) -> Iterator[Problem]:
    name = device.values["InstallationName"]
    if name is None:
        return
    match = _INSTALLATION.fullmatch(name)
    if match is None or match[3] == _NO_COUNTER or not name.isprintable():
        example = "SouthEastAsiaSolarDeveloper-Singapore-000001"
        message = f"must be Company-Province-NNNNNN, counting from 000001 (e.g. {example})"
        yield _rule(device, "InstallationName", message)


def _in_country(device: Part, box: Box) -> Iterator[Problem]:
    """Each co-ordinate outside the country's box (one outside its own range is reported
    as that already)."""
    latitude, longitude = device.values["Latitude"], device.values["Longitude"]
    if latitude is not None and abs(latitude) <= 90 and not box.has_latitude(latitude):
        bounds = f"{box.south} to {box.north}"
        yield _rule(device, "Latitude", f"{latitude} is outside the country ({bounds})")
    if longitude is not None and abs(longitude) <= 180 and not box.has_longitude(longitude):
        bounds = f"{box.west} to {box.east}"
        yield _rule(device, "Longitude", f"{longitude} is outside the country ({bounds})")


def _brand(inverter: Part, brands: frozenset[str]) -> Iterator[Problem]:
    code, other = inverter.values["BrandCode"], inverter.values["OtherBrandName"]
    if code == OTHER_BRAND:
        if other is None or not other.strip():
            yield _rule(inverter, "OtherBrandName", f"names the brand when BrandCode is {code}")
    elif code is not None and code not in brands:
        yield _rule(inverter, "BrandCode", f"{code} is not in the brand list (or use OT27)")


def _effective_period(inverter: Part, grid: dt.date | None, today: dt.date) -> Iterator[Problem]:
    start, end = inverter.values["EffectiveStartDate"], inverter.values["EffectiveEndDate"]
    if start is not None and grid is not None and start < grid:
        yield _rule(inverter, "EffectiveStartDate", f"{start} is before grid connection {grid}")
    if start is not None and start > today:
        yield _rule(inverter, "EffectiveStartDate", f"{start} is in the future")
    if end is None:
        return
    if end > today:
        yield _rule(inverter, "EffectiveEndDate", f"{end} is in the future")
    first = start or grid  # the period starts at grid connection unless stated
    if first is not None and end <= first:
        named = "EffectiveStartDate" if start else "GridConnectionDate"
        yield _rule(inverter, "EffectiveEndDate", f"must be after {named} ({first})")
    elif grid is not None and end < grid:
        yield _rule(inverter, "EffectiveEndDate", f"{end} is before grid connection {grid}")


def _same_tariff(devices: list[Part]) -> Iterator[Problem]:
    """Every device's FeedInTariff is the first device's (one that is not true or false is
    reported as malformed already, and skipped here)."""
    tariffs = [(d, d.values["FeedInTariff"]) for d in devices]
    stated = [(device, tariff) for device, tariff in tariffs if tariff is not None]
    for device, tariff in stated[1:]:
        first, expected = stated[0]
        if tariff != expected:
            message = f"must be the same in every device ({first.path}: {str(expected).lower()})"
            yield _rule(device, "FeedInTariff", message)


def _brand_and_serial(inverter: Part) -> str | None:
    """The key a serial is unique under: the brand code, or the brand's name with OT27."""
    code, serial = inverter.values["BrandCode"], inverter.values["ElectronicSerialNumber"]
    brand = inverter.values["OtherBrandName"] if code == OTHER_BRAND else code
    if serial is None or brand is None or not brand.strip():
        return None
    return f"{brand.strip()}\n{serial}"


def _unique(
    inverters: list[Part], name: str, key_of: Callable[[Part], str | None]
) -> Iterator[Problem]:
    """A second inverter with the same key (ignoring case) is reported at field `name`."""
    seen: set[str] = set()
    for inverter in inverters:
        key = key_of(inverter)
        if key is None:
            continue
        if key.casefold() in seen:
            shown = key.replace("\n", " serial ")
            yield _rule(inverter, name, f"repeats {shown} of an earlier inverter")
        seen.add(key.casefold())


def _replacements(inverters: list[Part]) -> Iterator[Problem]:
    ids = {i.values["RemoteInvId"].casefold() for i in inverters if i.values["RemoteInvId"]}
    for inverter in inverters:
        own = (inverter.values["RemoteInvId"] or "").casefold()
        for name in ("ReplacedRemoteInvId", "ReplacedByRemoteInvId"):
            other = inverter.values[name]
            if other is None:
                continue
            if other.casefold() == own:
                yield _rule(inverter, name, "names the inverter itself")
            elif other.casefold() not in ids:
                yield _rule(inverter, name, f"{other} is no inverter of this request")


def _size(inverters: list[Part]) -> Iterator[Problem]:
    if len(inverters) > MAX_INVERTERS:
        message = f"{len(inverters)} inverters; a grouped device holds at most {MAX_INVERTERS}"
        yield Problem("Devices", message, False)
    capacities = (i.values["InstalledCapacity"] for i in inverters)
    total = sum((kw for kw in capacities if kw is not None), Decimal(0))
    if total > MAX_TOTAL_KW:
        yield Problem("Devices", f"{total} kW installed in all; at most 125 MW", False)


def _rule(part: Part, name: str, message: str) -> Problem:
    return Problem(part.at(name), message, False)
