"""The queue contract, first half: enqueue, claims, leases, ack, release, reject."""

from __future__ import annotations

import random

import pytest

from tests.integration.queue.helpers import LEASE_S, START, FakeClock, claim, entry, keys, rec
from uploader.errors import QueueError
from uploader.queue import EnqueueResult, Queue
from uploader.queue.base import deadline_of_text


class FlowContract:
    """Records in and out of the queue."""

    # -- enqueue ------------------------------------------------------------------------

    async def test_enqueue_counts_new_records_as_changed(self, queue: Queue) -> None:
        """New keys are changed; the same keys again with the same values are unchanged."""
        first = await queue.enqueue([rec(day="2024-05-01"), rec(day="2024-05-02")])
        again = await queue.enqueue([rec(day="2024-05-01"), rec(day="2024-05-02")])
        assert (first.changed, first.unchanged) == (2, 0)
        assert (again.changed, again.unchanged) == (0, 2)
        assert (await queue.counts()).accounts["acme"].pending == 2

    async def test_equal_decimals_are_the_same_value(self, queue: Queue) -> None:
        """1.50 and 1.5 are one value: re-enqueueing it changes nothing."""
        await queue.enqueue([rec(period="1.50", acc="100.000")])
        result = await queue.enqueue([rec(period="1.5", acc="100")])
        assert result.unchanged == 1

    async def test_values_are_handed_out_as_canonical_text(self, queue: Queue) -> None:
        """A claim carries the exact values as canonical decimal text."""
        await queue.enqueue([rec(period="12.300", acc="5012.3")])
        (record,) = (await claim(queue)).records
        assert (record.period_kwh, record.accumulated_kwh) == ("12.3", "5012.3")
        assert (record.version, record.attempts, record.first_enqueued_at) == (1, 1, START)

    async def test_a_changed_value_replaces_the_old_and_bumps_the_version(
        self, queue: Queue
    ) -> None:
        """Enqueueing new values for a key updates it; claims see only the latest."""
        await queue.enqueue([rec(period="1")])
        result = await queue.enqueue([rec(period="2")])
        (record,) = (await claim(queue)).records
        assert result.changed == 1
        assert (record.period_kwh, record.version) == ("2", 2)

    async def test_a_sent_record_enqueued_unchanged_stays_sent(self, queue: Queue) -> None:
        """Re-enqueueing a delivered file is a no-op: nothing becomes pending again."""
        await queue.enqueue([rec()])
        held = await claim(queue)
        await queue.ack(held, held.records, entry("b1", held))
        result = await queue.enqueue([rec()])
        assert result.unchanged == 1
        assert await queue.claim("acme", 10, LEASE_S) is None

    async def test_a_sent_record_enqueued_changed_is_pending_again(self, queue: Queue) -> None:
        """A correction of a delivered record goes out again."""
        await queue.enqueue([rec(acc="100")])
        held = await claim(queue)
        await queue.ack(held, held.records, entry("b1", held))
        await queue.enqueue([rec(acc="101")])
        (record,) = (await claim(queue)).records
        assert (record.accumulated_kwh, record.version, record.attempts) == ("101", 2, 1)

    # -- claims -------------------------------------------------------------------------

    async def test_claims_go_by_deadline_then_inverter_then_day(self, queue: Queue) -> None:
        """The soonest-closing claim window first; one inverter's days together, in order."""
        await queue.enqueue(
            [
                rec("INV-B", "2024-02-01"),
                rec("INV-A", "2024-08-01"),  # second half of 2024: claimable longer
                rec("INV-A", "2024-03-01"),
                rec("INV-B", "2024-01-15"),
                rec("INV-A", "2023-12-31"),  # second half of 2023: closes first
            ]
        )
        held = await claim(queue)
        assert keys(held.records) == [
            ("INV-A", "2023-12-31"),
            ("INV-A", "2024-03-01"),
            ("INV-B", "2024-01-15"),
            ("INV-B", "2024-02-01"),
            ("INV-A", "2024-08-01"),
        ]

    async def test_a_full_claim_is_in_claim_order_whatever_the_enqueue_order(
        self, queue: Queue
    ) -> None:
        """3000 records enqueued shuffled, in chunks, come out sorted; the next claim continues."""
        days = [f"{y}-{m:02d}-{d:02d}" for y in (2023, 2024) for m in (3, 9) for d in range(1, 29)]
        records = [rec(f"INV{n:03d}", day) for n in range(40) for day in days]
        random.Random(7).shuffle(records)
        for start in range(0, len(records), 700):
            await queue.enqueue(records[start : start + 700])
        texts = [(r.remote_inv_id, r.day.isoformat()) for r in records]
        expected = sorted((deadline_of_text(day), inv, day) for inv, day in texts)
        first, second = await claim(queue, limit=3000), await claim(queue, limit=3000)
        got = [(deadline_of_text(r.day), r.remote_inv_id, r.day) for r in first.records]
        assert got == expected[:3000]
        assert keys(second.records) == [(inv, day) for _, inv, day in expected[3000:6000]]

    async def test_a_claim_takes_at_most_limit_and_the_next_takes_the_rest(
        self, queue: Queue
    ) -> None:
        """Claimed records are leased: a second claim continues where the first stopped."""
        await queue.enqueue([rec(day=f"2024-05-{d:02d}") for d in range(1, 6)])
        first = await claim(queue, limit=3)
        second = await claim(queue, limit=3)
        assert [r.day[-2:] for r in first.records] == ["01", "02", "03"]
        assert [r.day[-2:] for r in second.records] == ["04", "05"]
        assert await queue.claim("acme", 3, LEASE_S) is None
        assert first.lease_id != second.lease_id

    async def test_one_inverter_claims_only_the_first_inverter(self, queue: Queue) -> None:
        """one_inverter=True hands out the first inverter's days only."""
        await queue.enqueue([rec("INV2", "2024-05-01"), rec("INV1", "2024-05-02"),
                             rec("INV1", "2024-05-01")])  # fmt: skip
        held = await claim(queue, one_inverter=True)
        assert keys(held.records) == [("INV1", "2024-05-01"), ("INV1", "2024-05-02")]
        rest = await claim(queue, one_inverter=True)
        assert keys(rest.records) == [("INV2", "2024-05-01")]

    async def test_a_claim_holds_one_account_only(self, queue: Queue) -> None:
        """Each account's records are claimed separately."""
        await queue.enqueue([rec(account="acme"), rec(account="bolt"), rec("INV2", account="bolt")])
        held = await claim(queue, "bolt")
        assert (held.account, len(held.records)) == ("bolt", 2)
        assert len((await claim(queue, "acme")).records) == 1
        assert await queue.claim("nobody", 10, LEASE_S) is None

    async def test_an_expired_lease_returns_its_records_to_pending(
        self, queue: Queue, clock: FakeClock
    ) -> None:
        """A lease not acked in time gives its records back; they count another attempt."""
        await queue.enqueue([rec(day="2024-05-01"), rec(day="2024-05-02")])
        held = await claim(queue)
        assert held.lease_until == START + LEASE_S
        clock.advance(LEASE_S - 1)
        assert await queue.claim("acme", 10, LEASE_S) is None
        assert await queue.in_flight() == 2
        clock.advance(2)
        assert await queue.in_flight() == 0
        again = await claim(queue)
        assert keys(again.records) == keys(held.records)
        assert [r.attempts for r in again.records] == [2, 2]

    async def test_extend_pushes_the_expiry_and_refuses_an_expired_lease(
        self, queue: Queue, clock: FakeClock
    ) -> None:
        """A held lease can be extended; once expired it cannot."""
        await queue.enqueue([rec()])
        held = await claim(queue)
        clock.advance(LEASE_S - 1)
        longer = await queue.extend(held, LEASE_S)
        assert longer.lease_until == clock.now + LEASE_S
        clock.advance(LEASE_S - 1)
        assert await queue.claim("acme", 10, LEASE_S) is None
        clock.advance(2)
        with pytest.raises(QueueError, match="expired"):
            await queue.extend(longer, LEASE_S)

    # -- ack, release, reject -----------------------------------------------------------

    async def test_ack_sends_records_and_writes_the_ledger(self, queue: Queue) -> None:
        """Acked records leave the pending set, count as sent, and the batch is in the ledger."""
        await queue.enqueue([rec(day="2024-05-01"), rec(day="2024-05-02")])
        held = await claim(queue)
        await queue.ack(held, held.records, entry("b1", held, process_id=77))
        counts = (await queue.counts()).accounts["acme"]
        assert (counts.pending, counts.leased, counts.sent) == (0, 0, 2)
        (row,) = await queue.ledger_awaiting_status("acme", 10)
        assert (row.batch_id, row.records, row.process_id, row.status) == ("b1", 2, 77, None)

    async def test_a_value_changed_in_flight_stays_pending_after_ack(self, queue: Queue) -> None:
        """The ack of an old value does not swallow the correction enqueued meanwhile."""
        await queue.enqueue([rec(period="1"), rec("INV2")])
        held = await claim(queue)
        await queue.enqueue([rec(period="9")])
        await queue.ack(held, held.records, entry("b1", held))
        (record,) = (await claim(queue)).records
        assert (record.remote_inv_id, record.period_kwh, record.version) == ("INV1", "9", 2)

    async def test_ack_after_the_lease_expired_still_ends_the_records(
        self, queue: Queue, clock: FakeClock
    ) -> None:
        """A delivery acked late (its lease expired meanwhile) is not sent again."""
        await queue.enqueue([rec()])
        held = await claim(queue)
        clock.advance(LEASE_S + 1)
        await queue.ack(held, held.records, entry("b1", held))
        assert await queue.claim("acme", 10, LEASE_S) is None
        assert (await queue.counts()).accounts["acme"].sent == 1

    async def test_part_of_a_claim_can_be_acked_and_the_rest_released(self, queue: Queue) -> None:
        """Ack and release work on any subset of the claim's records."""
        await queue.enqueue([rec(day=f"2024-05-0{d}") for d in range(1, 4)])
        held = await claim(queue)
        await queue.ack(held, held.records[:1], entry("b1", held))
        assert await queue.in_flight() == 2
        await queue.release(held, held.records[1:])
        again = await claim(queue)
        assert [r.day for r in again.records] == ["2024-05-02", "2024-05-03"]
        assert await queue.in_flight() == 2

    async def test_a_delayed_release_hides_records_until_the_delay_passed(
        self, queue: Queue, clock: FakeClock
    ) -> None:
        """release(delay_s) makes records delayed, not claimable before the delay, then pending."""
        await queue.enqueue([rec()])
        held = await claim(queue)
        await queue.release(held, held.records, delay_s=30)
        assert await queue.claim("acme", 10, LEASE_S) is None
        assert await queue.due_in() == {"acme": 30.0}
        counts = (await queue.counts()).accounts["acme"]
        assert (counts.pending, counts.leased, counts.delayed) == (0, 0, 1)
        assert (counts.next_due_at, counts.oldest_pending_at) == (START + 30, START)
        clock.advance(30)
        counts = (await queue.counts()).accounts["acme"]
        assert (counts.pending, counts.delayed, counts.next_due_at) == (1, 0, None)
        assert await queue.due_in() == {"acme": 0.0}
        assert len((await claim(queue)).records) == 1

    async def test_reject_makes_dead_letters_with_the_reason_and_source(
        self, queue: Queue, clock: FakeClock
    ) -> None:
        """Rejected records leave the pending set and are kept with reason, source and time."""
        await queue.enqueue([rec(day="2024-05-01"), rec(day="2024-05-02")])
        held = await claim(queue)
        clock.advance(5)
        await queue.reject(held, [(held.records[0], "Timestamp: not accepted")])
        await queue.release(held, held.records[1:])
        (dead,) = await queue.list_dead()
        assert (dead.account, dead.reason, dead.source, dead.at) == (
            "acme",
            "Timestamp: not accepted",
            "INV1.csv:2024-05-01",
            START + 5,
        )
        assert (dead.remote_inv_id, dead.day, dead.period_kwh, dead.replayable) == (
            "INV1",
            "2024-05-01",
            "1.5",
            True,
        )
        assert keys((await claim(queue)).records) == [("INV1", "2024-05-02")]

    async def test_replay_queues_dead_records_again(self, queue: Queue) -> None:
        """A replayed dead record is pending again and its dead letter is gone."""
        await queue.enqueue([rec()])
        held = await claim(queue)
        await queue.reject(held, [(held.records[0], "bad")])
        assert await queue.enqueue([rec()]) == EnqueueResult(0, 1)  # dead, same value
        assert await queue.replay_dead() == 1
        assert await queue.list_dead() == []
        (record,) = (await claim(queue)).records
        assert record.attempts == 1

    async def test_a_corrected_dead_record_is_pending_and_its_dead_letter_dropped(
        self, queue: Queue
    ) -> None:
        """Enqueueing new values for a dead record supersedes the dead letter."""
        await queue.enqueue([rec(period="1")])
        held = await claim(queue)
        await queue.reject(held, [(held.records[0], "bad")])
        await queue.enqueue([rec(period="2")])
        assert await queue.list_dead() == []
        assert (await claim(queue)).records[0].period_kwh == "2"

    async def test_a_rejection_of_an_old_value_spares_the_new_one(self, queue: Queue) -> None:
        """A value corrected while in flight is not dead-lettered by the old one's rejection."""
        await queue.enqueue([rec(period="1")])
        held = await claim(queue)
        await queue.enqueue([rec(period="2")])
        await queue.reject(held, [(held.records[0], "bad")])
        assert await queue.list_dead() == []
        assert (await claim(queue)).records[0].period_kwh == "2"
