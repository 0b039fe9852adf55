"""The registry's wire types: msgspec Structs for every body of Part 1 of the contract.

Field names are the registry's PascalCase names, so a Struct reads like the page that
documents it. Energy values are `decimal.Decimal` end to end: msgspec decodes a JSON
number or string into a Decimal from its text, never through a binary float.
"""

from uploader.registry.wire.applications import (
    ApplicationInverter,
    DeviceApplication,
    IssuanceRequest,
    Named,
    RecApplication,
    value_of,
)
from uploader.registry.wire.auth import RefreshRequest, Token, TokenRequest
from uploader.registry.wire.envelope import (
    Envelope,
    ErrorItem,
    IdData,
    Pagination,
    error_envelope,
)
from uploader.registry.wire.generation import (
    BatchGenerationRequest,
    Brand,
    DailyData,
    GenerationDay,
    InverterDailyData,
    LegacyDailyData,
    LegacyGenerationRequest,
    MonthlyGenerationRequest,
    MonthlyProduction,
    ProcessIdData,
    ProcessStatus,
    YearlyGenerationData,
)
from uploader.registry.wire.registration import (
    Device,
    DeviceWithInverters,
    GroupedDeviceApplication,
    Inverter,
    RegisteredInverter,
)

__all__ = [
    "ApplicationInverter",
    "BatchGenerationRequest",
    "Brand",
    "DailyData",
    "Device",
    "DeviceApplication",
    "DeviceWithInverters",
    "Envelope",
    "ErrorItem",
    "GenerationDay",
    "GroupedDeviceApplication",
    "IdData",
    "Inverter",
    "InverterDailyData",
    "IssuanceRequest",
    "LegacyDailyData",
    "LegacyGenerationRequest",
    "MonthlyGenerationRequest",
    "MonthlyProduction",
    "Named",
    "Pagination",
    "ProcessIdData",
    "ProcessStatus",
    "RecApplication",
    "RefreshRequest",
    "RegisteredInverter",
    "Token",
    "TokenRequest",
    "YearlyGenerationData",
    "error_envelope",
    "value_of",
]
