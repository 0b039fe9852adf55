"""Rules that span several fields, devices or inverters of one registration payload.

Identifiers are compared ignoring case: ids that differ only in case would be ambiguous to
the registry's operators (and to a case-insensitive store), and refusing them costs nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from decimal import Decimal

from uploader.registration.fields import Fields
from uploader.registration.model import (
    MAX_INVERTERS,
    MAX_TOTAL_KW,
    DeviceView,
    InverterView,
    Violation,
)
from uploader.registration.places import BOUNDS, PROVINCES, province_code


def _rule(path: str, field: str, message: str) -> Violation:
    return Violation(f"{path}.{field}", message, malformed=False)


def feed_in_tariff(devices: Sequence[DeviceView]) -> Iterator[Violation]:
    """Every device of the group has the FeedInTariff of the first one (absent is false)."""
    known = [d for d in devices if d.feed_in_tariff is not None]
    if not known:
        return
    first = known[0]
    for device in known[1:]:
        if device.feed_in_tariff != first.feed_in_tariff:
            value = str(first.feed_in_tariff).lower()
            yield _rule(
                device.path,
                "FeedInTariff",
                f"must be the same for every device ({first.path}: {value})",
            )


def unique_remote_ids(inverters: Sequence[InverterView]) -> Iterator[Violation]:
    """No RemoteInvId appears twice in the request."""
    seen: set[str] = set()
    for inverter in inverters:
        if inverter.remote_inv_id is None:
            continue
        key = inverter.remote_inv_id.casefold()
        if key in seen:
            yield _rule(
                inverter.path, "RemoteInvId", f"duplicate RemoteInvId {inverter.remote_inv_id}"
            )
        seen.add(key)


def unique_serials(inverters: Sequence[InverterView]) -> Iterator[Violation]:
    """No ElectronicSerialNumber appears twice for the same brand."""
    seen: set[tuple[str, str]] = set()
    for inverter in inverters:
        if inverter.serial is None or inverter.brand is None:
            continue
        key = (inverter.brand.casefold(), inverter.serial.casefold())
        if key in seen:
            message = f"duplicate serial {inverter.serial} for brand {inverter.brand}"
            yield _rule(inverter.path, "ElectronicSerialNumber", message)
        seen.add(key)


def group_size(inverters: Sequence[InverterView]) -> Iterator[Violation]:
    """At most 500 inverters, and 125 MW installed, over all devices."""
    if len(inverters) > MAX_INVERTERS:
        message = (
            f"{len(inverters)} inverters in total; a grouped device holds at most {MAX_INVERTERS}"
        )
        yield Violation("Devices", message, malformed=False)
    total = sum((i.capacity for i in inverters if i.capacity is not None), Decimal(0))
    if total > MAX_TOTAL_KW:
        message = f"total installed capacity {total} kW exceeds 125 MW ({MAX_TOTAL_KW} kW)"
        yield Violation("Devices", message, malformed=False)


def replacements(inverters: Sequence[InverterView]) -> Iterator[Violation]:
    """ReplacedRemoteInvId (the seed's name) or ReplacedByRemoteInvId (the later pages') names
    another inverter of the request; given both, they name the same one."""
    ids = {i.remote_inv_id.casefold() for i in inverters if i.remote_inv_id is not None}
    for inverter in inverters:
        own = (inverter.remote_inv_id or "").casefold()
        seed, later = inverter.replaced, inverter.replaced_by
        if seed is not None and later is not None and seed.casefold() != later.casefold():
            message = f"names another inverter than ReplacedRemoteInvId ({seed}); give one"
            yield _rule(inverter.path, "ReplacedByRemoteInvId", message)
        for field, other in (
            ("ReplacedRemoteInvId", inverter.replaced),
            ("ReplacedByRemoteInvId", inverter.replaced_by),
        ):
            if other is None:
                continue
            if other.casefold() == own:
                yield _rule(inverter.path, field, "names the inverter itself")
            elif other.casefold() not in ids:
                yield _rule(inverter.path, field, f"names no inverter of this request ({other})")


def effective_period(device: DeviceView, today: dt.date) -> Iterator[Violation]:
    """Each inverter's effective period lies within [grid connection, today]."""
    grid = device.grid_connection
    for inverter in device.inverters:
        start = inverter.start or grid
        if inverter.start is not None:
            yield from _not_before_grid(inverter, "EffectiveStartDate", inverter.start, grid)
            yield from _not_future(inverter, "EffectiveStartDate", inverter.start, today)
        if inverter.end is None:
            continue
        yield from _not_future(inverter, "EffectiveEndDate", inverter.end, today)
        if start is not None and inverter.end <= start:
            named = "EffectiveStartDate" if inverter.start else "GridConnectionDate"
            message = f"must be after {named} ({start.isoformat()})"
            yield _rule(inverter.path, "EffectiveEndDate", message)
        else:
            yield from _not_before_grid(inverter, "EffectiveEndDate", inverter.end, grid)


