"""The SQLite backend's record flow: records in, leased out, their leases changed, requeued.

Run on the queue's single thread; each public method is one transaction. The rules (what
counts, the reasons, the thresholds) arrive as parameters from `uploader.queue.base`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import msgspec

from uploader.queue.base import claim_key
from uploader.queue.sqlite.connection import (
    UPSERT_WIDTH,
    Connection,
    Q,
    decode_pairs,
    decode_records,
    upsert_sql,
)
from uploader.queue.types import (
    Claim,
    Delivered,
    EnqueueRow,
    Extended,
    LeaseChange,
    LedgerEntry,
    QueuedRecord,
    Refused,
    Requeued,
    Returned,
    Scope,
)

__all__ = ["Records"]

ROWS_PER_STATEMENT = 200  # rows of one multi-row upsert (SQLite allows 32766 parameters)

encode_pairs = msgspec.msgpack.Encoder().encode

LAST_DAY = "9999-12-31"  # a bound no day passes
Taken = tuple[str, list[QueuedRecord]]  # claimed records as one JSON text, and decoded


class Records:
    """Enqueue, claim, lease changes and requeues on an open `Connection`."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.db = conn.db

    def enqueue(self, rows: Iterable[EnqueueRow], now: float) -> int:
        """Upsert; new rows reach `pending` in one statement, changed ones by trigger.

        Rows go `ROWS_PER_STATEMENT` to a statement: per-row statements (executemany) cost
        a third more CPU, and hold the GIL between every two rows.
        """
        with self.conn.tx():
            flat = self._params(rows, now)
            before = self.conn.one("max_record_id")
            changed = 0
            step = ROWS_PER_STATEMENT * UPSERT_WIDTH
            for start in range(0, len(flat), step):
                part = flat[start : start + step]
                changed += self.db.execute(upsert_sql(len(part) // UPSERT_WIDTH), part).rowcount
            if changed:
                self.db.execute(Q["pend_new"], (before,))
        return changed

    def _params(self, rows: Iterable[EnqueueRow], now: float) -> list[Any]:
        """The upsert's parameters of every row, flat, in the statement's column order."""
        ids, account_id = self.conn.ids, self.conn.account
        flat: list[Any] = []
        extend = flat.extend
        for account, inverter, day, period, accumulated, flags, source, deadline in rows:
            extend((ids.get(account) or account_id(account, create=True), inverter, day, period,
                    accumulated, flags, source, deadline, now))  # fmt: skip
        return flat

    def claim(
        self, account: str, limit: int, scope: Scope, now: float, until: float, runner: bool
    ) -> tuple[str, list[QueuedRecord]] | None:
        """Lease the first `limit` pending records of the account in claim order (with
        `scope.one_inverter`, the first inverter's records of every deadline in date order, of
        its first year only with `scope.one_year`).

        SQLite joins the rows' `claimed` JSON into one text (off the GIL), msgspec decodes it
        in one call, and the same text becomes the lease's record list.
        """
        with self.conn.tx():
            self.conn.reap(now)
            account_id = self.conn.account(account)
            if account_id is None:
                return None
            if scope.one_inverter:
                found = self._take_inverter(account_id, limit, scope.one_year)
            else:
                found = self._take_run(account_id, limit)
            if found is None:
                return None
            text, records = found
            lease_id = self.conn.add_lease(account_id, until, records, False, text, runner)
        return str(lease_id), records

    def _take_run(self, account_id: int, limit: int) -> Taken | None:
        """The first `limit` pending records, out of pending: one range read, one range delete."""
        text: str | None = self.conn.one("claim", (account_id, limit))
        if text is None:
            return None
        records = decode_records(text)
        self.db.execute(Q["delete_claimed"], (account_id, *claim_key(records[-1])))
        return text, records

    def _take_inverter(self, account_id: int, limit: int, one_year: bool) -> Taken | None:
        """The head inverter's first `limit` pending records (of the head's year only, with
        `one_year`), out of pending, in date order.

        A day's deadline never falls before an earlier day's, so deadline by deadline is date
        order; each deadline's part is one range of the pending key.
        """
        head = self.db.execute(Q["claim_head"], (account_id,)).fetchone()
        if head is None:
            return None
        deadline, inverter, day = head
        last = f"{day[:4]}-12-31" if one_year else LAST_DAY
        parts: list[str] = []
        while deadline is not None and limit > 0:
            params = (account_id, deadline, inverter)
            row = self.db.execute(Q["claim_inverter"], (*params, last, limit)).fetchone()
            text, taken, last_day = row
            if taken:
                parts.append(text)
                limit -= taken
                self.db.execute(Q["delete_inverter"], (*params, last_day))
            deadline = self.conn.one("next_deadline", (account_id, deadline))
        text = "[" + ",".join(parts) + "]"
        return text, decode_records(text)

    # -- lease changes ---------------------------------------------------------------------

    def change_lease(
        self, claim: Claim, records: Sequence[QueuedRecord], change: LeaseChange
    ) -> bool:
        """Extend the lease, or take records out of it; whether it was live."""
        with self.conn.tx():
            match change:
                case Extended(now, until):
                    params = (until, int(claim.lease_id), now)
                    return bool(self.db.execute(Q["lease_extend"], params).rowcount)
                case Delivered(entry):
                    return self._deliver(claim, records, entry)
                case Returned(until):
                    return self._return(claim, records, until)
                case Refused(reasons, at):
                    return self._refuse(claim, records, reasons, at)

    def _deliver(self, claim: Claim, records: Sequence[QueuedRecord], entry: LedgerEntry) -> bool:
        """End the records' lease, write the ledger row, count the delivery."""
        account_id = self.conn.account_of(claim)
        whole = (int(claim.lease_id), len(records))
        live = bool(self.db.execute(Q["lease_delete_whole"], whole).rowcount)
        if not live:
            live = self._settle(claim, account_id, records)
        pairs = encode_pairs([(r.id, r.version) for r in records])
        params = (entry.batch_id, account_id, entry.records, entry.sent_at, entry.http_status,
                  entry.process_id, entry.endpoint, pairs)  # fmt: skip
        self.db.execute(Q["ledger_add"], params)
        self.db.execute(Q["sent_add"], (len(records), account_id))
        return live

    def _return(self, claim: Claim, records: Sequence[QueuedRecord], until: float | None) -> bool:
        """Back to pending now, or held in a released lease until the delay has passed."""
        account_id = self.conn.account_of(claim)
        taken = self.conn.take(claim, records)
        if taken and until is not None:
            self.conn.add_lease(account_id, until, taken, released=True)
        elif taken:
            self.conn.repend(taken)
        return taken is not None

    def _refuse(
        self, claim: Claim, records: Sequence[QueuedRecord], reasons: list[str], at: float
    ) -> bool:
        """Dead letters with the reasons, where the value is still the one rejected."""
        live = self._settle(claim, self.conn.account_of(claim), records)
        params = [
            (claim.account, reason, at, r.id, r.version)
            for r, reason in zip(records, reasons, strict=True)
        ]
        self.db.executemany(Q["dead_record"], params)
        return live

    def _settle(self, claim: Claim, account_id: int, records: Sequence[QueuedRecord]) -> bool:
        """Settled records leave their lease; after it expired, the same values leave pending."""
        if self.conn.take(claim, records) is not None:
            return True
        self.conn.unpend(account_id, records)
        return False

    def free_claims(self) -> int:
        """The records of every runner's claim pending again, one attempt further (a runner
        starts: they are a dead one's); delayed releases keep their delay. How many."""
        freed = 0
        with self.conn.tx():
            for lease_id, blob in self.db.execute(Q["leases_of_runners"]).fetchall():
                records = decode_records(blob)
                self.conn.repend(records)
                self.db.execute(Q["lease_delete"], (lease_id,))
                freed += len(records)
        return freed

    def requeue_batch(self, batch_id: str, now: float, dead_at: int, reason: str) -> Requeued:
        """A Failed batch's records pending again, once; dead at their `dead_at`-th failure."""
        with self.conn.tx():
            row = self.db.execute(Q["ledger_take"], (batch_id,)).fetchall()
            if not row:
                return Requeued(0, 0)
            account_id, blob = row[0]
            name = self.conn.names.get(account_id) or self.conn.one("account_name", (account_id,))
            requeued = dead = 0
            for record_id, version in decode_pairs(blob):
                failures = self.conn.one("record_failures", (record_id, version))
                if failures is None:
                    continue
                if failures + 1 >= dead_at:
                    self.db.execute(Q["dead_record"], (name, reason, now, record_id, version))
                    dead += 1
                elif self.db.execute(Q["repend_fresh"], (record_id, version)).rowcount:
                    self.db.execute(Q["record_failed"], (record_id,))
                    requeued += 1
            self.db.execute(Q["sent_add"], (-(requeued + dead), account_id))
        return Requeued(requeued, dead)

    def requeue(self, account: str, refs: list[tuple[int, int]], now: float) -> int:
        """Delivered records pending again (see `Queue.requeue`); how many."""
        with self.conn.tx():
            self.conn.reap(now)
            account_id = self.conn.account(account)
            if account_id is None:
                return 0
            leased = self.conn.leased_refs(account_id)
            requeued = 0
            for ref in refs:
                if ref in leased:
                    continue
                if self.db.execute(Q["requeue_record"], (*ref, account_id)).rowcount:
                    self.db.execute(Q["unconfirm_record"], (ref[0],))
                    requeued += 1
        return requeued
