"""Request bodies as text, built straight from the queue's canonical decimal strings.

No Struct is built and no value is parsed on the way: formatting numbers in Python is what
costs. Records arrive grouped by inverter and in day order (the queue's claim order); each
builder takes the records and their groups, `(start, stop)` per inverter, and `q`, the quote
around numbers (`"` to send them as JSON strings, `""` as JSON numbers).

Each endpoint also says how an error's field path names records (`locate_*`), so a refusal
that names `Devices[0].Data[3].Timestamp` dead-letters that record and no other. A path is
read in any of the forms a validator writes (`canonical_path`): names in any case, with or
without a leading `$.` (JSON path) or as a JSON pointer (`/Devices/0/Data/3`), indexes as
`[3]` or `.3`; what follows the record's part (`.Timestamp`) does not matter.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal

import msgspec

from uploader.queue.base import QueuedRecord
from uploader.records import canonical

Groups = tuple[tuple[int, int], ...]
BodyBuilder = Callable[[Sequence[QueuedRecord], Groups, str], str]

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

_string = msgspec.json.Encoder()
_QUOTED: dict[str, str] = {}
_QUOTED_MAX = 100_000  # inverter ids remembered (some 20 MB at most)
_DEVICE = re.compile(r"^Devices\[(\d+)\](?:\.Data\[(\d+)\])?", re.IGNORECASE)
_DAY = re.compile(r"^Data\[(\d+)\]", re.IGNORECASE)
_MONTH = re.compile(r"^Data\.PeriodProductionPerMonthInKWh\.(\w+)", re.IGNORECASE)
_INVERTER = re.compile(r"^Remote(?:Inv)?Id$", re.IGNORECASE)  # the seed's table says `RemoteId`
_DOT_INDEX = re.compile(r"\.(\d+)(?=\.|$)")
_MONTH_INDEX = {month.lower(): index for index, month in enumerate(MONTHS)}


def canonical_path(field: str) -> str:
    """An error's field path in the form the locators read: `Devices[0].Data[3].Timestamp`."""
    path = field.strip()
    if path.startswith("/"):  # a JSON pointer: /Devices/0/Data/3
        path = ".".join(path[1:].split("/"))
    path = path.removeprefix("$").removeprefix(".")
    return _DOT_INDEX.sub(r"[\1]", path)


# Sums of canonical decimals are exact: a result that would need rounding raises instead.
_EXACT = decimal.Context(prec=100, traps=[decimal.Inexact, decimal.Rounded])
_ZERO = Decimal(0)


def quoted(remote_inv_id: str) -> str:
    """The inverter id as a JSON string; remembered, as the same fleet's ids come back daily."""
    text = _QUOTED.get(remote_inv_id)
    if text is None:
        if len(_QUOTED) >= _QUOTED_MAX:
            _QUOTED.clear()
        text = _QUOTED[remote_inv_id] = _string.encode(remote_inv_id).decode()
    return text


def _days(records: Sequence[QueuedRecord], accumulated: str, q: str) -> str:
    return ",".join(
        [
            f'{{"Timestamp":"{r.day}","PeriodProductionInKWh":{q}{r.period_kwh}{q},'
            f'"{accumulated}":{q}{r.accumulated_kwh}{q}}}'
            for r in records
        ]
    )


def batch_body(records: Sequence[QueuedRecord], groups: Groups, q: str) -> str:
    """`{"Devices": [{"RemoteInvId", "Data": [...]}, ...]}`: one item per inverter."""
    if len(groups) == len(records):
        return _one_day_each(records, q)
    items = ",".join(
        f'{{"RemoteInvId":{quoted(records[a].remote_inv_id)},'
        f'"Data":[{_days(records[a:b], "AccumulatedEnergyInKWh", q)}]}}'
        for a, b in groups
    )
    return f'{{"Devices":[{items}]}}'


def _one_day_each(records: Sequence[QueuedRecord], q: str) -> str:
    # The daily shape (every inverter's one new day): one f-string per record, no groups.
    devices = ",".join(
        [
            f'{{"RemoteInvId":{quoted(r.remote_inv_id)},"Data":[{{"Timestamp":"{r.day}",'
            f'"PeriodProductionInKWh":{q}{r.period_kwh}{q},'
            f'"AccumulatedEnergyInKWh":{q}{r.accumulated_kwh}{q}}}]}}'
            for r in records
        ]
    )
    return f'{{"Devices":[{devices}]}}'


