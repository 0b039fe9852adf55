"""Bodies of the application lists and of an issuance request (REC application).

The list items are read leniently: the "Query REC applications" page lists its resource's
fields, the device-application list is known from the API's path list only, so every field
but `Id` may be absent and an enum may come as `{"Value", "Description"}` or as bare text.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import msgspec


class Named(msgspec.Struct, kw_only=True):
    """An enum value as the registry's resources carry it: `{"Value", "Description"}`."""

    Value: str
    Description: str | None = None


def value_of(named: Named | str | None) -> str | None:
    """The value of an enum field, whichever way the registry wrote it."""
    return named.Value if isinstance(named, Named) else named


class ApplicationInverter(msgspec.Struct, kw_only=True):
    """An inverter of a listed device application: what a lookup compares."""

    RemoteInvId: str
    Id: int | str | None = None


class DeviceApplication(msgspec.Struct, kw_only=True):
    """One item of `GET device-applications`: a grouped device, its status and inverters."""

    Id: str
    GroupedEnglishName: str | None = None
    GroupedLocalName: str | None = None
    CountryCode: str | None = None
    Province: str | None = None
    GenerationDataFrequency: str | None = None
    Status: Named | str | None = None
    Inverters: list[ApplicationInverter] = msgspec.field(default_factory=list)


class RecApplication(msgspec.Struct, kw_only=True):
    """One item of `GET rec-applications` (the "Query REC applications" page's resource)."""

    Id: str
    ApplicationNumber: str | None = None
    DeviceId: str | None = None
    DeviceName: str | None = None
    DeviceUniqueId: str | None = None
    DeviceType: Named | str | None = None
    CountryCode: str | None = None
    ProvinceCode: str | None = None
    Energy: str | None = None
    FuelType: str | None = None
    Registry: Named | str | None = None
    Status: Named | str | None = None
    VintageFrom: dt.date | None = None
    VintageTo: dt.date | None = None
    Quantity: Decimal | None = None  # MWh


class IssuanceRequest(msgspec.Struct, kw_only=True):
    """`POST rec-applications/grouped-device`: a vintage of a registered grouped device,
    named by the id its registration answered."""

    VintageFrom: dt.date
    VintageTo: dt.date
    DeviceId: str
