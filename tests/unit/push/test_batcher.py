"""Request bodies built from claimed records, and error paths mapped back to records."""

from __future__ import annotations

import random
from decimal import Decimal

import msgspec
import pytest

from uploader.push import batcher
from uploader.push.endpoints import ENDPOINTS
from uploader.queue.base import QueuedRecord
from uploader.registry.wire import (
    BatchGenerationRequest,
    InverterDailyData,
    LegacyGenerationRequest,
)
from uploader.registry.wire.generation import MonthlyGenerationRequest


def rec(
    rid: str, day: str, period: str = "1.5", accumulated: str = "100", n: int = 0
) -> QueuedRecord:
    return QueuedRecord(n, 1, rid, day, period, accumulated, 1, 0.0)


def fleet(rand: random.Random) -> list[QueuedRecord]:
    records: list[QueuedRecord] = []
    for inv in range(rand.randrange(1, 8)):
        for day in range(1, rand.randrange(2, 20)):
            period = f"{rand.randrange(10**6) / 1000:.3f}"
            records.append(
                rec(f'INV-"{inv}"é', f"2024-03-{day:02d}", period, str(day * 7), len(records))
            )
    return records


def test_batch_body_decodes_to_the_exact_values(rand: random.Random) -> None:
    """A batch body decodes as the wire type with every record's exact value, in order."""
    records = fleet(rand)
    batch = batcher.build(records, ENDPOINTS["batch"])
    body = msgspec.json.decode(batch.body, type=BatchGenerationRequest)
    flat = [(d.RemoteInvId, day) for d in body.Devices for day in d.Data]
    assert len(flat) == len(records)
    for (rid, day), record in zip(flat, records, strict=True):
        assert rid == record.remote_inv_id
        assert day.Timestamp.isoformat() == record.day
        assert day.PeriodProductionInKWh == Decimal(record.period_kwh)
        assert day.AccumulatedEnergyInKWh == Decimal(record.accumulated_kwh)


@pytest.mark.parametrize("numbers", ["string", "number"])
def test_one_day_of_many_inverters_is_one_device_each(numbers: str) -> None:
    """The daily shape (each inverter's one day) gives one `Devices[]` item per record."""
    records = [rec(f'INV-"{n}"', "2024-03-01", f"{n}.125", str(n * 7), n) for n in range(50)]
    batch = batcher.build(records, ENDPOINTS["batch"], numbers)
    body = msgspec.json.decode(batch.body, type=BatchGenerationRequest)
    assert batch.groups == tuple((n, n + 1) for n in range(50))
    assert [(d.RemoteInvId, len(d.Data)) for d in body.Devices] == [
        (r.remote_inv_id, 1) for r in records
    ]
    assert [d.Data[0].PeriodProductionInKWh for d in body.Devices] == [
        Decimal(r.period_kwh) for r in records
    ]
    assert (b'"PeriodProductionInKWh":"0.125"' in batch.body) == (numbers == "string")


def test_numbers_mode_writes_json_numbers() -> None:
    """With numbers = "number" the values are JSON numbers with the same digits."""
    batch = batcher.build([rec("A", "2024-01-01", "0.100", "5")], ENDPOINTS["single"], "number")
    assert batch.body == (
        b'{"RemoteInvId":"A","Data":[{"Timestamp":"2024-01-01",'
        b'"PeriodProductionInKWh":0.100,"AccumulatedEnergyInKWh":5}]}'
    )
    assert msgspec.json.decode(batch.body, type=InverterDailyData).Data[
        0
    ].PeriodProductionInKWh == (Decimal("0.100"))


def test_legacy_body_is_the_seed_shape() -> None:
    """The legacy body wraps the days with FrequencyType and names AccumulatedPowerInKWh."""
    batch = batcher.build([rec("STR1", "2023-05-01", "0.123", "5.123")], ENDPOINTS["legacy"])
    body = msgspec.json.decode(batch.body, type=LegacyGenerationRequest)
    assert body.FrequencyType == "Daily"
    assert body.remote_id == "STR1"
    assert body.Data[0].AccumulatedPowerInKWh == Decimal("5.123")


def test_monthly_body_carries_months_of_one_year() -> None:
    """Monthly records become the year's month map; a second year is refused."""
    records = [rec("M", "2024-01-01", "321.111"), rec("M", "2024-03-15", "12")]
    body = msgspec.json.decode(
        batcher.build(records, ENDPOINTS["monthly"]).body, type=MonthlyGenerationRequest
    )
    months = body.Data.PeriodProductionPerMonthInKWh
    assert (body.Data.Year, months.Jan, months.Feb) == (2024, Decimal("321.111"), None)
    assert months.Mar == Decimal(12)
    with pytest.raises(ValueError, match="one year"):
        batcher.build([*records, rec("M", "2025-01-01")], ENDPOINTS["monthly"])


def test_one_inverter_endpoints_refuse_two_inverters() -> None:
    """The single endpoint carries one inverter per request."""
    with pytest.raises(ValueError, match="one inverter"):
        batcher.build([rec("A", "2024-01-01"), rec("B", "2024-01-01")], ENDPOINTS["single"])


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("Devices[1].Data[0].Timestamp", ["B1"]),
        ("Devices[1].Data[1].PeriodProductionInKWh", ["B2"]),
        ("Devices[0].RemoteInvId", ["A1", "A2", "A3"]),
        ("Devices[0].Data[3]", None),
        ("Devices[5].Data[0]", None),
        ("Devices", None),
        ("", None),
        (None, None),
    ],
)
def test_error_paths_name_records(field: str | None, expected: list[str] | None) -> None:
    """A field path names the records it points at, and nothing when it points at none."""
    records = [
        rec("A", "2024-01-01", n=0),
        rec("A", "2024-01-02", n=1),
        rec("A", "2024-01-03", n=2),
        rec("B", "2024-01-01", n=3),
        rec("B", "2024-01-02", n=4),
    ]
    names = {0: "A1", 1: "A2", 2: "A3", 3: "B1", 4: "B2"}
    found = batcher.build(records, ENDPOINTS["batch"]).records_at(field)
    assert (None if found is None else [names[r.id] for r in found]) == expected


