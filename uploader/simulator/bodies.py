"""The generation endpoints' request bodies, read strictly: an unknown field is a 400.

The registry renamed fields over time (`AccumulatedPowerInKWh` became
`AccumulatedEnergyInKWh`, `RemoteId` became `RemoteInvId`), and the grouped endpoints
must not take the old names silently, so every body forbids fields it does not list.
`Devices` and `Data` are required, and a list with nothing in it gives nothing to take.
Energy values decode to exact Decimals from a JSON number or string, never via a float.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, TypeVar

import msgspec

from uploader.simulator.wire import DailyData

T = TypeVar("T")
Filled = Annotated[list[T], msgspec.Meta(min_length=1)]  # required, and not empty


class InverterDays(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """`generation-datas`: one inverter's days; also one item of a batch's `Devices`."""

    RemoteInvId: str
    Data: Filled[DailyData]


class BatchBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """`generation-datas/batches`: many inverters, at most 3000 records in all."""

    Devices: Filled[InverterDays]


class LegacyDaily(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True, gc=False):
    """A day of the legacy endpoint, which names the meter value `AccumulatedPowerInKWh`."""

    Timestamp: dt.date
    PeriodProductionInKWh: Decimal
    AccumulatedPowerInKWh: Decimal


class LegacyBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """`generation-data` as the seed writes it (`RemoteInvId`, or its table's `RemoteId`)."""

    Data: Filled[LegacyDaily]
    FrequencyType: str = "Daily"
    RemoteInvId: str | None = None
    RemoteId: str | None = None


class Months(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """`PeriodProductionPerMonthInKWh`: twelve nullable months (names as in `wire.MONTHS`)."""

    Jan: Decimal | None = None
    Feb: Decimal | None = None
    Mar: Decimal | None = None
    Apr: Decimal | None = None
    May: Decimal | None = None
    Jun: Decimal | None = None
    Jul: Decimal | None = None
    Aug: Decimal | None = None
    Sep: Decimal | None = None
    Oct: Decimal | None = None
    Nov: Decimal | None = None
    Dec: Decimal | None = None


class YearOfMonths(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One year of monthly values."""

    Year: int
    PeriodProductionPerMonthInKWh: Months


class MonthlyBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """`generation-datas/monthly-data`: one inverter, one year."""

    RemoteInvId: str
    Data: YearOfMonths


single_decoder = msgspec.json.Decoder(InverterDays)
batch_decoder = msgspec.json.Decoder(BatchBody)
legacy_decoder = msgspec.json.Decoder(LegacyBody)
monthly_decoder = msgspec.json.Decoder(MonthlyBody)
