"""The in-memory backend's bookkeeping: dead letters, the ledger, and the counts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import msgspec

from uploader.queue import base
from uploader.queue.base import AccountCounts, DeadLetter, DeadRow, LedgerRow, QueueCounts
from uploader.queue.memory_state import MemoryState


class MemoryBooks(MemoryState):
    """Dead letters, ledger rows and counts kept in dicts."""

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
        self._reap(self._clock())
        purged = [i for i, d in self._dead.items() if before is None or d.at < before]
        for dead_id in purged:
            del self._dead[dead_id]
            ref = self._dead_refs.pop(dead_id, None)
            row = None if ref is None else self._by_id.get(ref[0])
            # A record pending again (a stale claim's rejection raced a new claim) stays queued.
            if row is not None and row.pending_key not in self._pending[row.account]:
                del self._by_id[row.id], self._rows[(row.account, row.remote_inv_id, row.day)]
        return len(purged)

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

    async def prune_ledger(self, older_than: float) -> int:
        """See `Queue.prune_ledger`."""
        old = [k for k, e in self._ledger.items() if e.row.sent_at < older_than]
        for batch_id in old:
            del self._ledger[batch_id]
        return len(old)


def _of(dead: DeadLetter, account: str | None) -> bool:
    return account is None or dead.account == account
