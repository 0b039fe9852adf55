"""Bodies of the generation-data endpoints, processing statuses and metadata."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

import msgspec

# gc=False: batches hold thousands of these; with many batches in flight, tracking them
# halved throughput (measured). They hold no references that could form a cycle.


class DailyData(msgspec.Struct, kw_only=True, frozen=True, gc=False):
    """One inverter's production on one day (grouped single and batch endpoints)."""

    Timestamp: dt.date
    PeriodProductionInKWh: Decimal
    AccumulatedEnergyInKWh: Decimal


class InverterDailyData(msgspec.Struct, kw_only=True):
    """Grouped single-inverter body; also one item of a batch's `Devices`."""

    RemoteInvId: str
    Data: list[DailyData]


class BatchGenerationRequest(msgspec.Struct, kw_only=True):
    """Batch body: many inverters, at most 3000 daily records in total."""

    Devices: list[InverterDailyData]


class LegacyDailyData(msgspec.Struct, kw_only=True, frozen=True, gc=False):
    """A day on the legacy `generation-data` endpoint, which names the meter value differently."""

    Timestamp: dt.date
    PeriodProductionInKWh: Decimal
    AccumulatedPowerInKWh: Decimal


class LegacyGenerationRequest(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Legacy single-device body, as the seed's example writes it.

    The seed's example says `RemoteInvId`, its table says `RemoteId`; either is accepted.
    """

    Data: list[LegacyDailyData]
    FrequencyType: str = "Daily"
    RemoteInvId: str | None = None
    RemoteId: str | None = None

    @property
    def remote_id(self) -> str | None:
        """The device id, whichever name carried it."""
        return self.RemoteInvId if self.RemoteInvId is not None else self.RemoteId


class MonthlyProduction(msgspec.Struct, kw_only=True):
    """`PeriodProductionPerMonthInKWh`: twelve nullable months."""

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


MONTHS = tuple(MonthlyProduction.__struct_fields__)


class YearlyGenerationData(msgspec.Struct, kw_only=True):
    """One year of monthly values."""

    Year: int
    PeriodProductionPerMonthInKWh: MonthlyProduction


class MonthlyGenerationRequest(msgspec.Struct, kw_only=True):
    """Monthly body: one inverter, one year."""

    RemoteInvId: str
    Data: YearlyGenerationData


class ProcessIdData(msgspec.Struct, kw_only=True):
    """`Data` of an accepted generation POST on a grouped endpoint."""

    ProcessId: int


ProcessState = Literal["New", "Processing", "Failed", "Success"]
ProcessingType = Literal["CreateNewGenerationData", "CreateMonthlyData"]


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
