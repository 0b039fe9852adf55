"""The SQLite backend's books: dead letters, the ledger, the limiter's slots, and what the
state reads.

Run on the queue's single thread; each public method is one transaction (or one read).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import starmap

import msgspec

from uploader.queue.slots import SlotRow
from uploader.queue.sqlite.connection import Connection, Q
from uploader.queue.types import (
    AccountCounts,
    DeadLetter,
    DeadRow,
    LedgerRow,
    earliest,
    flag_counts,
)

__all__ = ["Books"]


class Books:
    """Dead letters, ledger rows and counts on an open `Connection`."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.db = conn.db

    # -- dead letters ----------------------------------------------------------------------

    def dead_letter_rows(self, rows: Sequence[DeadRow], now: float) -> None:
        """Keep refused input rows (the same row from the same source once)."""
        with self.conn.tx():
            params = [(r.account, r.reason, r.source, now, r.raw) for r in rows]
            self.db.executemany(Q["dead_raw"], params)

    def list_dead(self, account: str | None, limit: int, after_id: int) -> list[DeadLetter]:
        """A page of dead letters in id order."""
        rows = self.db.execute(Q["list_dead"], (after_id, account, account, limit)).fetchall()
        fields = DeadLetter.__struct_fields__
        return [
            msgspec.convert(dict(zip(fields, row, strict=True)), DeadLetter, strict=False)
            for row in rows
        ]

    def replay_dead(self, account: str | None) -> int:
        """Dead records pending again; raw rows stay."""
        with self.conn.tx():
            self.db.execute(Q["replay_reset_failures"], (account, account))
            self.db.execute(Q["replay_dead"], (account, account))
            replayed: int = self.db.execute(Q["replay_forget"], (account, account)).rowcount
        return replayed

    def purge_dead(self, before: float | None, now: float) -> int:
        """Forget dead letters, and the records behind them (unless pending again)."""
        with self.conn.tx():
            self.conn.reap(now)
            self.db.execute(Q["purge_records"], (before, before))
            purged: int = self.db.execute(Q["purge_dead"], (before, before)).rowcount
        return purged

    # -- reading the state -----------------------------------------------------------------

    def availability(self, account: str | None, now: float) -> dict[str, float]:
        """`now` for accounts with pending records, else when their first delay runs out."""
        with self.conn.tx():
            self.conn.reap(now)
        if account is None:
            ready: dict[str, float] = dict(self.db.execute(Q["next_released_all"]))
            ready.update((name, now) for (name,) in self.db.execute(Q["accounts_pending"]))
            return ready
        account_id = self.conn.account(account)
        if account_id is None:
            return {}
        if self.conn.one("has_pending", (account_id,)):
            return {account: now}
        released: float | None = self.conn.one("next_released", (account_id,))
        return {} if released is None else {account: released}

    def in_flight(self, now: float) -> int:
        """Records under unexpired leases."""
        count: int = self.conn.one("in_flight", (now,))
        return count

    def counts(self, now: float) -> tuple[dict[str, AccountCounts], int]:
        """Aggregates per account, and the dead letters of no account."""
        with self.conn.tx():
            self.conn.reap(now)
            per: dict[str, AccountCounts] = {}
            for account_id, name, sent in self.db.execute(Q["count_sent"]):
                self.conn.names[account_id] = name
                per[name] = AccountCounts(sent=sent)
            self._count_pending(per, now)
            unattributed = self._count_dead(per)
            for account_id, flags, count in self.db.execute(Q["count_flagged"]):
                flag_counts(flags, count, per[self.conn.names[account_id]].flagged)
        return per, unattributed

    def _count_pending(self, per: dict[str, AccountCounts], now: float) -> None:
        names = self.conn.names
        for account_id, count, oldest in self.db.execute(Q["count_pending"]):
            counts = per[names[account_id]]
            counts.pending += count
            counts.oldest_pending_at = earliest(counts.oldest_pending_at, oldest)
        for account_id, released, count, oldest in self.db.execute(Q["count_leases"], (now,)):
            counts = per[names[account_id]]
            if released:
                counts.pending += count
                counts.oldest_pending_at = earliest(counts.oldest_pending_at, oldest)
            else:
                counts.leased += count

    def _count_dead(self, per: dict[str, AccountCounts]) -> int:
        unattributed = 0
        for name, count in self.db.execute(Q["count_dead"]):
            if name is None:
                unattributed += count
            else:
                per.setdefault(name, AccountCounts()).dead += count
        return unattributed

    # -- the ledger ------------------------------------------------------------------------

    def ledger_awaiting(self, account: str, limit: int) -> list[LedgerRow]:
        """Batches whose processing status is not final yet, oldest first."""
        account_id = self.conn.account(account)
        if account_id is None:
            return []
        rows = self.db.execute(Q["ledger_awaiting"], (account_id, limit)).fetchall()
        return list(starmap(LedgerRow, rows))

    def set_ledger_status(self, batch_id: str, status: str, now: float) -> None:
        """Remember the status the registry reported."""
        with self.conn.tx():
            self.db.execute(Q["ledger_status"], (status, now, batch_id))

    def prune_ledger(self, older_than: float) -> int:
        """Delete ledger rows older than the retention."""
        with self.conn.tx():
            pruned: int = self.db.execute(Q["ledger_prune"], (older_than,)).rowcount
        return pruned

    # -- the limiter's slots ---------------------------------------------------------------

    def record_slots(self, rows: Sequence[tuple[str, str, str, float]], now: float) -> None:
        """Upsert the slots and forget those that stopped counting."""
        with self.conn.tx():
            self.db.executemany(Q["slots_put"], rows)
            self.db.execute(Q["slots_prune"], (now,))

    def recent_slots(self, owners: Sequence[str], now: float) -> list[SlotRow]:
        """The owners' slots that still count."""
        found: list[SlotRow] = []
        for owner in owners:
            found += starmap(SlotRow, self.db.execute(Q["slots_of"], (owner, now)))
        return found
