"""An in-memory queue for tests and the Python API: the same contract, nothing durable.

It mirrors the SQLite backend's model with dicts (see `memory_state`), and favours
plainness over speed: a claim sorts the account's pending keys.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from uploader.errors import QueueError
from uploader.queue import base
from uploader.queue.base import Claim, EnqueueResult, LedgerEntry, LedgerRow, Queue, QueuedRecord
from uploader.queue.memory_books import MemoryBooks
from uploader.queue.memory_state import Item, Lease, LedgerItem, StoredRecord
from uploader.records import Record, canonical

__all__ = ["InMemoryQueue"]


class InMemoryQueue(MemoryBooks, Queue):
    """The queue in dicts; `clock` gives wall-clock seconds (injectable for tests)."""

    def __repr__(self) -> str:
        return f"<InMemoryQueue records={len(self._rows)} leases={len(self._leases)}>"

    async def enqueue(self, records: Sequence[Record]) -> EnqueueResult:
        """See `Queue.enqueue`."""
        changed = 0
        now = self._clock()
        for record in records:
            changed += self._upsert(record, now)
        return EnqueueResult(changed, len(records) - changed)

    def _upsert(self, r: Record, now: float) -> bool:
        day = r.day.isoformat()
        period, accumulated = canonical(r.period_kwh), canonical(r.accumulated_kwh)
        row = self._rows.get((r.account, r.remote_inv_id, day))
        if row is None:
            row = StoredRecord(
                self._new_id(),
                r.account,
                r.remote_inv_id,
                day,
                base.deadline_key(r.day),
                period,
                accumulated,
                r.flags,
                r.source,
                now,
            )
            self._rows[(r.account, r.remote_inv_id, day)] = row
            self._by_id[row.id] = row
        elif (row.period_kwh, row.accumulated_kwh) == (period, accumulated):
            return False
        else:
            row.period_kwh, row.accumulated_kwh = period, accumulated
            row.flags, row.source = r.flags, r.source
            row.version += 1
            row.failures = 0
            self._forget_dead_record(row.id)
        item = (row.id, row.version, 0, row.first_enqueued_at)
        self._pending[row.account][row.pending_key] = item
        return True

    async def claim(
        self, account: str, limit: int, lease_s: float, *, one_inverter: bool = False
    ) -> Claim | None:
        """See `Queue.claim`."""
        now = self._clock()
        self._reap(now)
        pending = self._pending[account]
        keys = sorted(pending)
        if one_inverter and keys:
            head = keys[0][:2]
            keys = [key for key in keys if key[:2] == head]
        keys = keys[:limit]
        if not keys:
            return None
        records = [self._claimed(pending.pop(key)) for key in keys]
        items = {r.id: (r.id, r.version, r.attempts, r.first_enqueued_at) for r in records}
        lease_id = self._new_id()
        self._leases[lease_id] = Lease(account, now + lease_s, False, items)
        return Claim(str(lease_id), account, records, now + lease_s)

    def _claimed(self, item: Item) -> QueuedRecord:
        rid, version, attempts, first = item
        row = self._by_id[rid]
        return QueuedRecord(
            rid,
            version,
            row.remote_inv_id,
            row.day,
            row.period_kwh,
            row.accumulated_kwh,
            attempts + 1,
            first,
        )

    async def ack(self, claim: Claim, records: Sequence[QueuedRecord], entry: LedgerEntry) -> None:
        """See `Queue.ack`."""
        if entry.batch_id in self._ledger:
            raise QueueError(f"batch {entry.batch_id} is already in the ledger")
        if self._take(claim, records) is None:
            self._unpend(claim.account, records)
        row = LedgerRow(
            entry.batch_id,
            claim.account,
            entry.records,
            entry.sent_at,
            entry.http_status,
            entry.process_id,
            entry.endpoint,
        )
        self._ledger[entry.batch_id] = LedgerItem(row, [(r.id, r.version) for r in records])
        self._sent[claim.account] += len(records)

    async def release(
        self, claim: Claim, records: Sequence[QueuedRecord], delay_s: float = 0.0
    ) -> None:
        """See `Queue.release`."""
        taken = self._take(claim, records)
        if not taken:
            return
        if delay_s > 0:
            items = {item[0]: item for item in taken}
            until = self._clock() + delay_s
            self._leases[self._new_id()] = Lease(claim.account, until, True, items)
        else:
            self._repend(taken)

    async def reject(self, claim: Claim, rejections: Sequence[tuple[QueuedRecord, str]]) -> None:
        """See `Queue.reject`."""
        records = [record for record, _ in rejections]
        if self._take(claim, records) is None:
            self._unpend(claim.account, records)
        now = self._clock()
        for record, reason in rejections:
            self._dead_record(claim.account, record.id, record.version, reason, now)

    async def extend(self, claim: Claim, lease_s: float) -> Claim:
        """See `Queue.extend`."""
        now = self._clock()
        lease = self._leases.get(int(claim.lease_id))
        if lease is None or lease.released or lease.until <= now:
            raise QueueError(f"lease {claim.lease_id} has expired")
        lease.until = now + lease_s
        return msgspec.structs.replace(claim, lease_until=lease.until)

    async def requeue_batch(self, batch_id: str) -> int:
        """See `Queue.requeue_batch`."""
        entry = self._ledger.get(batch_id)
        if entry is None or entry.requeued:
            return 0
        entry.requeued = True
        account, now = entry.row.account, self._clock()
        requeued = dead = 0
        for rid, version in entry.items:
            row = self._by_id.get(rid)
            if row is None or row.version != version:
                continue
            if row.failures:
                reason = f"{base.FAILED_TWICE} (batch {batch_id})"
                dead += self._dead_record(account, rid, version, reason, now)
            elif row.pending_key not in self._pending[account]:
                row.failures += 1
                self._repend([(rid, version, 0, row.first_enqueued_at)])
                requeued += 1
        self._sent[account] -= requeued + dead
        return requeued
