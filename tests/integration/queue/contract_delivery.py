"""The queue contract, delivery read back: record states, re-pending, awaiting, deadlines."""

from __future__ import annotations

import datetime as dt

from tests.integration.queue.helpers import claim, entry, rec
from uploader.queue import Queue, StoredRecord
from uploader.queue.types import DeadlineCounts

MAY, JUNE = dt.date(2024, 5, 1), dt.date(2024, 5, 31)


async def _all(
    queue: Queue, account: str = "acme", inverter: str | None = None, page: int = 1000
) -> dict[tuple[str, str], StoredRecord]:
    found: dict[tuple[str, str], StoredRecord] = {}
    async for rows in queue.records_between(account, MAY, JUNE, inverter=inverter, page=page):
        for row in rows:
            assert (row.remote_inv_id, row.day) not in found
            found[(row.remote_inv_id, row.day)] = row
    return found


def _states(found: dict[tuple[str, str], StoredRecord]) -> dict[str, str]:
    return {f"{inverter} {day[-2:]}": row.state for (inverter, day), row in sorted(found.items())}


async def _every_state(queue: Queue) -> None:
    """INV1 days 01-06 and INV2 day 01 of acme, one per state; records outside the range."""
    days = [f"2024-05-0{n}" for n in range(1, 7)]
    await queue.enqueue([rec("INV1", day, period=f"{n}.5") for n, day in enumerate(days)])
    await queue.enqueue([rec("INV2"), rec("INV1", "2024-06-01"), rec("INV1", account="bolt")])
    held = await claim(queue, limit=5)  # INV1 01..05
    d1, d2, d3, d4, _ = held.records
    await queue.ack(held, [d1], entry("b1", held, process_id=1))
    await queue.ack(held, [d2], entry("b2", held, process_id=2))
    await queue.set_ledger_status("b1", "Success")
    await queue.reject(held, [(d3, "refused")])
    await queue.release(held, [d4], delay_s=30)


