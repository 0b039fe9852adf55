"""Bodies of grouped-device registration and of an application's devices."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import msgspec


class Inverter(msgspec.Struct, kw_only=True, omit_defaults=True):
    """An inverter of a device, as the registration page lists its fields.

    The replacement is sent under the seed page's name, `ReplacedRemoteInvId`; a payload's
    `ReplacedByRemoteInvId` (the later pages' name) is read as it (`payload.seed_names`).
    """

    RemoteInvId: str
    ElectronicSerialNumber: str
    BrandCode: str
    InstalledCapacity: Decimal
    OtherBrandName: str | None = None
    EffectiveStartDate: str | None = None
    EffectiveEndDate: str | None = None
    ReplacedRemoteInvId: str | None = None


class Device(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A device (one installation) of a grouped device."""

    InstallationName: str
    Address: str
    PostalCode: str
    Latitude: Decimal
    Longitude: Decimal
    GridConnectionDate: str
    OwnersDeclarationStartDate: str
    Domestic: bool
    DeclarationFormFileId: str
    Inverters: list[Inverter]
    OwnersDeclarationEndDate: str | None = None
    FeedInTariff: bool = False
    PercentageRenewable: Decimal | None = None


class GroupedDeviceApplication(msgspec.Struct, kw_only=True, omit_defaults=True):
    """`POST device-applications/i-rec/grouped`: the group and its devices."""

    GroupedLocalName: str
    GroupedEnglishName: str
    CountryCode: str
    Province: str
    Devices: list[Device]
    Timezone: str | None = None
    GenerationDataFrequency: Literal["Daily", "Monthly"] = "Daily"


class RegisteredInverter(msgspec.Struct, kw_only=True):
    """An inverter as `device-applications/{id}/devices` returns it (`Id` is a bigint)."""

    Id: int
    RemoteInvId: str
    ElectronicSerialNumber: str
    BrandCode: str
    InstalledCapacity: Decimal
    OtherBrandName: str | None = None
    EffectiveStartDate: str | None = None
    EffectiveEndDate: str | None = None


class DeviceWithInverters(msgspec.Struct, kw_only=True):
    """A registered device with its inverters."""

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