@pytest.mark.parametrize(
    "field",
    [
        "Devices[1].Data[1].PeriodProductionInKWh",
        "$.Devices[1].Data[1].PeriodProductionInKWh",
        "$.devices[1].data[1].periodProductionInKWh",
        "/Devices/1/Data/1/PeriodProductionInKWh",
        "Devices.1.Data.1",
        " devices[1].DATA[1] ",
    ],
)
def test_error_paths_in_other_forms_name_the_same_record(field: str) -> None:
    """JSON paths, pointers, dotted indexes and any case of names are read alike."""
    records = [
        rec("A", "2024-01-01", n=0),
        rec("B", "2024-01-01", n=1),
        rec("B", "2024-01-02", n=2),
    ]
    found = batcher.build(records, ENDPOINTS["batch"]).records_at(field)
    assert [r.id for r in found or []] == [2]


@pytest.mark.parametrize(
    ("endpoint", "field", "expected"),
    [
        ("single", "RemoteInvId", [0, 1]),
        ("legacy", "remoteId", [0, 1]),
        ("single", "$.data[1].timestamp", [1]),
        ("monthly", "RemoteInvId", [0, 1]),
        ("monthly", "Data.Year", [0, 1]),
        ("monthly", "data.periodProductionPerMonthInKWh.feb", [1]),
        ("monthly", "Data.PeriodProductionPerMonthInKWh.Mar", None),
    ],
)
def test_one_inverter_bodies_name_all_their_records_by_the_inverter(
    endpoint: str, field: str, expected: list[int] | None
) -> None:
    """On a one-inverter endpoint the inverter's field names every record of the body."""
    records = [rec("A", "2024-01-01", n=0), rec("A", "2024-02-01", n=1)]
    found = batcher.build(records, ENDPOINTS[endpoint]).records_at(field)
    assert (None if found is None else [r.id for r in found]) == expected


def test_split_keeps_every_record_once(rand: random.Random) -> None:
    """Splitting a batch gives two bodies that together carry each record exactly once."""
    records = fleet(rand)
    if len(records) < 2:
        records.append(rec("Z", "2024-01-01", n=len(records)))
    first, second = batcher.split(batcher.build(records, ENDPOINTS["batch"]))
    assert [r.id for r in (*first.records, *second.records)] == [r.id for r in records]
    assert abs(len(first) - len(second)) <= 1


def test_an_inverter_in_two_claim_windows_is_one_device() -> None:
    """Claim order (deadline, inverter, day) puts an inverter's runs apart; the body merges them
    into one `Devices[]` entry per inverter, days in order, and error paths still name them."""
    claimed = [  # two claim windows (deadlines 2025-05-31 and 2025-09-30), A and B in each
        rec("A", "2024-04-01", n=0),
        rec("A", "2024-05-31", n=1),
        rec("B", "2024-05-01", n=2),
        rec("A", "2024-06-01", n=3),
        rec("B", "2024-06-02", n=4),
        rec("B", "2024-06-03", n=5),
    ]
    batch = batcher.build(claimed, ENDPOINTS["batch"])
    body = msgspec.json.decode(batch.body, type=BatchGenerationRequest)
    assert [(d.RemoteInvId, [x.Timestamp.isoformat() for x in d.Data]) for d in body.Devices] == [
        ("A", ["2024-04-01", "2024-05-31", "2024-06-01"]),
        ("B", ["2024-05-01", "2024-06-02", "2024-06-03"]),
    ]
    assert [r.id for r in batch.records] == [0, 1, 3, 2, 4, 5]
    assert [r.id for r in batch.records_at("Devices[0].Data[2]") or []] == [3]
    assert [r.id for r in batch.records_at("Devices[1].Data[0].Timestamp") or []] == [2]
    assert [r.id for r in batch.records_at("Devices[1].RemoteInvId") or []] == [2, 4, 5]
    first, second = batcher.split(batch)
    assert [r.id for r in (*first.records, *second.records)] == [0, 1, 3, 2, 4, 5]


def test_one_device_per_inverter_in_any_claim(rand: random.Random) -> None:
    """However claim windows cut inverters into runs, each inverter has one entry, days in order."""
    records = fleet(rand)
    cuts = sorted(f"2024-03-{rand.randrange(1, 21):02d}" for _ in range(2))  # window boundaries

    def window(record: QueuedRecord) -> int:  # stands for its claim deadline: grows with the day
        return sum(record.day >= cut for cut in cuts)

    records.sort(key=lambda r: (window(r), r.remote_inv_id, r.day))
    body = msgspec.json.decode(
        batcher.build(records, ENDPOINTS["batch"]).body, type=BatchGenerationRequest
    )
    ids = [d.RemoteInvId for d in body.Devices]
    assert len(ids) == len(set(ids)) == len({r.remote_inv_id for r in records})
    for device in body.Devices:
        days = [x.Timestamp for x in device.Data]
        assert days == sorted(days)
