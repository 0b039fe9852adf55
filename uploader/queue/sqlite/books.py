"""The SQLite backend's books: dead letters, the ledger, the limiter's slots, and what the
state reads.

Run on the queue's single thread; each public method is one transaction (or one read).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import starmap
from typing import Any

import msgspec

from uploader.queue.slots import SlotRow
from uploader.queue.sqlite.connection import Connection, Q, decode_pairs, decode_records
from uploader.queue.types import (
    AccountCounts,
    DeadLetter,
    DeadRow,
    LedgerRow,
    RecordState,
    StoredRecord,
    earliest,
    flag_counts,
)

__all__ = ["Books"]

EVERY = "\U0010ffff"  # above every inverter id (SQLite compares their UTF-8 bytes)


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

    def availability(self, now: float) -> dict[str, float]:
        """`now` for accounts with pending records, else when their first delay runs out."""
        with self.conn.tx():
            self.conn.reap(now)
        ready: dict[str, float] = dict(self.db.execute(Q["next_released_all"]))
        ready.update((name, now) for (name,) in self.db.execute(Q["accounts_pending"]))
        return ready

    def drained(self, account: str) -> bool:
        """No record of the account pending, leased or held by a delay."""
        account_id = self.conn.account(account)
        return account_id is None or bool(self.conn.one("drained", (account_id,)))

    def known_days(self, account: str, remote_inv_id: str, year: int) -> dict[str, str]:
        """The latest period value of each stored day of one inverter-year, but the dead."""
        account_id = self.conn.account(account)
        if account_id is None:
            return {}
        params = (account_id, remote_inv_id, f"{year:04d}-01-01", f"{year:04d}-12-31")
        return dict(self.db.execute(Q["known_days"], params))

    def in_flight(self, now: float) -> int:
        """Records under unexpired leases."""
        count: int = self.conn.one("in_flight", (now,))
        return count

    def counts(self, now: float, orphaned: bool) -> tuple[dict[str, AccountCounts], int]:
        """Aggregates per account, and the dead letters of no account; `orphaned` claims (no
        live runner holds them) count as pending, as they will be when a runner starts."""
        with self.conn.tx():
            self.conn.reap(now)
            per: dict[str, AccountCounts] = {}
            for account_id, name, sent in self.db.execute(Q["count_sent"]):
                self.conn.names[account_id] = name
                per[name] = AccountCounts(sent=sent)
            self._count_pending(per, now, orphaned)
            unattributed = self._count_dead(per)
            for account_id, flags, count in self.db.execute(Q["count_flagged"]):
                flag_counts(flags, count, per[self.conn.names[account_id]].flagged)
        return per, unattributed

    def _count_pending(self, per: dict[str, AccountCounts], now: float, orphaned: bool) -> None:
        names = self.conn.names
        for account_id, count, oldest in self.db.execute(Q["count_pending"]):
            counts = per[names[account_id]]
            counts.pending += count
            counts.oldest_pending_at = earliest(counts.oldest_pending_at, oldest)
        leases = self.db.execute(Q["count_leases"], (now, orphaned))
        for account_id, kind, count, oldest, due in leases:
            counts = per[names[account_id]]
            if kind == "leased":
                counts.leased += count
                continue
            if kind == "delayed":  # a delayed release (reaped above once due)
                counts.delayed += count
                counts.next_due_at = earliest(counts.next_due_at, due)
            else:
                counts.pending += count
            counts.oldest_pending_at = earliest(counts.oldest_pending_at, oldest)

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

    def set_ledger_status(self, batch_id: str, status: str, now: float, confirms: bool) -> None:
        """Remember the status the registry reported (and what it confirms)."""
        with self.conn.tx():
            self.db.execute(Q["ledger_status"], (status, now, batch_id))
            blob = self.conn.one("ledger_items", (batch_id,)) if confirms else None
            if blob is not None:
                self.db.executemany(Q["confirm_record"], decode_pairs(blob))

    def prune_ledger(self, older_than: float) -> int:
        """Delete ledger rows older than the retention."""
        with self.conn.tx():
            pruned: int = self.db.execute(Q["ledger_prune"], (older_than,)).rowcount
        return pruned

    # -- delivery read back -----------------------------------------------------------------

    def records_between(
        self, account: str, span: tuple[str, str], inverter: str | None, cursor: str,
        limit: int, now: float,
    ) -> tuple[list[StoredRecord], str | None]:  # fmt: skip
        """A page of the account's records of a day range, with states; the next cursor."""
        with self.conn.tx():
            self.conn.reap(now)
            account_id = self.conn.account(account)
            if account_id is None:
                return [], None
            after_inverter, _, after_day = cursor.partition("\0")
            if inverter is not None:  # its rows only: from its first, up to itself
                after_inverter = after_inverter or inverter
            last_inverter = EVERY if inverter is None else inverter
            params = (account_id, *span, after_inverter, after_day, limit, last_inverter)
            rows = self.db.execute(Q["records_between"], params).fetchall()
            live, held = self._leased(account_id)
        page = [_stored(row, live, held) for row in rows]
        if len(rows) < limit:
            return page, None
        return page, f"{page[-1].remote_inv_id}\0{page[-1].day}"

    def _leased(self, account_id: int) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
        """(id, version) in the account's live claims, and in its delayed releases."""
        live: set[tuple[int, int]] = set()
        held: set[tuple[int, int]] = set()
        for released, blob in self.db.execute(Q["account_leases"], (account_id,)):
            (held if released else live).update((r.id, r.version) for r in decode_records(blob))
        return live, held

    def awaiting_items(self, account: str) -> list[tuple[int, int]]:
        """The records of the account's ledger rows awaiting a final status."""
        account_id = self.conn.account(account)
        if account_id is None:
            return []
        rows = self.db.execute(Q["ledger_awaiting_items"], (account_id,)).fetchall()
        return [pair for (blob,) in rows for pair in decode_pairs(blob)]

    def deadlines(self, today: int, cutoff: int) -> dict[str, tuple[int, int, int | None]]:
        """Pending records per account by claim deadline (see `Queue.deadlines`)."""
        rows = self.db.execute(Q["deadlines"], (today, cutoff)).fetchall()
        return {name: (closing, closed, soonest) for name, closing, closed, soonest in rows}

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


def _stored(
    row: tuple[Any, ...], live: set[tuple[int, int]], held: set[tuple[int, int]]
) -> StoredRecord:
    record_id, version, inverter, day, period, accumulated, pending, dead, confirmed = row
    ref = (record_id, version)
    state: RecordState
    if pending or ref in held:
        state = "pending"
    elif ref in live:
        state = "leased"
    elif dead:
        state = "dead"
    else:
        state = "confirmed" if confirmed else "sent"
    return StoredRecord(record_id, version, inverter, day, period, accumulated, state)
