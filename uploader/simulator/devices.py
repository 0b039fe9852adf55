"""Grouped-device registration bodies: what a valid application carries, what is kept.

These decode a body only after `registration_rules` found nothing wrong with it, so they
are lenient: unknown fields (a payload file's `"//"` comments) are ignored. Numbers decode
to exact Decimals from a JSON number or a numeric string.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import msgspec


class InverterIn(msgspec.Struct, kw_only=True):
    """An inverter of a device, with the fields of the registration page's table."""

    RemoteInvId: str
    ElectronicSerialNumber: str
    BrandCode: str
    InstalledCapacity: Decimal
    OtherBrandName: str | None = None
    EffectiveStartDate: str | None = None
    EffectiveEndDate: str | None = None


class DeviceIn(msgspec.Struct, kw_only=True):
    """A device (one installation) of the grouped device."""

    InstallationName: str
    Address: str
    PostalCode: str
    Latitude: Decimal
    Longitude: Decimal
    GridConnectionDate: str
    OwnersDeclarationStartDate: str
    Domestic: bool
    DeclarationFormFileId: str
    Inverters: list[InverterIn]
    OwnersDeclarationEndDate: str | None = None
    FeedInTariff: bool | None = None
    PercentageRenewable: Decimal | None = None


class ApplicationIn(msgspec.Struct, kw_only=True):
    """`POST device-applications/i-rec/grouped`: the group and its devices."""

    Devices: list[DeviceIn]
    Timezone: str | None = None
    GenerationDataFrequency: Literal["Daily", "Monthly"] | None = None


class RegisteredInverter(msgspec.Struct, kw_only=True):
    """An inverter as an application's devices list it; `Id` is a bigint since V1.0.2."""

    Id: int
    RemoteInvId: str
    ElectronicSerialNumber: str
    BrandCode: str
    InstalledCapacity: Decimal
    OtherBrandName: str | None = None
    EffectiveStartDate: str | None = None
    EffectiveEndDate: str | None = None


class RegisteredDevice(msgspec.Struct, kw_only=True):
    """A device of `GET device-applications/{id}/devices`, with its inverters."""

    Id: str
    InstallationName: str
    Address: str
    PostalCode: str
    Latitude: Decimal
    Longitude: Decimal
    GridConnectionDate: str
    OwnersDeclarationStartDate: str
    Domestic: bool
    FeedInTariff: bool
    DeclarationFormFileId: str
    Inverters: list[RegisteredInverter]
    OwnersDeclarationEndDate: str | None = None
    PercentageRenewable: Decimal | None = None
    Timezone: str | None = None


application_decoder = msgspec.json.Decoder(ApplicationIn)