def _not_before_grid(
    inverter: InverterView, field: str, day: dt.date, grid: dt.date | None
) -> Iterator[Violation]:
    if grid is not None and day < grid:
        message = f"before the device's GridConnectionDate ({grid.isoformat()})"
        yield _rule(inverter.path, field, message)


def _not_future(
    inverter: InverterView, field: str, day: dt.date, today: dt.date
) -> Iterator[Violation]:
    if day > today:
        yield _rule(inverter.path, field, f"in the future (today is {today.isoformat()})")


# -- the seed's rules on one field, given what the group declares ---------------------------

_ENGLISH = re.compile(r"[\x20-\x7e]*")  # printable ASCII: our reading of "in English"
_COUNTER = re.compile(r"[0-9]{6}")  # ASCII digits: `\d` would take any script's


def english(f: Fields, key: str, value: str | None) -> None:
    """Text the page says "must be in English": letters, digits, spaces and punctuation of
    printable ASCII (accents, other scripts and control characters are refused)."""
    if value is None or _ENGLISH.fullmatch(value):
        return
    other = next(c for c in value if not _ENGLISH.fullmatch(c))
    f.report(key, f"must be in English (printable ASCII); {other!r} is not")


def installation_name(f: Fields, value: str | None) -> None:
    """`{Company}-{Province}-{a 6-digit counter from 000001}`, the page's format."""
    if value is None or len(value) > 255:
        return
    *names, counter = value.split("-")
    blank = len(names) < 2 or any(not part.strip() or not part.isprintable() for part in names)
    if blank or not _COUNTER.fullmatch(counter) or int(counter) == 0:
        example = "SouthEastAsiaSolarDeveloper-Singapore-000001"
        f.report("InstallationName", f"must be Company-Province-NNNNNN from 000001 ({example})")


def province(f: Fields, country: str | None, value: str | None) -> None:
    """Countries with a province code list write `Province` as one of its codes."""
    if country is None or value is None or country not in PROVINCES:
        return
    if province_code(country, value) is None:
        codes = ", ".join(sorted(PROVINCES[country])[:4])
        f.report("Province", f"{value!r} is no {country} province code (ISO 3166-2: {codes}, ...; "
                             f"written AH or {country}-AH style)")  # fmt: skip


def in_country(f: Fields, country: str | None, lat: Decimal | None, lon: Decimal | None) -> None:
    """Coordinates inside the declared country's coarse bounds (`places.BOUNDS`); values
    outside their own documented range are reported by that rule alone."""
    bounds = BOUNDS.get(country or "")
    if bounds is None:
        return
    south, north, west, east = bounds
    if lat is not None and -90 <= lat <= 90 and not south <= lat <= north:
        f.report("Latitude", f"{lat} is not in {country} (its bounds: {south} to {north})")
    if lon is not None and -180 <= lon <= 180 and not west <= lon <= east:
        f.report("Longitude", f"{lon} is not in {country} (its bounds: {west} to {east})")
