"""The queue contract: what every backend must do, written once.

`QueueContract` is a class of tests over a `queue` fixture (an open, empty queue of one
backend) and a `clock` fixture (the `FakeClock` that queue reads). A backend joins by being
one more parameter of the `queue` fixture in this directory's conftest.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from uploader.errors import QueueError
from uploader.queue import Claim, DeadRow, EnqueueResult, LedgerEntry, Queue, QueuedRecord
from uploader.queue.base import FAILED_TWICE
from uploader.records import Flag, Record

START = 1_750_000_000.0  # the fake clock's first reading, wall-clock seconds
LEASE_S = 60.0


class FakeClock:
    """Wall-clock seconds that move only when a test says so (no sleeping for leases)."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Let `seconds` pass."""
        self.now += seconds


def rec(
    inv: str = "INV1",
    day: str = "2024-05-01",
    period: str = "1.5",
    acc: str = "100",
    account: str = "acme",
    flags: int = 0,
) -> Record:
    """A record; the source names the inverter and day, so tests can recognise it."""
    return Record(
        account=account,
        remote_inv_id=inv,
        day=dt.date.fromisoformat(day),
        period_kwh=Decimal(period),
        accumulated_kwh=Decimal(acc),
        flags=flags,
        source=f"{inv}.csv:{day}",
    )


def entry(batch_id: str, claim: Claim, process_id: int | None = None) -> LedgerEntry:
    """The ledger entry of a delivered claim."""
    n = len(claim.records)
    return LedgerEntry(batch_id, claim.account, n, START, 200, process_id, "batch")


def keys(records: list[QueuedRecord]) -> list[tuple[str, str]]:
    """(inverter, day) of each record, in order."""
    return [(r.remote_inv_id, r.day) for r in records]


async def claim(queue: Queue, account: str = "acme", limit: int = 3000, **kw: bool) -> Claim:
    """A claim that must exist."""
    found = await queue.claim(account, limit, LEASE_S, **kw)
    assert found is not None
    return found


