"""The simulator's strict reading of generation bodies: unknown fields are a 400.

The wire types are lenient (a client must decode whatever the registry sends); the
registry itself refuses old field names such as `AccumulatedPowerInKWh` or `RemoteId` on
the grouped endpoints, so these variants forbid unknown fields. Leaf records subclass the
wire types, so what the simulator stores is a `DailyData`.
"""

from __future__ import annotations

import msgspec

from uploader.registry.wire import DailyData, LegacyDailyData, MonthlyProduction


class StrictDaily(DailyData, forbid_unknown_fields=True, frozen=True, gc=False):
    """A daily record of the grouped endpoints."""


class StrictInverterDays(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Grouped single-inverter body; one item of a batch's `Devices`."""

    RemoteInvId: str
    Data: list[StrictDaily]


class StrictBatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Batch body."""

    Devices: list[StrictInverterDays]


class StrictLegacyDaily(LegacyDailyData, forbid_unknown_fields=True, frozen=True, gc=False):
    """A daily record of the legacy endpoint (`AccumulatedPowerInKWh`)."""


class StrictLegacy(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Legacy body, exactly as the seed writes it (`RemoteInvId`, or its table's `RemoteId`)."""

    Data: list[StrictLegacyDaily]
    FrequencyType: str = "Daily"
    RemoteInvId: str | None = None
    RemoteId: str | None = None


class StrictMonths(MonthlyProduction, forbid_unknown_fields=True):
    """Twelve nullable months."""


class StrictYear(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One year of monthly values."""

    Year: int
    PeriodProductionPerMonthInKWh: StrictMonths


class StrictMonthly(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Monthly body."""

    RemoteInvId: str
    Data: StrictYear


single_decoder = msgspec.json.Decoder(StrictInverterDays)
batch_decoder = msgspec.json.Decoder(StrictBatch)
legacy_decoder = msgspec.json.Decoder(StrictLegacy)
monthly_decoder = msgspec.json.Decoder(StrictMonthly)
