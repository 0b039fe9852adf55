"""An in-memory queue for tests and the Python API: the same contract, nothing durable.

It mirrors the SQLite backend's model (records, a pending set in claim order, leases that
list their records, a ledger and dead letters) with dicts, and favours plainness over speed:
a claim sorts the account's pending keys.
"""

from __future__ import annotations

import dataclasses
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence

import msgspec

from uploader.errors import QueueError
from uploader.queue import base
from uploader.queue.base import (
    AccountCounts,
    Claim,
    DeadLetter,
    DeadRow,
    EnqueueResult,
    LedgerEntry,
    LedgerRow,
    Queue,
    QueueCounts,
    QueuedRecord,
)
from uploader.records import Record, canonical

__all__ = ["InMemoryQueue"]

Item = tuple[int, int, int, float]  # id, version, attempts, first_enqueued_at
PendingKey = tuple[int, str, str]  # deadline, remote_inv_id, day


@dataclasses.dataclass(slots=True)
class _Row:
    id: int
    account: str
    remote_inv_id: str
    day: str
    deadline: int
    period_kwh: str
    accumulated_kwh: str
    flags: int
    source: str | None
    first_enqueued_at: float
    version: int = 1
    failures: int = 0

    @property
    def pending_key(self) -> PendingKey:
        return (self.deadline, self.remote_inv_id, self.day)


@dataclasses.dataclass(slots=True)
class _Lease:
    account: str
    until: float
    released: bool
    items: dict[int, Item]


@dataclasses.dataclass(slots=True)
class _Ledger:
    row: LedgerRow
    items: list[tuple[int, int]]
    requeued: bool = False


