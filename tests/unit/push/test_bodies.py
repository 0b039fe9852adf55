"""Monthly bodies: each month of a request is the exact sum of the days the queue knows."""

from __future__ import annotations

import random
from decimal import Decimal

import msgspec
import pytest

from uploader.push import batcher, bodies
from uploader.push.endpoints import ENDPOINTS
from uploader.queue.base import QueuedRecord
from uploader.records import canonical
from uploader.registry.wire.generation import MonthlyGenerationRequest


def rec(day: str, period: str, n: int = 0, rid: str = "MON-2") -> QueuedRecord:
    return QueuedRecord(n, 1, rid, day, period, "0", 1, 0.0)


def given(body: bytes) -> dict[str, Decimal]:
    """The months a monthly body gives a value."""
    request = msgspec.json.decode(body, type=MonthlyGenerationRequest)
    months = msgspec.structs.asdict(request.Data.PeriodProductionPerMonthInKWh)
    return {month: value for month, value in months.items() if value is not None}


def test_two_days_of_a_month_are_summed_not_overwritten() -> None:
    """MON-2's 10 on 1 Jan and 20 on 20 Jan make a January of 30."""
    records = [rec("2026-01-01", "10"), rec("2026-01-20", "20", 1)]
    body = batcher.build(records, ENDPOINTS["monthly"]).body
    assert body == (
        b'{"RemoteInvId":"MON-2","Data":{"Year":2026,"PeriodProductionPerMonthInKWh":{"Jan":"30"}}}'
    )


def test_a_month_sums_every_day_the_queue_knows_with_its_latest_value() -> None:
    """Days not in the request count too, and the queue's value of a day beats a stale one."""
    records = [rec("2025-03-05", "1.5"), rec("2025-08-01", "7", 1)]
    days = {"2025-03-01": "0.25", "2025-03-05": "2.125", "2025-03-31": "100", "2025-08-01": "7",
            "2025-05-10": "9"}  # fmt: skip
    body = batcher.build(records, ENDPOINTS["monthly"].over(days)).body
    assert given(body) == {
        "Mar": Decimal("102.375"),
        "May": Decimal("9"),  # no record of this request, but a month the queue knows
        "Aug": Decimal("7"),
    }


def test_sums_are_exact_where_floats_are_not(rand: random.Random) -> None:
    """Thirty-one values with three decimals sum to the exact decimal, as canonical text."""
    values = [f"{rand.randrange(10**9)}.{rand.randrange(1000):03d}" for _ in range(31)]
    values[0] = "0.1"
    values[1] = "0.2"
    records = [rec(f"2024-01-{d + 1:02d}", v, d) for d, v in enumerate(values)]
    assert bodies.month_sums(records, {}) == {1: canonical(sum(map(Decimal, values), Decimal(0)))}
    assert bodies.month_sums(records[:2], {}) == {1: "0.3"}


def test_huge_sums_keep_every_digit() -> None:
    """A sum of 31 significant digits is exact (the default context would round it to 28)."""
    records = [rec("2024-02-01", "9" * 27 + ".999"), rec("2024-02-02", "0.002", 1)]
    assert bodies.month_sums(records, {}) == {2: "1" + "0" * 27 + ".001"}


def test_a_spec_that_sums_nothing_ignores_days() -> None:
    """`over` leaves a daily endpoint's spec as it is."""
    assert ENDPOINTS["single"].over({"2024-01-01": "1"}) is ENDPOINTS["single"]


@pytest.mark.parametrize("numbers", ["string", "number"])
def test_a_bisected_monthly_request_still_carries_the_whole_year(numbers: str) -> None:
    """Each half of a split monthly batch carries every known month of the year, in full."""
    records = [rec("2025-01-01", "1"), rec("2025-02-01", "2", 1), rec("2025-03-01", "3", 2)]
    days = {"2025-01-01": "1", "2025-01-09": "4", "2025-02-01": "2", "2025-03-01": "3"}
    whole = batcher.build(records, ENDPOINTS["monthly"].over(days), numbers)
    first, second = batcher.split(whole, numbers)
    year = {"Jan": Decimal(5), "Feb": Decimal(2), "Mar": Decimal(3)}
    assert [given(half.body) for half in (first, second)] == [year, year]
