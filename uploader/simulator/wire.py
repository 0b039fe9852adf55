"""The registry's JSON shapes as the simulator writes and stores them.

Written from the registry's pages, not shared with the client: the client must decode
whatever the registry sends, while the simulator answers in one exact shape and keeps
daily records as it accepted them. Field names are the registry's own. Request bodies of
the generation endpoints are in `bodies`; registration reads its body as plain JSON.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

import msgspec

# The registry's examples quote every number, so decimals are written as JSON strings.
ENCODER = msgspec.json.Encoder(decimal_format="string")

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# `ErrorItem.Code` values (the registry's own are undocumented; these name the rule that failed).
MALFORMED = "Malformed"
INVALID_VALUE = "InvalidValue"
UNSUPPORTED_MEDIA_TYPE = "UnsupportedMediaType"
TOO_MANY_RECORDS = "TooManyRecords"
DUPLICATE = "Duplicate"
DUPLICATE_INVERTER = "DuplicateInverter"
NOT_FINITE = "NotFinite"
UNKNOWN_INVERTER = "UnknownInverter"
BEFORE_START = "BeforeEffectiveStart"
AFTER_END = "AfterEffectiveEnd"
FUTURE = "FutureDate"
NEGATIVE = "Negative"
TOO_MANY_DECIMALS = "TooManyDecimals"
ABOVE_CAPACITY = "AboveCapacity"

ProcessState = Literal["New", "Processing", "Failed", "Success"]
ProcessingType = Literal["CreateNewGenerationData", "CreateMonthlyData"]


class ErrorItem(msgspec.Struct, kw_only=True):
    """One item of `Errors`: the rule that failed and the path of the field it concerns.

    The registry's own error object is undocumented; this is the contract's.
    """

    Code: str
    Message: str
    Field: str | None = None


class Pagination(msgspec.Struct, kw_only=True):
    """`Meta` of a list answer."""

    CurrentPage: int
    TotalPage: int
    ItemsPerPage: int
    TotalItems: int


class Envelope(msgspec.Struct, kw_only=True):
    """`{Data, Meta, Errors, StatusCode, Message}`: every JSON answer."""

    Data: Any = None
    Meta: Pagination | None = None
    Errors: list[ErrorItem] | None = None
    StatusCode: int = 200
    Message: str = "Success"


class IdData(msgspec.Struct, kw_only=True):
    """`Data` of a 201: the id of an uploaded file or of a registered application."""

    Id: str


class TokenRequest(msgspec.Struct, kw_only=True):
    """`connect/token`: an account's API key and the integrator's client pair."""

    ApiKey: str
    ClientId: str
    ClientSecret: str
    GrantType: Literal["api_key"] = "api_key"

    def __repr__(self) -> str:
        return f"TokenRequest(ClientId={self.ClientId!r}, ApiKey=***, ClientSecret=***)"


class RefreshRequest(msgspec.Struct, kw_only=True):
    """`connect/token/refresh`: a refresh token and the client pair."""

    RefreshToken: str
    ClientId: str
    ClientSecret: str
    GrantType: Literal["refresh_token"] = "refresh_token"

    def __repr__(self) -> str:
        return f"RefreshRequest(ClientId={self.ClientId!r}, RefreshToken=***, ClientSecret=***)"


class Token(msgspec.Struct, kw_only=True):
    """`Data` of both token endpoints."""

    AccessToken: str
    RefreshToken: str
    ExpiresIn: int
    TokenType: str
    Scope: str

    def __repr__(self) -> str:
        return f"Token(TokenType={self.TokenType!r}, ExpiresIn={self.ExpiresIn}, ...)"


# gc=False: a batch holds thousands of records, and they reference nothing that could cycle.
class DailyData(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True, gc=False):
    """One day of one inverter, exact: what the grouped endpoints take and what is stored."""

    Timestamp: dt.date
    PeriodProductionInKWh: Decimal
    AccumulatedEnergyInKWh: Decimal


class FastDaily(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True, gc=False):
    """A daily record with its values as text (proved canonical before it is accepted)."""

    Timestamp: dt.date
    PeriodProductionInKWh: str
    AccumulatedEnergyInKWh: str


class ProcessIdData(msgspec.Struct, kw_only=True):
    """`Data` of an accepted generation POST on a grouped endpoint."""

    ProcessId: int


class ProcessStatus(msgspec.Struct, kw_only=True):
    """`Data` of `generation-datas/statuses`."""

    ProcessId: int
    Status: ProcessState
    ProcessingType: ProcessingType
    CreatedTime: str
    UpdatedTime: str


class GenerationDay(msgspec.Struct, kw_only=True, gc=False):
    """One item of the query-generation-data answer."""

    RemoteInvId: str
    Timestamp: dt.date
    PeriodProductionInKWh: Decimal
    AccumulatedEnergyInKWh: Decimal


class Brand(msgspec.Struct, kw_only=True):
    """One inverter brand of `metadata/inverter-brands`."""

    Code: str
    Name: str


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


class IssuanceRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """`rec-applications/grouped-device`: a vintage of a registered grouped device."""

    VintageFrom: dt.date
    VintageTo: dt.date
    DeviceId: str


class Named(msgspec.Struct, kw_only=True):
    """An enum value as the registry's resources carry it: `{"Value", "Description"}`."""

    Value: str
    Description: str


# Statuses of applications, as the "Query REC applications" page lists them, and how each reads.
STATUSES = {
    "Draft": "Draft",
    "InProgress": "In Progress",
    "Approved": "Approved",
    "Rejected": "Rejected",
    "Withdrawn": "Withdrawn",
    "ToReSubmit": "To Re-Submit",
}


def named(value: str, descriptions: dict[str, str] = STATUSES) -> Named:
    """An enum value with its description (the value itself when none is listed)."""
    return Named(Value=value, Description=descriptions.get(value, value))


class DeviceApplicationItem(msgspec.Struct, kw_only=True):
    """One item of `GET device-applications`: a grouped device, its status and inverters."""

    Id: str
    GroupedEnglishName: str
    GroupedLocalName: str
    CountryCode: str
    Province: str
    GenerationDataFrequency: str
    Status: Named
    Inverters: list[RegisteredInverter]


class RecApplicationItem(msgspec.Struct, kw_only=True):
    """One item of `GET rec-applications` (the fields of the "Query REC applications" page)."""

    Id: str
    ApplicationNumber: str
    DeviceId: str
    DeviceName: str
    DeviceUniqueId: str
    DeviceType: Named
    CountryCode: str
    ProvinceCode: str
    Energy: str
    FuelType: str
    Registry: Named
    Status: Named
    VintageFrom: dt.date
    VintageTo: dt.date
    Quantity: Decimal  # MWh, exact