def single_body(records: Sequence[QueuedRecord], groups: Groups, q: str) -> str:
    """`{"RemoteInvId", "Data": [...]}`: one inverter's days."""
    rid = quoted(records[0].remote_inv_id)
    return f'{{"RemoteInvId":{rid},"Data":[{_days(records, "AccumulatedEnergyInKWh", q)}]}}'


def legacy_body(records: Sequence[QueuedRecord], groups: Groups, q: str) -> str:
    """The seed's single-device body: `AccumulatedPowerInKWh`, and `FrequencyType`."""
    rid = quoted(records[0].remote_inv_id)
    days = _days(records, "AccumulatedPowerInKWh", q)
    return f'{{"Data":[{days}],"FrequencyType":"Daily","RemoteInvId":{rid}}}'


def monthly_body(records: Sequence[QueuedRecord], groups: Groups, q: str) -> str:
    """One inverter's months of one year, each the sum of the records' days in it."""
    return _monthly(records, q, {})


def monthly_of(days: Mapping[str, str]) -> BodyBuilder:
    """The monthly body over `days` (day -> period, the queue's `known_days` of the
    records' inverter-year): every month known of that year, as the sum of its days."""

    def body(records: Sequence[QueuedRecord], groups: Groups, q: str) -> str:
        return _monthly(records, q, days)

    return body


def _monthly(records: Sequence[QueuedRecord], q: str, days: Mapping[str, str]) -> str:
    # `{"RemoteInvId", "Data": {"Year", "PeriodProductionPerMonthInKWh": {"Jan": …}}}`
    sums = month_sums(records, days)
    values = ",".join(f'"{MONTHS[month - 1]}":{q}{total}{q}' for month, total in sums.items())
    rid = quoted(records[0].remote_inv_id)
    year = int(records[0].day[:4])
    return (
        f'{{"RemoteInvId":{rid},"Data":{{"Year":{year},'
        f'"PeriodProductionPerMonthInKWh":{{{values}}}}}}}'
    )


def month_sums(records: Sequence[QueuedRecord], days: Mapping[str, str]) -> dict[int, str]:
    """Every month of the records' year that `days` or the records know (1-12, in order): the
    exact sum of its days, a day's value being its value in `days` (the queue's latest) if
    there, else the record's. The registry gets the whole year it may hold, never a part."""
    values = {r.day: r.period_kwh for r in records}
    values.update(days)
    sums: dict[int, Decimal] = {}
    for day, value in values.items():
        month = int(day[5:7])
        sums[month] = _EXACT.add(sums.get(month, _ZERO), Decimal(value))
    return {month: canonical(sums[month]) for month in sorted(sums)}


def locate_in_devices(
    records: Sequence[QueuedRecord], groups: Groups, field: str
) -> Sequence[QueuedRecord] | None:
    """`Devices[i]` names an inverter's records, `Devices[i].Data[j]` one record."""
    match = _DEVICE.match(field)
    if match is None:
        return None
    device, day = match.groups()
    if int(device) >= len(groups):
        return None
    start, stop = groups[int(device)]
    if day is None:
        return records[start:stop]
    index = start + int(day)
    return records[index : index + 1] if index < stop else None


def locate_in_data(
    records: Sequence[QueuedRecord], groups: Groups, field: str
) -> Sequence[QueuedRecord] | None:
    """`Data[j]` names one record of a one-inverter body, `RemoteInvId` all of them."""
    if _INVERTER.match(field):
        return records
    match = _DAY.match(field)
    if match is None:
        return None
    index = int(match.group(1))
    return records[index : index + 1] if index < len(records) else None


def locate_in_months(
    records: Sequence[QueuedRecord], groups: Groups, field: str
) -> Sequence[QueuedRecord] | None:
    """`Data.PeriodProductionPerMonthInKWh.Jan` names the records of that month;
    `RemoteInvId` and `Data.Year` all of them."""
    if _INVERTER.match(field) or field.lower() == "data.year":
        return records
    match = _MONTH.match(field)
    month = None if match is None else _MONTH_INDEX.get(match.group(1).lower())
    if month is None:
        return None
    return [r for r in records if int(r.day[5:7]) - 1 == month] or None