class DeliveryContract:
    """Where stored records stand, and what a read-back may do about it."""

    async def test_records_between_reads_each_state(self, queue: Queue) -> None:
        """Each record of the range once, with the state of its current value and its values."""
        await _every_state(queue)
        found = await _all(queue)
        assert _states(found) == {
            "INV1 01": "confirmed",
            "INV1 02": "sent",
            "INV1 03": "dead",
            "INV1 04": "pending",  # held by a delayed release: pending, as counts() has it
            "INV1 05": "leased",
            "INV1 06": "pending",
            "INV2 01": "pending",
        }
        first = found[("INV1", "2024-05-01")]
        assert (first.period_kwh, first.accumulated_kwh, first.version) == ("0.5", "100", 1)
        assert _states(await _all(queue, inverter="INV2")) == {"INV2 01": "pending"}
        assert await _all(queue, account="nobody") == {}

    async def test_records_between_pages_cover_the_range_once(self, queue: Queue) -> None:
        """Small pages, of one inverter or of all, together hold every record exactly once."""
        await _every_state(queue)
        whole = await _all(queue)
        assert await _all(queue, page=2) == whole
        mine = {key: row for key, row in whole.items() if key[0] == "INV1"}
        assert await _all(queue, inverter="INV1", page=2) == mine

    async def test_state_counts_per_inverter(self, queue: Queue) -> None:
        """state_counts counts each asked inverter's records by state, zeros included."""
        await _every_state(queue)
        counts = await queue.state_counts("acme", MAY, JUNE, ["INV1", "INV9"])
        assert counts["INV1"] == {"pending": 2, "leased": 1, "dead": 1, "sent": 1, "confirmed": 1}
        assert set(counts["INV9"].values()) == {0}

    async def test_only_the_confirmed_value_is_confirmed(self, queue: Queue) -> None:
        """Success confirms the carried version; a value changed since is not confirmed."""
        await queue.enqueue([rec(period="1")])
        held = await claim(queue)
        await queue.ack(held, held.records, entry("b1", held, process_id=1))
        await queue.enqueue([rec(period="2")])
        await queue.set_ledger_status("b1", "Success")
        again = await claim(queue)
        await queue.ack(again, again.records, entry("b2", again, process_id=2))
        assert _states(await _all(queue)) == {"INV1 01": "sent"}
        await queue.set_ledger_status("b2", "Failed")
        assert _states(await _all(queue)) == {"INV1 01": "sent"}

    async def test_requeue_pends_delivered_records_only(self, queue: Queue) -> None:
        """Sent and confirmed records are pending again; pending, leased and dead ones are not."""
        await _every_state(queue)
        found = await _all(queue)
        assert await queue.requeue("acme", list(found.values())) == 2
        states = _states(await _all(queue))
        assert (states["INV1 01"], states["INV1 02"]) == ("pending", "pending")
        assert (states["INV1 03"], states["INV1 05"]) == ("dead", "leased")
        again = await claim(queue)  # the requeued values, attempts from one
        assert [(r.day, r.period_kwh, r.attempts) for r in again.records[:2]] == [
            ("2024-05-01", "0.5", 1),
            ("2024-05-02", "1.5", 1),
        ]
        await queue.ack(again, again.records[:1], entry("b3", again))
        assert _states(await _all(queue))["INV1 01"] == "sent"  # its confirmation was dropped

    async def test_requeue_leaves_changed_and_foreign_records_alone(self, queue: Queue) -> None:
        """A value changed since the read, or a record of another account, is not re-pended."""
        await queue.enqueue([rec(period="1"), rec(account="bolt")])
        for account in ("acme", "bolt"):
            held = await claim(queue, account)
            await queue.ack(held, held.records, entry(f"b-{account}", held))
        read = list((await _all(queue)).values())
        bolt = list((await _all(queue, account="bolt")).values())
        await queue.enqueue([rec(period="2")])
        assert await queue.requeue("acme", read) == 0
        assert await queue.requeue("acme", bolt) == 0
        assert _states(await _all(queue, account="bolt")) == {"INV1 01": "sent"}
        assert await queue.requeue("acme", []) == 0

    async def test_records_awaiting_status(self, queue: Queue) -> None:
        """The records of batches with a ProcessId and no final status, until it is reported."""
        await queue.enqueue([rec(), rec("INV2"), rec("INV3")])
        held = await claim(queue)
        one, two, three = held.records
        await queue.ack(held, [one], entry("b1", held, process_id=1))
        await queue.ack(held, [two], entry("b2", held, process_id=2))
        await queue.ack(held, [three], entry("b3", held))  # no ProcessId: nothing to await
        await queue.set_ledger_status("b2", "Processing")
        awaited = await queue.records_awaiting_status("acme")
        assert awaited == {(one.id, one.version), (two.id, two.version)}
        await queue.set_ledger_status("b1", "Success")
        await queue.set_ledger_status("b2", "Failed")
        assert await queue.records_awaiting_status("acme") == frozenset()
        assert await queue.records_awaiting_status("nobody") == frozenset()

    async def test_deadlines_count_pending_records_by_claim_deadline(self, queue: Queue) -> None:
        """Closing within the horizon, closed before today, the soonest open; leased aside."""
        # Claim deadlines: 2023-12 -> 2024-09-30, 2024-03 -> 2025-05-31, 2024-08 -> 2025-09-30.
        days = ["2023-12-01", "2023-12-02", "2024-03-01", "2024-03-02", "2024-08-01"]
        await queue.enqueue([rec("INV1", day) for day in days] + [rec(account="bolt")])
        await claim(queue, limit=1)  # 2023-12-01: leased
        found = await queue.deadlines(dt.date(2025, 5, 2), 30)
        assert found == {
            "acme": DeadlineCounts(closing=2, closed=1, soonest="2025-05-31"),
            "bolt": DeadlineCounts(closing=1, closed=0, soonest="2025-05-31"),
        }
        assert (await queue.deadlines(dt.date(2025, 5, 31), 0))["acme"].closing == 2
        later = (await queue.deadlines(dt.date(2025, 6, 1), 200))["acme"]
        assert later == DeadlineCounts(closing=1, closed=3, soonest="2025-09-30")
