"""A realistic fleet for the demo and the benchmarks: rooftop inverters and their days.

Production follows a plausible curve: installed capacity x peak sun hours (seasonal, for
the latitudes of SG/MY/VN) x the day's weather, with the meter's accumulated value rising
by exactly each day's production. Seeded, so a run can be repeated.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from uploader.records import Record

MILLI = Decimal("0.001")


@dataclass(frozen=True, slots=True)
class Inverter:
    """One rooftop inverter of the fleet."""

    account: str
    remote_inv_id: str
    capacity_kw: Decimal
    meter_start_kwh: Decimal


def inverters(accounts: list[str], per_account: int, seed: int = 7) -> list[Inverter]:
    """`per_account` inverters for each account, with capacities typical of rooftops."""
    rand = random.Random(seed)
    fleet = []
    for account in accounts:
        for index in range(per_account):
            capacity = Decimal(rand.choice((5, 8, 10, 15, 20, 30, 50, 60, 100)))
            start = Decimal(rand.randrange(0, 5_000_000)) * MILLI
            fleet.append(Inverter(account, f"{account.upper()}-INV{index:05d}", capacity, start))
    return fleet


def days(first: dt.date, count: int) -> list[dt.date]:
    """`count` consecutive days from `first`."""
    return [first + dt.timedelta(days=n) for n in range(count)]


def records(fleet: list[Inverter], span: list[dt.date], seed: int = 11) -> Iterator[Record]:
    """Every inverter's record for every day of `span`, inverter by inverter, in day order."""
    rand = random.Random(seed)
    for inverter in fleet:
        meter = inverter.meter_start_kwh
        for day in span:
            produced = _production(inverter.capacity_kw, day, rand)
            meter += produced
            yield Record(
                account=inverter.account,
                remote_inv_id=inverter.remote_inv_id,
                day=day,
                period_kwh=produced,
                accumulated_kwh=meter,
            )


def _production(capacity_kw: Decimal, day: dt.date, rand: random.Random) -> Decimal:
    # Near the equator peak sun hours swing gently with the monsoon, around 4.5 h a day.
    season = 4.5 + 0.6 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 80) / 365)
    weather = rand.choice((0.25, 0.5, 0.75, 0.9, 1.0, 1.0))
    kwh = float(capacity_kw) * season * weather * rand.uniform(0.85, 1.0)
    # Rounded through an integer count of watt-hours, so the Decimal is exact.
    return Decimal(round(kwh * 1000)) * MILLI