class InMemoryQueue(Queue):
    """The queue in dicts; `clock` gives wall-clock seconds (injectable for tests)."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._rows: dict[tuple[str, str, str], _Row] = {}
        self._by_id: dict[int, _Row] = {}
        self._pending: defaultdict[str, dict[PendingKey, Item]] = defaultdict(dict)
        self._leases: dict[int, _Lease] = {}
        self._ledger: dict[str, _Ledger] = {}
        self._dead: dict[int, DeadLetter] = {}
        self._dead_refs: dict[int, tuple[int, int]] = {}  # dead letter -> record id, version
        self._sent: defaultdict[str, int] = defaultdict(int)
        self._next_id = 0

    def __repr__(self) -> str:
        return f"<InMemoryQueue records={len(self._rows)} leases={len(self._leases)}>"

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    # -- enqueue ---------------------------------------------------------------------------

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
            row = _Row(
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

    def _forget_dead_record(self, record_id: int) -> None:
        for dead_id, (rid, _) in list(self._dead_refs.items()):
            if rid == record_id:
                del self._dead[dead_id], self._dead_refs[dead_id]

    # -- claims and leases -----------------------------------------------------------------

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
        self._leases[lease_id] = _Lease(account, now + lease_s, False, items)
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

    def _reap(self, now: float) -> None:
        for lease_id, lease in list(self._leases.items()):
            if lease.until <= now:  # a lease (or a delay) ends at its `until`
                del self._leases[lease_id]
                self._repend(lease.items.values())

    def _repend(self, items: Iterable[Item]) -> None:
        for rid, version, attempts, first in items:
            row = self._by_id.get(rid)
            if row is not None and row.version == version:
                self._pending[row.account].setdefault(
                    row.pending_key, (rid, version, attempts, first)
                )

    def _take(self, claim: Claim, records: Sequence[QueuedRecord]) -> list[Item] | None:
        lease = self._leases.get(int(claim.lease_id))
        if lease is None:
            return None
        taken = [lease.items.pop(r.id) for r in records if r.id in lease.items]
        if not lease.items:
            del self._leases[int(claim.lease_id)]
        return taken

    def _unpend(self, account: str, records: Sequence[QueuedRecord]) -> None:
        pending = self._pending[account]
        for r in records:
            key = (base.deadline_of_text(r.day), r.remote_inv_id, r.day)
            if key in pending and pending[key][1] == r.version:
                del pending[key]

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
        self._ledger[entry.batch_id] = _Ledger(row, [(r.id, r.version) for r in records])
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
            self._leases[self._new_id()] = _Lease(claim.account, until, True, items)
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

    def _dead_record(self, account: str, rid: int, version: int, reason: str, now: float) -> bool:
        row = self._by_id.get(rid)
        if row is None or row.version != version:
            return False
        self._forget_dead_record(rid)
        dead = DeadLetter(
            id=self._new_id(),
            account=account,
            reason=reason,
            source=row.source,
            at=now,
            replayable=True,
            remote_inv_id=row.remote_inv_id,
            day=row.day,
            period_kwh=row.period_kwh,
            accumulated_kwh=row.accumulated_kwh,
        )
        self._dead[dead.id] = dead
        self._dead_refs[dead.id] = (rid, version)
        return True

    async def extend(self, claim: Claim, lease_s: float) -> Claim:
        """See `Queue.extend`."""
        now = self._clock()
        lease = self._leases.get(int(claim.lease_id))
        if lease is None or lease.released or lease.until <= now:
            raise QueueError(f"lease {claim.lease_id} has expired")
        lease.until = now + lease_s
        return msgspec.structs.replace(claim, lease_until=lease.until)

    # -- dead letters ----------------------------------------------------------------------

    async def dead_letter_rows(self, rows: Sequence[DeadRow]) -> None:
        """See `Queue.dead_letter_rows`."""
        seen = {(d.source, d.raw) for d in self._dead.values() if not d.replayable}
        now = self._clock()
        for r in rows:
            if (r.source, r.raw) not in seen:
                seen.add((r.source, r.raw))
                dead = DeadLetter(
                    id=self._new_id(),
                    account=r.account,
                    reason=r.reason,
                    source=r.source,
                    at=now,
                    replayable=False,
                    raw=r.raw,
                )
                self._dead[dead.id] = dead

    async def list_dead(
        self, *, account: str | None = None, limit: int = 100, after_id: int = 0
    ) -> list[DeadLetter]:
        """See `Queue.list_dead`."""
        ids = sorted(i for i, d in self._dead.items() if i > after_id and _of(d, account))
        return [self._dead[i] for i in ids[:limit]]

    async def replay_dead(self, *, account: str | None = None) -> int:
        """See `Queue.replay_dead`."""
        replayed = 0
        for dead_id, (rid, version) in list(self._dead_refs.items()):
            if not _of(self._dead[dead_id], account):
                continue
            del self._dead[dead_id], self._dead_refs[dead_id]
            replayed += 1
            row = self._by_id[rid]
            row.failures = 0
            self._repend([(rid, version, 0, row.first_enqueued_at)])
        return replayed

    async def purge_dead(self, *, before: float | None = None) -> int:
        """See `Queue.purge_dead`."""
        purged = [i for i, d in self._dead.items() if before is None or d.at < before]
        for dead_id in purged:
            del self._dead[dead_id]
            ref = self._dead_refs.pop(dead_id, None)
            if ref is not None:
                row = self._by_id.pop(ref[0])
                del self._rows[(row.account, row.remote_inv_id, row.day)]
        return len(purged)

    # -- reading the state -----------------------------------------------------------------

    async def accounts_pending(self) -> list[str]:
        """See `Queue.accounts_pending`."""
        self._reap(self._clock())
        return sorted(account for account, pending in self._pending.items() if pending)

    async def next_available_at(self, account: str) -> float | None:
        """See `Queue.next_available_at`."""
        now = self._clock()
        self._reap(now)
        if self._pending[account]:
            return now
        leases = self._leases.values()
        delays = [x.until for x in leases if x.released and x.account == account]
        return min(delays, default=None)

    async def in_flight(self) -> int:
        """See `Queue.in_flight`."""
        now = self._clock()
        live = (lease for lease in self._leases.values() if not lease.released)
        return sum(len(lease.items) for lease in live if lease.until > now)

    async def counts(self) -> QueueCounts:
        """See `Queue.counts`."""
        self._reap(self._clock())
        per: defaultdict[str, AccountCounts] = defaultdict(AccountCounts)
        for account, sent in self._sent.items():
            per[account].sent = sent
        for account, pending in self._pending.items():
            self._add_pending(per, account, [item[3] for item in pending.values()])
        for lease in self._leases.values():
            if lease.released:
                self._add_pending(per, lease.account, [i[3] for i in lease.items.values()])
            else:
                per[lease.account].leased += len(lease.items)
        for row in self._rows.values():
            base.flag_counts(row.flags, 1, per[row.account].flagged)
        unattributed = 0
        for dead in self._dead.values():
            if dead.account is None:
                unattributed += 1
            else:
                per[dead.account].dead += 1
        return QueueCounts.build(dict(per), unattributed)

    @staticmethod
    def _add_pending(per: dict[str, AccountCounts], account: str, firsts: list[float]) -> None:
        if firsts:
            counts = per[account]
            counts.pending += len(firsts)
            counts.oldest_pending_at = base.earliest(counts.oldest_pending_at, min(firsts))

    # -- the ledger ------------------------------------------------------------------------

    async def ledger_awaiting_status(self, account: str, limit: int) -> list[LedgerRow]:
        """See `Queue.ledger_awaiting_status`."""
        rows = [
            e.row
            for e in self._ledger.values()
            if e.row.account == account
            and e.row.process_id is not None
            and e.row.status in (None, "New", "Processing")
        ]
        return sorted(rows, key=lambda row: row.sent_at)[:limit]

    async def set_ledger_status(self, batch_id: str, status: str) -> None:
        """See `Queue.set_ledger_status`."""
        entry = self._ledger.get(batch_id)
        if entry is not None:
            entry.row = msgspec.structs.replace(entry.row, status=status, status_at=self._clock())

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

    async def prune_ledger(self, older_than: float) -> int:
        """See `Queue.prune_ledger`."""
        old = [k for k, e in self._ledger.items() if e.row.sent_at < older_than]
        for batch_id in old:
            del self._ledger[batch_id]
        return len(old)


def _of(dead: DeadLetter, account: str | None) -> bool:
    return account is None or dead.account == account
