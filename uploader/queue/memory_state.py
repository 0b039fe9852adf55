"""The in-memory backend's state and the plumbing its operations share.

Dicts mirror the SQLite backend's model: records by key, a pending set per account in claim
order, leases that list their records, a ledger and dead letters.
"""

from __future__ import annotations

import dataclasses
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence

from uploader.queue import base
from uploader.queue.base import Claim, DeadLetter, LedgerRow, QueuedRecord

Item = tuple[int, int, int, float]  # id, version, attempts, first_enqueued_at
PendingKey = tuple[int, str, str]  # deadline, remote_inv_id, day


@dataclasses.dataclass(slots=True)
class StoredRecord:
    """A record as the queue keeps it."""

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
        """Its key in the claim order."""
        return (self.deadline, self.remote_inv_id, self.day)


@dataclasses.dataclass(slots=True)
class Lease:
    """A claim's records (or a delayed release's) until `until`."""

    account: str
    until: float
    released: bool
    items: dict[int, Item]


@dataclasses.dataclass(slots=True)
class LedgerItem:
    """A ledger row and the records its batch carried."""

    row: LedgerRow
    items: list[tuple[int, int]]
    requeued: bool = False


class MemoryState:
    """What an in-memory queue holds, and the helpers its operations share."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._rows: dict[tuple[str, str, str], StoredRecord] = {}
        self._by_id: dict[int, StoredRecord] = {}
        self._pending: defaultdict[str, dict[PendingKey, Item]] = defaultdict(dict)
        self._leases: dict[int, Lease] = {}
        self._ledger: dict[str, LedgerItem] = {}
        self._dead: dict[int, DeadLetter] = {}
        self._dead_refs: dict[int, tuple[int, int]] = {}  # dead letter -> record id, version
        self._sent: defaultdict[str, int] = defaultdict(int)
        self._next_id = 0

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _forget_dead_record(self, record_id: int) -> None:
        for dead_id, (rid, _) in list(self._dead_refs.items()):
            if rid == record_id:
                del self._dead[dead_id], self._dead_refs[dead_id]

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
