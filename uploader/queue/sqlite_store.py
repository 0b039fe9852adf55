"""The SQLite backend's operations on one connection, run on the queue's single thread.

Every public method is one transaction (`BEGIN IMMEDIATE`, so concurrent processes queue up
on the busy timeout instead of failing on a lock upgrade). The layout and why it is shaped
this way are described at the top of `queries.sql`.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.resources
import re
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import starmap
from typing import Any

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
    QueueCounts,
    QueuedRecord,
)
from uploader.records import Record, canonical

SCHEMA_VERSION = 1
CACHE_KIB = 32 * 1024  # page cache; the enqueue's peak-memory goal is 150 MB in all

Item = tuple[int, int, int, float]  # a leased record: id, version, attempts, first_enqueued_at

_encode = msgspec.msgpack.Encoder().encode
_decode_items = msgspec.msgpack.Decoder(list[tuple[int, int, int, float]]).decode
_decode_pairs = msgspec.msgpack.Decoder(list[tuple[int, int]]).decode


def _load_queries() -> dict[str, str]:
    text = importlib.resources.files("uploader.queue").joinpath("queries.sql").read_text()
    parts = re.split(r"^-- (\w+) --$", text, flags=re.MULTILINE)
    return {name: body.strip() for name, body in zip(parts[1::2], parts[2::2], strict=True)}


Q = _load_queries()
UPSERT_WIDTH = Q["upsert"].count("?")
ROWS_PER_STATEMENT = 200  # rows of one multi-row upsert (SQLite allows 32766 parameters)


@functools.lru_cache(maxsize=8)
def _upsert(rows: int) -> str:
    """The upsert statement with `rows` rows of values."""
    one = "(" + ", ".join("?" * UPSERT_WIDTH) + ")"
    return Q["upsert"].replace(one, ", ".join([one] * rows))


class Store:
    """An open queue database."""

    def __init__(self, path: str, *, synchronous: str, busy_timeout_s: float) -> None:
        self.db = sqlite3.connect(path, isolation_level=None, timeout=busy_timeout_s)
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute(f"PRAGMA synchronous = {synchronous}")
        self.db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        self._create_schema()
        self._ids: dict[str, int] = {}
        self._names: dict[int, str] = {}
        self._days: dict[dt.date, tuple[str, int]] = {}

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    def _create_schema(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise QueueError(f"the queue's schema {version} is newer than this uploader's")
        if version < SCHEMA_VERSION:
            self.db.executescript(f"BEGIN IMMEDIATE;\n{Q['schema']}\nCOMMIT;")

    @contextmanager
    def _tx(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _one(self, name: str, params: Sequence[Any] = ()) -> Any:
        row = self.db.execute(Q[name], params).fetchone()
        return None if row is None else row[0]

    # -- accounts and days ---------------------------------------------------------------

    def _account(self, name: str, *, create: bool = False) -> int | None:
        account_id = self._ids.get(name)
        if account_id is None:
            if create:
                self.db.execute(Q["account_add"], (name,))
            account_id = self._one("account_id", (name,))
            if account_id is not None:
                self._ids[name] = account_id
                self._names[account_id] = name
        return account_id

    def _day(self, day: dt.date) -> tuple[str, int]:
        if len(self._days) > 100_000:
            self._days.clear()
        entry = self._days[day] = (day.isoformat(), base.deadline_key(day))
        return entry

    # -- enqueue -------------------------------------------------------------------------

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
                changed += self.db.execute(_upsert(len(part) // UPSERT_WIDTH), part).rowcount
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
        """Lease the first `limit` pending records of the account in claim order."""
        with self._tx():
            self._reap(now)
            account_id = self._account(account)
            if account_id is None:
                return None
            rows = self._claim_rows(account_id, limit, one_inverter)
            if not rows:
                return None
            records = list(starmap(QueuedRecord, rows))
            last = records[-1]
            key = (base.deadline_of_text(last.day), last.remote_inv_id, last.day)
            self.db.execute(Q["delete_claimed"], (account_id, *key))
            items = [(r.id, r.version, r.attempts, r.first_enqueued_at) for r in records]
            lease_id = self._add_lease(account_id, now + lease_s, items, released=False)
        return Claim(str(lease_id), account, records, now + lease_s)

    def _claim_rows(self, account_id: int, limit: int, one_inverter: bool) -> list[Any]:
        if not one_inverter:
            return self.db.execute(Q["claim"], (account_id, limit)).fetchall()
        head = self.db.execute(Q["claim_head"], (account_id,)).fetchone()
        if head is None:
            return []
        return self.db.execute(Q["claim_inverter"], (account_id, *head, limit)).fetchall()

    def _add_lease(self, account_id: int, until: float, items: list[Item], released: bool) -> int:
        oldest = min(item[3] for item in items)
        params = (account_id, until, int(released), len(items), oldest, _encode(items))
        lease_id: int = self.db.execute(Q["lease_add"], params).lastrowid  # type: ignore[assignment]
        return lease_id

    def _reap(self, now: float) -> None:
        """Expired leases (and delays that ran out) put their records back into pending."""
        for lease_id, blob in self.db.execute(Q["leases_expired"], (now,)).fetchall():
            self._repend(_decode_items(blob))
            self.db.execute(Q["lease_delete"], (lease_id,))

    def _repend(self, items: Sequence[Item]) -> None:
        # Only where the value is still the one leased: a changed value is pending already.
        params = [(attempts, first, rid, version) for rid, version, attempts, first in items]
        self.db.executemany(Q["repend"], params)

    def _take(self, claim: Claim, records: Sequence[QueuedRecord]) -> list[Item] | None:
        """Remove records from their lease; None when the lease is gone (it expired)."""
        lease_id = int(claim.lease_id)
        row = self.db.execute(Q["lease_get"], (lease_id,)).fetchone()
        if row is None:
            return None
        ids = {r.id for r in records}
        taken: list[Item] = []
        kept: list[Item] = []
        for item in _decode_items(row[3]):
            (taken if item[0] in ids else kept).append(item)
        if kept:
            oldest = min(item[3] for item in kept)
            self.db.execute(Q["lease_set"], (len(kept), oldest, _encode(kept), lease_id))
        else:
            self.db.execute(Q["lease_delete"], (lease_id,))
        return taken

    def _unpend(self, account_id: int, records: Sequence[QueuedRecord]) -> None:
        """After an expired lease: take the same values out of pending again."""
        params = [
            (account_id, base.deadline_of_text(r.day), r.remote_inv_id, r.day, r.version)
            for r in records
        ]
        self.db.executemany(Q["unpend"], params)

    def _account_of(self, claim: Claim) -> int:
        account_id = self._account(claim.account)
        if account_id is None:
            raise QueueError(f"unknown account {claim.account!r} in a claim")
        return account_id

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
            pairs = _encode([(r.id, r.version) for r in records])
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

    # -- dead letters --------------------------------------------------------------------

    def dead_letter_rows(self, rows: Sequence[DeadRow], now: float) -> None:
        """Keep refused input rows (the same row from the same source once)."""
        with self._tx():
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
        with self._tx():
            self.db.execute(Q["replay_reset_failures"], (account, account))
            self.db.execute(Q["replay_dead"], (account, account))
            replayed: int = self.db.execute(Q["replay_forget"], (account, account)).rowcount
        return replayed

    def purge_dead(self, before: float | None) -> int:
        """Forget dead letters, and the records behind them."""
        with self._tx():
            self.db.execute(Q["purge_records"], (before, before))
            purged: int = self.db.execute(Q["purge_dead"], (before, before)).rowcount
        return purged

    # -- reading the state ---------------------------------------------------------------

    def accounts_pending(self, now: float) -> list[str]:
        """Accounts with claimable records."""
        with self._tx():
            self._reap(now)
        return [name for (name,) in self.db.execute(Q["accounts_pending"])]

    def next_available_at(self, account: str, now: float) -> float | None:
        """`now` when something is claimable, else when a delayed release runs out."""
        with self._tx():
            self._reap(now)
        account_id = self._account(account)
        if account_id is None:
            return None
        if self._one("has_pending", (account_id,)):
            return now
        released: float | None = self._one("next_released", (account_id,))
        return released

    def in_flight(self, now: float) -> int:
        """Records under unexpired leases."""
        count: int = self._one("in_flight", (now,))
        return count

    def counts(self, now: float) -> QueueCounts:
        """Aggregates per account; see `QueueCounts`."""
        with self._tx():
            self._reap(now)
            per: dict[str, AccountCounts] = {}
            for account_id, name, sent in self.db.execute(Q["count_sent"]):
                self._names[account_id] = name
                per[name] = AccountCounts(sent=sent)
            self._count_pending(per, now)
            unattributed = self._count_dead(per)
            for account_id, flags, count in self.db.execute(Q["count_flagged"]):
                base.flag_counts(flags, count, per[self._names[account_id]].flagged)
        return QueueCounts.build(per, unattributed)

    def _count_pending(self, per: dict[str, AccountCounts], now: float) -> None:
        for account_id, count, oldest in self.db.execute(Q["count_pending"]):
            counts = per[self._names[account_id]]
            counts.pending += count
            counts.oldest_pending_at = base.earliest(counts.oldest_pending_at, oldest)
        for account_id, released, count, oldest in self.db.execute(Q["count_leases"], (now,)):
            counts = per[self._names[account_id]]
            if released:
                counts.pending += count
                counts.oldest_pending_at = base.earliest(counts.oldest_pending_at, oldest)
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

    # -- the ledger ----------------------------------------------------------------------

    def ledger_awaiting_status(self, account: str, limit: int) -> list[LedgerRow]:
        """Batches whose processing status is not final yet, oldest first."""
        account_id = self._account(account)
        if account_id is None:
            return []
        rows = self.db.execute(Q["ledger_awaiting"], (account_id, limit)).fetchall()
        return list(starmap(LedgerRow, rows))

    def set_ledger_status(self, batch_id: str, status: str, now: float) -> None:
        """Remember the status the registry reported."""
        with self._tx():
            self.db.execute(Q["ledger_status"], (status, now, batch_id))

    def requeue_batch(self, batch_id: str, now: float) -> int:
        """A Failed batch's records pending again, once; dead on their second failure."""
        with self._tx():
            row = self.db.execute(Q["ledger_take"], (batch_id,)).fetchall()
            if not row:
                return 0
            account_id, blob = row[0]
            name = self._names.get(account_id) or self._one("account_name", (account_id,))
            requeued = dead = 0
            for record_id, version in _decode_pairs(blob):
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

    def prune_ledger(self, older_than: float) -> int:
        """Delete ledger rows older than the retention."""
        with self._tx():
            pruned: int = self.db.execute(Q["ledger_prune"], (older_than,)).rowcount
        return pruned
