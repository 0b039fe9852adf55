"""What the validator reports and what it needs to know besides the payload."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

SUPPORTED_COUNTRIES = frozenset({"SG", "CN", "VN", "MY", "ID"})  # the seed's list
OTHER_BRAND = "OT27"  # the brand code of "not in the list": OtherBrandName names the brand
MAX_INVERTERS = 500  # over all devices of the grouped device
MAX_INVERTER_KW = Decimal(250)  # 0.25 MW; the seed's "1000 kW" is a typo (redex-api.md)
MAX_TOTAL_KW = Decimal(125_000)  # 125 MW over all inverters


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule of a registration payload, at its exact field path.

    `malformed` is True for what the registry answers with 400 (a field missing, of the
    wrong type, or unparseable) and False for a business rule (422).
    """

    field: str
    message: str
    malformed: bool

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass(frozen=True, slots=True)
class ValidationContext:
    """What the rules need besides the payload: the day, and the registry's reference lists.

    `brands` and `file_ids` are None when unknown; their checks are then skipped (for
    file ids only the UUID shape is checked).
    """

    today: dt.date
    countries: frozenset[str] = SUPPORTED_COUNTRIES
    brands: frozenset[str] | None = None
    file_ids: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class InverterView:
    """The fields of one inverter the cross-field rules look at (None: absent or invalid)."""

    path: str
    remote_inv_id: str | None
    serial: str | None
    brand: str | None  # BrandCode, or OtherBrandName when BrandCode is OT27
    capacity: Decimal | None
    start: dt.date | None
    end: dt.date | None
    replaced: str | None
    replaced_by: str | None


@dataclass(frozen=True, slots=True)
class DeviceView:
    """The fields of one device the cross-field rules look at."""

    path: str
    grid_connection: dt.date | None
    feed_in_tariff: bool | None
    inverters: tuple[InverterView, ...]