class QueueContract:
    """Every backend passes these."""

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
        """release(delay_s) makes records pending but not claimable before the delay."""
        await queue.enqueue([rec()])
        held = await claim(queue)
        await queue.release(held, held.records, delay_s=30)
        assert await queue.claim("acme", 10, LEASE_S) is None
        assert await queue.next_available_at("acme") == START + 30
        assert await queue.accounts_pending() == []
        counts = (await queue.counts()).accounts["acme"]
        assert (counts.pending, counts.leased) == (1, 0)
        clock.advance(30)
        assert await queue.accounts_pending() == ["acme"]
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

    # -- dead letters of ingest ---------------------------------------------------------

    async def test_raw_rows_are_kept_once_and_cannot_be_replayed(self, queue: Queue) -> None:
        """Ingest rejections are listed; the same row from the same source is kept once."""
        rows = [DeadRow(raw="x,y", source="f.csv:3", reason="no", account="acme"),
                DeadRow(raw="?", source="f.csv:4", reason="no")]  # fmt: skip
        await queue.dead_letter_rows(rows)
        await queue.dead_letter_rows(rows)
        listed = await queue.list_dead()
        assert [(d.raw, d.source, d.replayable) for d in listed] == [
            ("x,y", "f.csv:3", False),
            ("?", "f.csv:4", False),
        ]
        assert await queue.replay_dead() == 0
        assert len(await queue.list_dead()) == 2
        counts = await queue.counts()
        assert (counts.accounts["acme"].dead, counts.unattributed_dead, counts.total.dead) == (
            1,
            1,
            2,
        )

    async def test_list_dead_pages_and_filters_by_account(self, queue: Queue) -> None:
        """Dead letters come in id order, after a given id, of one account if asked."""
        await queue.dead_letter_rows(
            [
                DeadRow(raw=str(n), source=f"f:{n}", reason="r", account="ab"[n % 2])
                for n in range(5)
            ]
        )
        page = await queue.list_dead(limit=2)
        rest = await queue.list_dead(after_id=page[-1].id)
        assert [d.raw for d in page + rest] == ["0", "1", "2", "3", "4"]
        assert [d.raw for d in await queue.list_dead(account="b")] == ["1", "3"]

    async def test_purge_forgets_dead_letters_before_a_time(
        self, queue: Queue, clock: FakeClock
    ) -> None:
        """purge(before) drops the older dead letters; a purged record can be queued anew."""
        await queue.enqueue([rec()])
        held = await claim(queue)
        await queue.reject(held, [(held.records[0], "bad")])
        clock.advance(100)
        await queue.dead_letter_rows([DeadRow(raw="r", source="f:1", reason="no")])
        assert await queue.purge_dead(before=START + 50) == 1
        assert [d.raw for d in await queue.list_dead()] == ["r"]
        assert (await queue.enqueue([rec()])).changed == 1
        assert await queue.purge_dead() == 1
        assert await queue.list_dead() == []

    # -- reading the state --------------------------------------------------------------

    async def test_counts_per_account_and_in_total(self, queue: Queue, clock: FakeClock) -> None:
        """counts() reports pending, leased, sent, dead, flags and the oldest pending time."""
        await queue.enqueue([rec(flags=Flag.BEFORE_CLAIMABLE), rec("INV2", account="bolt")])
        clock.advance(10)
        falls = Flag.ACCUMULATED_FALLS | Flag.BEFORE_CLAIMABLE
        await queue.enqueue([rec("INV3", flags=falls), rec("INV4"), rec("INV5")])
        held = await claim(queue, limit=2)
        await queue.ack(held, held.records[:1], entry("b1", held))
        counts = await queue.counts()
        acme = counts.accounts["acme"]
        assert (acme.pending, acme.leased, acme.sent, acme.dead) == (2, 1, 1, 0)
        assert (acme.flagged.before_claimable, acme.flagged.accumulated_falls) == (2, 1)
        assert acme.oldest_pending_at == START + 10  # INV1 (the oldest) is claimed
        assert counts.accounts["bolt"].oldest_pending_at == START
        assert (counts.total.pending, counts.total.oldest_pending_at) == (3, START)

    async def test_accounts_pending_and_next_available_at(self, queue: Queue) -> None:
        """Accounts with claimable records are listed; an idle account has no next time."""
        assert await queue.accounts_pending() == []
        assert await queue.next_available_at("acme") is None
        await queue.enqueue([rec(account="bolt"), rec(account="acme")])
        assert await queue.accounts_pending() == ["acme", "bolt"]
        assert await queue.next_available_at("acme") == START
        await claim(queue, "acme")
        assert await queue.accounts_pending() == ["bolt"]
        assert await queue.next_available_at("acme") is None
        held = await claim(queue, "bolt")
        await queue.release(held, held.records, delay_s=9)
        assert await queue.next_available_at("bolt") == START + 9
        assert await queue.next_available_at("acme") is None  # bolt's delay is not acme's

    # -- the ledger ---------------------------------------------------------------------

    async def test_ledger_status_and_pruning(self, queue: Queue, clock: FakeClock) -> None:
        """Batches await a final status; set_ledger_status ends that; pruning drops old rows."""
        await queue.enqueue([rec(day="2024-05-01"), rec(day="2024-05-02")])
        held = await claim(queue)
        await queue.ack(held, held.records[:1], entry("b1", held, process_id=1))
        clock.advance(10)
        later = LedgerEntry("b2", "acme", 1, START + 10, 200, 2, "batch")
        await queue.ack(held, held.records[1:], later)
        await queue.set_ledger_status("b2", "Processing")
        assert [r.batch_id for r in await queue.ledger_awaiting_status("acme", 10)] == ["b1", "b2"]
        await queue.set_ledger_status("b1", "Success")
        assert [r.batch_id for r in await queue.ledger_awaiting_status("acme", 10)] == ["b2"]
        assert await queue.prune_ledger(START + 5) == 1
        assert await queue.prune_ledger(START + 5) == 0
        assert [r.status for r in await queue.ledger_awaiting_status("acme", 10)] == ["Processing"]

    async def test_a_failed_batch_is_requeued_once_then_dead(self, queue: Queue) -> None:
        """Failed processing re-queues a batch's records; a second failure dead-letters them."""
        await queue.enqueue([rec(), rec("INV2")])
        held = await claim(queue)
        await queue.ack(held, held.records, entry("b1", held, process_id=1))
        assert await queue.requeue_batch("b1") == 2
        assert await queue.requeue_batch("b1") == 0  # the same report twice changes nothing
        assert (await queue.counts()).accounts["acme"].sent == 0
        again = await claim(queue)
        await queue.ack(again, again.records, entry("b2", again, process_id=2))
        assert await queue.requeue_batch("b2") == 0
        dead = await queue.list_dead()
        assert [(d.remote_inv_id, d.reason) for d in dead] == [
            ("INV1", f"{FAILED_TWICE} (batch b2)"),
            ("INV2", f"{FAILED_TWICE} (batch b2)"),
        ]
        assert await queue.replay_dead() == 2
        third = await claim(queue)
        await queue.ack(third, third.records, entry("b3", third, process_id=3))
        assert await queue.requeue_batch("b3") == 2  # a replay forgives the failures

    async def test_a_failed_batch_leaves_corrected_records_alone(self, queue: Queue) -> None:
        """A record corrected after its batch was sent is not re-queued with the old value."""
        await queue.enqueue([rec(period="1")])
        held = await claim(queue)
        await queue.ack(held, held.records, entry("b1", held, process_id=1))
        await queue.enqueue([rec(period="2")])
        assert await queue.requeue_batch("b1") == 0
        assert (await claim(queue)).records[0].period_kwh == "2"
        assert await queue.requeue_batch("unknown") == 0
