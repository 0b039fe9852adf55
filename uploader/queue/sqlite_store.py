"""The SQLite backend's operations: records in, leased out, acked, released, rejected.

Run on the queue's single thread; each public method is one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from uploader.errors import QueueError
from uploader.queue import base
from uploader.queue.base import (
    Claim,
    EnqueueResult,
    LedgerEntry,
    QueuedRecord,
)
from uploader.queue.sqlite_books import Books
from uploader.queue.sqlite_db import (
    CACHE_KIB,
    UPSERT_WIDTH,
    Q,
    decode_pairs,
    decode_records,
    encode,
    upsert_sql,
)
from uploader.records import Record, canonical

__all__ = ["CACHE_KIB", "Store"]

ROWS_PER_STATEMENT = 200  # rows of one multi-row upsert (SQLite allows 32766 parameters)


class Store(Books):
    """An open queue database and every operation of the `Queue` interface."""

    def enqueue(self, records: Sequence[Record], now: float) -> EnqueueResult:
        """Upsert; new rows reach `pending` in one statement, changed ones by trigger.

        Rows go `ROWS_PER_STATEMENT` to a statement: per-row statements (executemany) cost
        a third more CPU, and hold the GIL between every two rows.
        """
        if not records:
            return EnqueueResult(0, 0)
        with self._tx():
            flat = self._params(records, now)
            before = self._one("max_record_id")
            changed = 0
            step = ROWS_PER_STATEMENT * UPSERT_WIDTH
            for start in range(0, len(flat), step):
                part = flat[start : start + step]
                changed += self.db.execute(upsert_sql(len(part) // UPSERT_WIDTH), part).rowcount
            if changed:
                self.db.execute(Q["pend_new"], (before,))
        return EnqueueResult(changed, len(records) - changed)

    def _params(self, records: Sequence[Record], now: float) -> list[Any]:
        """The upsert's parameters of every record, flat."""
        ids, days = self._ids, self._days
        flat: list[Any] = []
        extend = flat.extend
        for r in records:
            day, deadline = days.get(r.day) or self._day(r.day)
            account = ids.get(r.account) or self._account(r.account, create=True)
            period, accumulated = canonical(r.period_kwh), canonical(r.accumulated_kwh)
            extend((account, r.remote_inv_id, day, period, accumulated, r.flags, r.source,
                    deadline, now))  # fmt: skip
        return flat

    # -- claims and leases ---------------------------------------------------------------

    def claim(
        self, account: str, limit: int, lease_s: float, one_inverter: bool, now: float
    ) -> Claim | None:
        """Lease the first `limit` pending records of the account in claim order.

        SQLite joins the rows' `claimed` JSON into one text (off the GIL), msgspec decodes it
        in one call, and the same text becomes the lease's record list.
        """
        with self._tx():
            self._reap(now)
            account_id = self._account(account)
            if account_id is None:
                return None
            text = self._claimed_text(account_id, limit, one_inverter)
            if text is None:
                return None
            records = decode_records(text)
            last = records[-1]
            key = (base.deadline_of_text(last.day), last.remote_inv_id, last.day)
            self.db.execute(Q["delete_claimed"], (account_id, *key))
            lease_id = self._add_lease(account_id, now + lease_s, records, False, text)
        return Claim(str(lease_id), account, records, now + lease_s)

    def _claimed_text(self, account_id: int, limit: int, one_inverter: bool) -> str | None:
        if not one_inverter:
            return self._text("claim", (account_id, limit))
        head = self.db.execute(Q["claim_head"], (account_id,)).fetchone()
        if head is None:
            return None
        return self._text("claim_inverter", (account_id, *head, limit))

    def _text(self, name: str, params: Sequence[Any]) -> str | None:
        text: str | None = self._one(name, params)
        return text

    def ack(
        self, claim: Claim, records: Sequence[QueuedRecord], entry: LedgerEntry, now: float
    ) -> None:
        """End the records' lease, write the ledger row, count the delivery."""
        with self._tx():
            account_id = self._account_of(claim)
            whole = (int(claim.lease_id), len(records))
            deleted = self.db.execute(Q["lease_delete_whole"], whole).rowcount
            if not deleted and self._take(claim, records) is None:
                self._unpend(account_id, records)
            pairs = encode([(r.id, r.version) for r in records])
            self.db.execute(
                Q["ledger_add"],
                (
                    entry.batch_id,
                    account_id,
                    entry.records,
                    entry.sent_at,
                    entry.http_status,
                    entry.process_id,
                    entry.endpoint,
                    pairs,
                ),
            )
            self.db.execute(Q["sent_add"], (len(records), account_id))

    def release(
        self, claim: Claim, records: Sequence[QueuedRecord], delay_s: float, now: float
    ) -> None:
        """Back to pending now, or held in a released lease until the delay has passed."""
        with self._tx():
            account_id = self._account_of(claim)
            taken = self._take(claim, records)
            if not taken:
                return
            if delay_s > 0:
                self._add_lease(account_id, now + delay_s, taken, released=True)
            else:
                self._repend(taken)

    def reject(
        self, claim: Claim, rejections: Sequence[tuple[QueuedRecord, str]], now: float
    ) -> None:
        """Dead letters with the reasons, where the value is still the one rejected."""
        records = [record for record, _ in rejections]
        with self._tx():
            account_id = self._account_of(claim)
            if self._take(claim, records) is None:
                self._unpend(account_id, records)
            params = [(claim.account, reason, now, r.id, r.version) for r, reason in rejections]
            self.db.executemany(Q["dead_record"], params)

    def extend(self, claim: Claim, lease_s: float, now: float) -> Claim:
        """A later expiry for a lease that has not expired yet."""
        with self._tx():
            params = (now + lease_s, int(claim.lease_id), now)
            if not self.db.execute(Q["lease_extend"], params).rowcount:
                raise QueueError(f"lease {claim.lease_id} has expired")
        return msgspec.structs.replace(claim, lease_until=now + lease_s)

    def requeue_batch(self, batch_id: str, now: float) -> int:
        """A Failed batch's records pending again, once; dead on their second failure."""
        with self._tx():
            row = self.db.execute(Q["ledger_take"], (batch_id,)).fetchall()
            if not row:
                return 0
            account_id, blob = row[0]
            name = self._names.get(account_id) or self._one("account_name", (account_id,))
            requeued = dead = 0
            for record_id, version in decode_pairs(blob):
                failures = self._one("record_failures", (record_id, version))
                if failures is None:
                    continue
                if failures:
                    reason = f"{base.FAILED_TWICE} (batch {batch_id})"
                    self.db.execute(Q["dead_record"], (name, reason, now, record_id, version))
                    dead += 1
                elif self.db.execute(Q["repend_fresh"], (record_id, version)).rowcount:
                    self.db.execute(Q["record_failed"], (record_id,))
                    requeued += 1
            self.db.execute(Q["sent_add"], (-(requeued + dead), account_id))
        return requeued
