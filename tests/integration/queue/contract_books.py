"""The queue contract, second half: dead letters, counts, account leases and the ledger."""

from __future__ import annotations

import pytest

from tests.integration.queue.helpers import LEASE_S, START, FakeClock, claim, entry, rec
from uploader.errors import QueueError
from uploader.queue import DeadRow, LedgerEntry, Queue
from uploader.queue.base import FAILED_TWICE
from uploader.records import Flag


class BooksContract:
    """What the queue remembers and reports."""

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

    async def test_purge_keeps_a_record_that_is_pending_again(
        self, queue: Queue, clock: FakeClock
    ) -> None:
        """A stale claim's rejection, then purge: the record, pending again, is still claimed."""
        await queue.enqueue([rec()])
        stale = await claim(queue)
        clock.advance(LEASE_S + 1)
        await claim(queue)  # the same record, claimed anew
        await queue.reject(stale, [(stale.records[0], "late")])
        clock.advance(LEASE_S + 1)  # the new claim's lease runs out: pending again
        await queue.purge_dead()
        again = await claim(queue)
        assert [(r.remote_inv_id, r.day) for r in again.records] == [("INV1", "2024-05-01")]

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

    async def test_delayed_records_are_counted_apart_with_when_they_are_due(
        self, queue: Queue, clock: FakeClock
    ) -> None:
        """Records released with a delay count as delayed (not pending), per account and in
        total, with the time the first of them is due."""
        await queue.enqueue([rec(), rec("INV2"), rec("INV3"), rec("INV4", account="bolt")])
        acme, bolt = await claim(queue, limit=2), await claim(queue, "bolt")
        await queue.release(acme, acme.records[:1], delay_s=90)
        await queue.release(acme, acme.records[1:], delay_s=30)
        await queue.release(bolt, bolt.records, delay_s=60)
        counts = await queue.counts()
        got = {a: (c.pending, c.delayed, c.next_due_at) for a, c in counts.accounts.items()}
        assert got == {"acme": (1, 2, START + 30), "bolt": (0, 1, START + 60)}
        total = counts.total
        assert (total.pending, total.delayed, total.next_due_at) == (1, 3, START + 30)
        clock.advance(45)
        acme_now = (await queue.counts()).accounts["acme"]
        assert (acme_now.pending, acme_now.delayed, acme_now.next_due_at) == (2, 1, START + 90)

    async def test_due_in_reads_every_account_with_records_to_claim(
        self, queue: Queue, clock: FakeClock
    ) -> None:
        """One read says which accounts have records claimable now (0) or after a delay (its
        seconds); an account with nothing pending or delayed is left out."""
        assert await queue.due_in() == {}
        await queue.enqueue([rec(account="bolt"), rec(account="acme")])
        assert await queue.due_in() == {"acme": 0.0, "bolt": 0.0}
        await claim(queue, "acme")
        assert await queue.due_in() == {"bolt": 0.0}
        held = await claim(queue, "bolt")
        await queue.release(held, held.records, delay_s=9)
        assert await queue.due_in() == {"bolt": 9.0}  # bolt's delay is not acme's
        clock.advance(4)
        assert await queue.due_in() == {"bolt": 5.0}
        clock.advance(5)
        assert await queue.due_in() == {"bolt": 0.0}

    async def test_drained_means_nothing_pending_leased_or_delayed(
        self, queue: Queue, clock: FakeClock
    ) -> None:
        """An account is drained only when none of its records is pending, leased or delayed."""
        assert await queue.drained("acme")
        await queue.enqueue([rec(), rec("INV2"), rec(account="bolt")])
        assert not await queue.drained("acme")
        held = await claim(queue)
        assert not await queue.drained("acme")  # leased: a lease that runs out makes them pending
        await queue.release(held, held.records, delay_s=9)
        assert not await queue.drained("acme")
        clock.advance(9)
        again = await claim(queue)
        await queue.ack(again, again.records[:1], entry("b1", again))
        assert not await queue.drained("acme")
        await queue.reject(again, [(again.records[1], "422: no")])
        assert await queue.drained("acme")  # a dead letter waits for a person, not for a drain
        assert not await queue.drained("bolt")

    # -- account leases -------------------------------------------------------------------

    async def test_account_leases_are_held_while_serving(self, queue: Queue) -> None:
        """Every backend hands out leases for its accounts; a lone process holds them all."""
        async with queue.account_leases(["acme", "bolt"]) as leases:
            assert leases.holder
            assert leases.accounts == ("acme", "bolt")
            assert leases.held() == {"acme", "bolt"}
            assert leases.handing_off() == frozenset()
            assert leases.provable("acme")
            assert not leases.provable("cera")
            assert leases.backend.ready
            assert repr(leases).endswith("accounts=2 held=2>")

    # -- the ledger ---------------------------------------------------------------------

    async def test_a_batch_id_is_acked_once(self, queue: Queue) -> None:
        """A second ack under a batch id already in the ledger is refused and changes nothing."""
        await queue.enqueue([rec(), rec("INV2")])
        first, second = await claim(queue, limit=1), await claim(queue, limit=1)
        await queue.ack(first, first.records, entry("b1", first))
        with pytest.raises(QueueError):
            await queue.ack(second, second.records, entry("b1", second))
        counts = (await queue.counts()).accounts["acme"]
        assert (counts.sent, counts.leased) == (1, 1)

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
        """Failed processing re-queues a batch's records; a second failure dead-letters them, and
        requeue_batch says how many went each way."""
        await queue.enqueue([rec(), rec("INV2")])
        held = await claim(queue)
        await queue.ack(held, held.records, entry("b1", held, process_id=1))
        assert await queue.requeue_batch("b1") == (2, 0)
        assert await queue.requeue_batch("b1") == (0, 0)  # the same report twice: nothing
        assert (await queue.counts()).accounts["acme"].sent == 0
        again = await claim(queue)
        await queue.ack(again, again.records, entry("b2", again, process_id=2))
        assert await queue.requeue_batch("b2") == (0, 2)  # both dead: failed twice
        dead = await queue.list_dead()
        assert [(d.remote_inv_id, d.reason) for d in dead] == [
            ("INV1", f"{FAILED_TWICE} (batch b2)"),
            ("INV2", f"{FAILED_TWICE} (batch b2)"),
        ]
        assert await queue.replay_dead() == 2
        third = await claim(queue)
        await queue.ack(third, third.records, entry("b3", third, process_id=3))
        assert await queue.requeue_batch("b3") == (2, 0)  # a replay forgives the failures

    async def test_a_failed_batch_leaves_corrected_records_alone(self, queue: Queue) -> None:
        """A record corrected after its batch was sent is not re-queued with the old value."""
        await queue.enqueue([rec(period="1")])
        held = await claim(queue)
        await queue.ack(held, held.records, entry("b1", held, process_id=1))
        await queue.enqueue([rec(period="2")])
        assert await queue.requeue_batch("b1") == (0, 0)
        assert (await claim(queue)).records[0].period_kwh == "2"
        assert await queue.requeue_batch("unknown") == (0, 0)
