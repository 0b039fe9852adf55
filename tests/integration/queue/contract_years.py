"""The queue contract, one inverter's years: claims across claim deadlines, the known days."""

from __future__ import annotations

import datetime as dt

from tests.integration.queue.helpers import LEASE_S, FakeClock, claim, entry, keys, rec
from uploader.queue import Queue

# One inverter's days under four residual-mix claim deadlines (2024-05-31, 2024-09-30,
# 2025-05-31, 2025-09-30).
SPREAD = ["2023-03-01", "2023-08-01", "2024-02-01", "2024-09-01"]


class YearsContract:
    """One-inverter claims and the days a monthly body sums."""

    # -- one-inverter claims ------------------------------------------------------------

    async def test_one_inverter_claims_span_deadlines_in_date_order(self, queue: Queue) -> None:
        """one_inverter=True takes the first inverter's days of every deadline, in date order."""
        spread = [rec("INV1", d) for d in reversed(SPREAD)]
        await queue.enqueue([rec("INV2", "2023-01-01"), *spread, rec("INV0", "2024-08-01")])
        held = await claim(queue, one_inverter=True)
        assert keys(held.records) == [("INV1", day) for day in SPREAD]
        assert keys((await claim(queue, one_inverter=True)).records) == [("INV2", "2023-01-01")]
        assert keys((await claim(queue, one_inverter=True)).records) == [("INV0", "2024-08-01")]
        assert await queue.claim("acme", 10, LEASE_S, one_inverter=True) is None

    async def test_one_inverter_claims_stop_at_limit_and_leave_the_rest_in_order(
        self, queue: Queue
    ) -> None:
        """A limited one-inverter claim takes the earliest days; the rest keep their place."""
        await queue.enqueue([*(rec("INV1", d) for d in SPREAD), rec("INV2", "2023-01-01"),
                             rec("INV0", "2024-08-01")])  # fmt: skip
        first = await claim(queue, limit=3, one_inverter=True)
        assert keys(first.records) == [("INV1", day) for day in SPREAD[:3]]
        rest = [(await claim(queue, one_inverter=True)).records for _ in range(3)]
        assert [keys(records) for records in rest] == [
            [("INV2", "2023-01-01")],
            [("INV0", "2024-08-01")],
            [("INV1", "2024-09-01")],
        ]

    async def test_a_backfill_of_one_inverter_fills_each_claim(self, queue: Queue) -> None:
        """3,500 days of one inverter go out as two claims of 3,000 and 500, in date order."""
        first_day = dt.date(2016, 1, 1)
        days = [(first_day + dt.timedelta(days=n)).isoformat() for n in range(3500)]
        await queue.enqueue([rec("INV1", day) for day in days])
        first = await claim(queue, limit=3000, one_inverter=True)
        second = await claim(queue, limit=3000, one_inverter=True)
        assert [r.day for r in first.records] == days[:3000]
        assert [r.day for r in second.records] == days[3000:]

    async def test_a_one_year_claim_stops_at_the_end_of_the_first_days_year(
        self, queue: Queue
    ) -> None:
        """one_year=True takes the first inverter's days of its first year (both deadlines)."""
        await queue.enqueue([rec("INV1", d) for d in [*SPREAD, "2023-12-31", "2024-01-01"]])
        first = await claim(queue, one_inverter=True, one_year=True)
        second = await claim(queue, one_inverter=True, one_year=True)
        assert [r.day for r in first.records] == ["2023-03-01", "2023-08-01", "2023-12-31"]
        assert [r.day for r in second.records] == ["2024-01-01", "2024-02-01", "2024-09-01"]

    async def test_a_spread_claim_is_released_and_acked_like_any(
        self, queue: Queue, clock: FakeClock
    ) -> None:
        """Records of a claim across deadlines go back to pending (released or expired) whole."""
        await queue.enqueue([rec("INV1", d) for d in SPREAD])
        held = await claim(queue, one_inverter=True)
        await queue.release(held, held.records[1:3])
        again = await claim(queue, one_inverter=True)
        assert keys(again.records) == [("INV1", d) for d in SPREAD[1:3]]
        clock.advance(LEASE_S)
        assert keys((await claim(queue, one_inverter=True)).records) == [
            ("INV1", d) for d in SPREAD
        ]

    # -- the days a monthly body sums ---------------------------------------------------

    async def test_known_days_are_the_latest_values_of_one_inverter_year(
        self, queue: Queue
    ) -> None:
        """Pending, leased and sent days count with their latest value; dead ones do not."""
        await queue.enqueue(
            [rec("INV1", "2024-01-01", "1"), rec("INV1", "2024-01-20", "2"),
             rec("INV1", "2024-07-04", "3"), rec("INV1", "2024-12-31", "4"),
             rec("INV1", "2023-12-31", "9"), rec("INV1", "2025-01-01", "9"),
             rec("INV2", "2024-01-01", "9"), rec("INV1", "2024-01-02", "9", account="bolt")]
        )  # fmt: skip
        held = await claim(queue, one_inverter=True)
        by_day = {r.day: r for r in held.records}
        await queue.ack(held, [by_day["2024-01-01"]], entry("b1", held))
        await queue.reject(held, [(by_day["2024-07-04"], "422: too much")])
        await queue.enqueue([rec("INV1", "2024-01-20", "2.50")])  # corrected while leased
        assert await queue.known_days("acme", "INV1", 2024) == {
            "2024-01-01": "1",
            "2024-01-20": "2.5",
            "2024-12-31": "4",
        }
        assert await queue.replay_dead() == 1
        known = await queue.known_days("acme", "INV1", 2024)
        assert known["2024-07-04"] == "3"  # a replayed day counts again
        assert await queue.known_days("acme", "INV9", 2024) == {}
        assert await queue.known_days("nobody", "INV1", 2024) == {}
