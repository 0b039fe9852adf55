"""The fast lane for canonical bodies: energy values as strings like "12.345".

Decoding a JSON string into a Decimal costs about three times decoding it as a str, and
checking Decimals costs as much again. Most bodies (the uploader's own) write every value
as a plain non-negative string with at most 3 decimals, so the grouped endpoints first
decode values as str and prove that shape for all of them at once with one regex over
their joined text (msgspec's own `pattern` constraint, called per value, was slower than
Decimals). A body that does not fit (a JSON number, "1.5000", "-1", "NaN", a broken
rule...) takes the precise path, which decodes Decimals and names every violation: the
fast lane accepts nothing the precise path would refuse, and stores the same values.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Sequence
from decimal import Decimal

import msgspec

from uploader.simulator.checks import Rules, days_ok
from uploader.simulator.state import InverterInfo
from uploader.simulator.wire import FastDaily

# One value per line: digits, optionally a point and 1-3 digits. Possessive quantifiers
# never backtrack, which makes this about twice as fast as the plain pattern.
_CANONICAL = re.compile(r"(?:[0-9]++(?:\.[0-9]{1,3}+)?+\n)*+")
_LEADING_ZERO = re.compile(r"\n0[0-9]")  # "007" is a value, but not written canonically
_PRODUCED = operator.attrgetter("PeriodProductionInKWh")
_ACCUMULATED = operator.attrgetter("AccumulatedEnergyInKWh")
_TIMESTAMP = operator.attrgetter("Timestamp")


class FastInverterDays(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Grouped single-inverter body; one item of a batch's `Devices`."""

    RemoteInvId: str
    Data: list[FastDaily]


class FastBatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Batch body."""

    Devices: list[FastInverterDays]


single_decoder = msgspec.json.Decoder(FastInverterDays)
batch_decoder = msgspec.json.Decoder(FastBatch)


def canonical(groups: Sequence[tuple[str, Sequence[FastDaily]]]) -> bool:
    """Whether every value is a non-negative decimal with at most 3 places, written plainly."""
    parts: list[str] = []
    for _, data in groups:
        parts.append("\n".join(map(_PRODUCED, data)))
        parts.append("\n".join(map(_ACCUMULATED, data)))
    text = "\n".join(parts) + "\n"  # an empty group leaves an empty line, which fails
    if text.count("\n") != 2 * sum(len(data) for _, data in groups):
        return False  # a value holding a line break would pass for two lines
    return _CANONICAL.fullmatch(text) is not None and _LEADING_ZERO.search("\n" + text) is None


def fast_days(
    groups: Sequence[tuple[str, Sequence[FastDaily]]], rules: Rules
) -> list[list[dt.date]] | None:
    """Each group's days when the body breaks no rule; None sends it to the precise path."""
    if sum(len(data) for _, data in groups) > rules.max_records or not canonical(groups):
        return None
    seen: set[str] = set()  # an inverter in two items takes the precise path (a 400)
    out: list[list[dt.date]] = []
    for rid, data in groups:
        info = rules.inverters.get(rid)
        if info is None and not rules.open_inverters:
            return None
        days = list(map(_TIMESTAMP, data))  # never empty: canonical() refused empty groups
        if rid in seen or not _days_ok(days, data, info, rules.today):
            return None
        seen.add(rid)
        out.append(days)
    return out


def _days_ok(
    days: list[dt.date], data: Sequence[FastDaily], info: InverterInfo | None, today: dt.date
) -> bool:
    """Whether one inverter's days are distinct and break no rule."""
    if len(set(days)) != len(days) or not days_ok(min(days), max(days), info, today):
        return False
    cap = None if info is None else info.max_daily_kwh
    return cap is None or max(Decimal(rec.PeriodProductionInKWh) for rec in data) <= cap
