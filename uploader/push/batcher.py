"""Packing claimed records into request bodies, and mapping the registry's errors back.

A body is built once, as text, straight from the queue's canonical decimal strings: no
Struct is built and no value is parsed on the way (PERF-NOTES: formatting numbers in Python
is what costs). Records arrive grouped by inverter and in day order (the queue's claim
order), so each inverter's run of records becomes one `Devices[]` item.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import msgspec

from uploader.queue.base import QueuedRecord

Endpoint = Literal["batch", "single", "legacy", "monthly"]
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
ONE_INVERTER_ENDPOINTS = frozenset({"single", "legacy", "monthly"})

_string = msgspec.json.Encoder()
_QUOTED: dict[str, str] = {}
_QUOTED_MAX = 100_000  # inverter ids remembered (some 20 MB at most)
_PATH = re.compile(
    r"^(?:Devices\[(\d+)\]\.?)?(?:Data(?:\[(\d+)\]|\.PeriodProductionPerMonthInKWh\.(\w+)))?"
)


@dataclass(frozen=True, slots=True)
class Batch:
    """One request body and the records it carries, in body order."""

    endpoint: Endpoint
    body: bytes
    records: Sequence[QueuedRecord]
    groups: tuple[tuple[int, int], ...]  # (start, stop) of each inverter's records

    def __len__(self) -> int:
        return len(self.records)

    def records_at(self, field: str | None) -> Sequence[QueuedRecord] | None:
        """The records an error's field path names (`Devices[0].Data[3].Timestamp`), or None."""
        if not field:
            return None
        match = _PATH.match(field)
        if match is None or not match.group(0):
            return None
        device, day, month = match.groups()
        if device is None and day is None and month is None:
            return None  # the whole body ("Data", "Devices"): no record in particular
        group = int(device) if device is not None else 0
        if group >= len(self.groups):
            return None
        start, stop = self.groups[group]
        if day is not None:
            index = start + int(day)
            return self.records[index : index + 1] if index < stop else None
        if month is not None:
            return [r for r in self.records[start:stop] if MONTHS[int(r.day[5:7]) - 1] == month]
        return self.records[start:stop]


def build(records: Sequence[QueuedRecord], endpoint: Endpoint, numbers: str = "string") -> Batch:
    """The body carrying `records` to `endpoint` (one inverter only, except for `batch`)."""
    groups = _groups(records)
    if endpoint != "batch" and len(groups) > 1:
        raise ValueError(f"the {endpoint} endpoint carries one inverter per request")
    quote = '"' if numbers == "string" else ""
    if endpoint == "monthly":
        body = _monthly(records, quote)
    elif endpoint == "batch" and len(groups) == len(records):
        body = _one_day_each(records, quote)
    else:
        accumulated = "AccumulatedPowerInKWh" if endpoint == "legacy" else "AccumulatedEnergyInKWh"
        devices = [_device(records[a:b], accumulated, quote) for a, b in groups]
        body = _wrap(endpoint, devices, records[0].remote_inv_id if records else "")
    return Batch(endpoint, body.encode(), records, groups)


def split(batch: Batch, numbers: str = "string") -> tuple[Batch, Batch]:
    """Two halves of a batch (for isolating records the registry refused without naming them)."""
    half = len(batch.records) // 2
    return (
        build(batch.records[:half], batch.endpoint, numbers),
        build(batch.records[half:], batch.endpoint, numbers),
    )


def _groups(records: Sequence[QueuedRecord]) -> tuple[tuple[int, int], ...]:
    groups: list[tuple[int, int]] = []
    start = 0
    for index in range(1, len(records) + 1):
        if index == len(records) or records[index].remote_inv_id != records[start].remote_inv_id:
            groups.append((start, index))
            start = index
    return tuple(groups)


def _device(records: Sequence[QueuedRecord], accumulated: str, q: str) -> tuple[str, str]:
    days = ",".join(
        [
            f'{{"Timestamp":"{r.day}","PeriodProductionInKWh":{q}{r.period_kwh}{q},'
            f'"{accumulated}":{q}{r.accumulated_kwh}{q}}}'
            for r in records
        ]
    )
    return _quoted(records[0].remote_inv_id), days


def _one_day_each(records: Sequence[QueuedRecord], q: str) -> str:
    # The daily shape (every inverter's one new day): one f-string per record, no groups.
    devices = ",".join(
        [
            f'{{"RemoteInvId":{_quoted(r.remote_inv_id)},"Data":[{{"Timestamp":"{r.day}",'
            f'"PeriodProductionInKWh":{q}{r.period_kwh}{q},'
            f'"AccumulatedEnergyInKWh":{q}{r.accumulated_kwh}{q}}}]}}'
            for r in records
        ]
    )
    return f'{{"Devices":[{devices}]}}'


def _quoted(remote_inv_id: str) -> str:
    """The inverter id as a JSON string; remembered, as the same fleet's ids come back daily."""
    quoted = _QUOTED.get(remote_inv_id)
    if quoted is None:
        if len(_QUOTED) >= _QUOTED_MAX:
            _QUOTED.clear()
        quoted = _QUOTED[remote_inv_id] = _string.encode(remote_inv_id).decode()
    return quoted


def _wrap(endpoint: Endpoint, devices: list[tuple[str, str]], remote_inv_id: str) -> str:
    if endpoint == "batch":
        items = ",".join(f'{{"RemoteInvId":{rid},"Data":[{days}]}}' for rid, days in devices)
        return f'{{"Devices":[{items}]}}'
    rid, days = devices[0] if devices else (_quoted(remote_inv_id), "")
    if endpoint == "legacy":
        return f'{{"Data":[{days}],"FrequencyType":"Daily","RemoteInvId":{rid}}}'
    return f'{{"RemoteInvId":{rid},"Data":[{days}]}}'


def _monthly(records: Sequence[QueuedRecord], q: str) -> str:
    # Monthly devices queue one record per month, dated on any day of that month, whose
    # period value is the month's production. One body carries one inverter's one year.
    years = {r.day[:4] for r in records}
    if len(years) > 1:
        raise ValueError("the monthly endpoint carries one year per request")
    months = {MONTHS[int(r.day[5:7]) - 1]: f"{q}{r.period_kwh}{q}" for r in records}
    values = ",".join(f'"{m}":{months[m]}' for m in MONTHS if m in months)
    rid = _quoted(records[0].remote_inv_id)
    year = int(records[0].day[:4])
    return (
        f'{{"RemoteInvId":{rid},"Data":{{"Year":{year},'
        f'"PeriodProductionPerMonthInKWh":{{{values}}}}}}}'
    )
