"""The queue's interface and its rules, stated once; a backend supplies only the storage.

States a record goes through: pending -> leased (until the lease expires) -> sent, or dead
(with a reason). A lease that is not acked before it expires returns its records to pending,
so a crash at any moment loses nothing.

Choices every backend shares (the contract tests hold each backend to them):
- Enqueue is an upsert on (account, remote_inv_id, day). The same values are "unchanged"
  whatever the record's state (pending, leased, sent or dead): a dead record is revived by
  `replay_dead`, not by enqueueing it again. Different values replace the old ones, bump the
  version and make the record pending again, with its attempts at zero; a dead letter of
  that record is dropped, the new value superseding it.
- `ack` ends the lease of the acked records; those whose value was re-enqueued while in
  flight stay pending, carrying the new value. An ack that comes after its lease expired
  still takes the same values out of pending. `sent` counts deliveries: a record delivered
  twice (corrected, or re-sent after its lease expired) counts twice.
- `release` with a delay keeps the records out of claims until the delay has passed;
  meanwhile they count as delayed (not pending), with the time the first is due.
- `requeue_batch` (the registry reported the batch's processing Failed) makes its records
  pending again, once per batch (a repeated call does nothing); each record keeps a failure
  counter, and a record whose batches failed `FAILURES_TO_DEAD` times becomes a dead letter
  instead. The counter is reset when a new value is enqueued or the dead letter is replayed.
  The ledger row keeps the (id, version) of every record its batch carried.
- `extend` raises QueueError when the lease has already expired; so does an `ack` under a
  batch id the ledger already holds.
- Times are wall-clock seconds from the queue's clock (injectable for tests).

Rule and storage (as saq's `Queue` splits them): each public method of `Queue` is the rule
(argument checks, the clock, canonical text, deadline keys, reasons, thresholds) and calls one
`_method`, the backend's atomic mechanics (one SQLite transaction, or one Lua script), with
those values. The values are in `types`, re-exported here where most modules import them.
"""

from __future__ import annotations

import abc
import datetime as dt
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Self

import msgspec

from uploader.errors import QueueError
from uploader.queue.delivery import DeliveryBooks
from uploader.queue.slots import SlotStore
from uploader.queue.types import (
    AccountCounts,
    Claim,
    DeadLetter,
    DeadRow,
    Delivered,
    EnqueueResult,
    EnqueueRow,
    Extended,
    FlagCounts,
    LeaseChange,
    LedgerEntry,
    LedgerRow,
    QueueCounts,
    QueuedRecord,
    Refused,
    Requeued,
    Returned,
    Scope,
)
from uploader.records import Record, canonical
from uploader.residual_mix import claim_deadline

if TYPE_CHECKING:
    from uploader.queue.leases import AccountLeases  # asyncio: not for `import uploader.config`

__all__ = [
    "FAILED_TWICE",
    "FAILURES_TO_DEAD",
    "AccountCounts",
    "Claim",
    "DeadLetter",
    "DeadRow",
    "EnqueueResult",
    "FlagCounts",
    "LedgerEntry",
    "LedgerRow",
    "Queue",
    "QueueCounts",
    "QueuedRecord",
    "Requeued",
    "claim_key",
    "deadline_key",
    "deadline_of_text",
]

CONFIRMED = "Success"  # the processing status that confirms a batch's records
FAILURES_TO_DEAD = 2  # Failed reports of a record's batches that make it a dead letter
FAILED_TWICE = "the registry reported the processing of this record's batch Failed twice"
DAY_CACHE = 100_000  # days whose text and deadline key an enqueue remembers


def deadline_key(day: dt.date) -> int:
    """The residual-mix claim deadline of `day` as YYYYMMDD: claims go soonest-closing first."""
    deadline = claim_deadline(day)
    return deadline.year * 10000 + deadline.month * 100 + deadline.day


def deadline_of_text(day: str) -> int:
    """`deadline_key` of a "YYYY-MM-DD" text."""
    return deadline_key(dt.date.fromisoformat(day))


def claim_key(record: QueuedRecord) -> tuple[int, str, str]:
    """A record's place in the claim order: the soonest-closing claim windows first, and one
    inverter's days together and in order."""
    return (deadline_of_text(record.day), record.remote_inv_id, record.day)


class Queue(DeliveryBooks, SlotStore):
    """The durable queue: async, and an async context manager that opens and closes it.

    `clock` gives wall-clock seconds (injectable for tests). The delivery reads (reconcile,
    issuance, deadlines) are stated in `delivery`; the limiter's slots (its recent history,
    shared budgets) in `slots`.
    """

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._days: dict[dt.date, tuple[str, int]] = {}

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @classmethod
    @abc.abstractmethod
    def from_url(cls, url: str, *, clock: Callable[[], float] = time.time) -> Self:
        """The queue a URL of this backend's scheme names (see `schemes.SCHEMES`)."""

    @abc.abstractmethod
    async def open(self) -> None:
        """Acquire the backend's resources (connection, thread); a second call does nothing."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release them."""

    @abc.abstractmethod
    def account_leases(self, accounts: Sequence[str]) -> AccountLeases:
        """The leases this process takes before it serves `accounts` (see `leases`)."""

    # -- records in and out ----------------------------------------------------------------

    async def enqueue(self, records: Sequence[Record]) -> EnqueueResult:
        """Upsert records by key; see the module docstring for the semantics."""
        if not records:
            return EnqueueResult(0, 0)
        changed = await self._enqueue(self._rows(records), self._clock())
        return EnqueueResult(changed, len(records) - changed)

    def _rows(self, records: Sequence[Record]) -> Iterator[EnqueueRow]:
        # Lazy, so a backend computes them where it stores them (SQLite: off the event loop).
        days = self._days
        for r in records:
            day, deadline = days.get(r.day) or self._day(r.day)
            yield (r.account, r.remote_inv_id, day, canonical(r.period_kwh),
                   canonical(r.accumulated_kwh), r.flags, r.source, deadline)  # fmt: skip

    def _day(self, day: dt.date) -> tuple[str, int]:
        if len(self._days) > DAY_CACHE:
            self._days.clear()
        entry = self._days[day] = (day.isoformat(), deadline_key(day))
        return entry

    async def claim(
        self,
        account: str,
        limit: int,
        lease_s: float,
        *,
        one_inverter: bool = False,
        one_year: bool = False,
    ) -> Claim | None:
        """Lease up to `limit` claimable records of one account, or None when there are none.

        They come in `claim_key` order; with `one_inverter`, the first inverter's records of
        every deadline in date order (with `one_year`, of the first record's year only).
        """
        if limit <= 0:
            return None
        now = self._clock()
        until = now + lease_s
        found = await self._claim(account, limit, Scope(one_inverter, one_year), now, until)
        if found is None:
            return None
        lease_id, records = found
        return Claim(lease_id, account, records, until)

    async def ack(self, claim: Claim, records: Sequence[QueuedRecord], entry: LedgerEntry) -> None:
        """The registry accepted these records: end their lease and write the ledger row.

        QueueError when the batch id is already in the ledger.
        """
        await self._change_lease(claim, records, Delivered(entry))

    async def release(
        self, claim: Claim, records: Sequence[QueuedRecord], delay_s: float = 0.0
    ) -> None:
        """Back to pending, claimable again after `delay_s`."""
        until = self._clock() + delay_s if delay_s > 0 else None
        await self._change_lease(claim, records, Returned(until))

    async def reject(self, claim: Claim, rejections: Sequence[tuple[QueuedRecord, str]]) -> None:
        """Make records dead letters with a reason (a value re-enqueued since stays pending)."""
        records = [record for record, _ in rejections]
        reasons = [reason for _, reason in rejections]
        await self._change_lease(claim, records, Refused(reasons, self._clock()))

    async def extend(self, claim: Claim, lease_s: float) -> Claim:
        """Push the lease's expiry to now + `lease_s`; QueueError if it already expired."""
        now = self._clock()
        until = now + lease_s
        if not await self._change_lease(claim, claim.records, Extended(now, until)):
            raise QueueError(f"lease {claim.lease_id} has expired")
        return msgspec.structs.replace(claim, lease_until=until)

    # -- dead letters ----------------------------------------------------------------------

    async def dead_letter_rows(self, rows: Sequence[DeadRow]) -> None:
        """Keep rows refused at ingest; the same row from the same source is kept once."""
        if rows:
            await self._dead_letter_rows(rows, self._clock())

    async def list_dead(
        self, *, account: str | None = None, limit: int = 100, after_id: int = 0
    ) -> list[DeadLetter]:
        """Dead letters in id order, after `after_id` (keyset pagination)."""
        if limit <= 0:
            return []
        return await self._list_dead(account, limit, after_id)

    async def replay_dead(self, *, account: str | None = None) -> int:
        """Queue the dead records again; raw ingest rows stay. Returns how many were queued."""
        return await self._replay_dead(account)

    async def purge_dead(self, *, before: float | None = None) -> int:
        """Forget dead letters (those older than `before`); returns how many.

        A purged record is forgotten too, so enqueueing it again queues it; one that is
        pending again (a stale claim's rejection raced a new claim) stays queued. Expired
        leases are reaped first.
        """
        return await self._purge_dead(before, self._clock())

    # -- reading the state -----------------------------------------------------------------

    async def due_in(self) -> dict[str, float]:
        """Seconds until each account has records to claim (0: now), read across every account
        at once; accounts with nothing pending or delayed are left out."""
        now = self._clock()
        return {a: max(0.0, at - now) for a, at in (await self._availability(now)).items()}

    async def drained(self, account: str) -> bool:
        """No record of the account pending, leased (by anyone) or delayed: a drain's end."""
        return await self._drained(account)

    async def known_days(self, account: str, remote_inv_id: str, year: int) -> dict[str, str]:
        """Day ("YYYY-MM-DD") -> latest period text of every day of one inverter-year the queue
        holds, pending, leased or sent; not the dead (docs/decisions.md, "Monthly endpoint")."""
        return await self._known_days(account, remote_inv_id, year)

    async def in_flight(self) -> int:
        """Records under unexpired leases."""
        return await self._in_flight(self._clock())

    async def counts(self) -> QueueCounts:
        """Counts per account and state, by aggregates: nothing loads the whole queue."""
        per, unattributed = await self._counts(self._clock())
        return QueueCounts.build(per, unattributed)

    # -- the ledger ------------------------------------------------------------------------

    async def ledger_awaiting_status(self, account: str, limit: int) -> list[LedgerRow]:
        """Oldest first: batches with a ProcessId and no final status (Success or Failed)."""
        if limit <= 0:
            return []
        return await self._ledger_awaiting(account, limit)

    async def set_ledger_status(self, batch_id: str, status: str) -> None:
        """Record the processing status the registry reported for a batch; `Success`
        confirms each of its records whose value is still the one the batch carried."""
        await self._set_ledger_status(batch_id, status, self._clock(), status == CONFIRMED)

    async def requeue_batch(self, batch_id: str) -> Requeued:
        """The batch's processing Failed: its records pending again (dead on a further failure).

        Returns how many became pending and how many dead. Records changed since the batch are
        left alone.
        """
        reason = f"{FAILED_TWICE} (batch {batch_id})"
        return await self._requeue_batch(batch_id, self._clock(), FAILURES_TO_DEAD, reason)

    async def prune_ledger(self, older_than: float) -> int:
        """Delete ledger rows sent before `older_than`; returns how many."""
        return await self._prune_ledger(older_than)

    # -- storage: each is one transaction (or one script) -----------------------------------

    @abc.abstractmethod
    async def _enqueue(self, rows: Iterable[EnqueueRow], now: float) -> int:
        """Upsert (new or changed rows pending, new ones first enqueued at `now`; a key given
        twice: the later row wins); how many changed."""

    @abc.abstractmethod
    async def _claim(
        self, account: str, limit: int, scope: Scope, now: float, until: float
    ) -> tuple[str, list[QueuedRecord]] | None:
        """Reap expired leases, then lease the first `limit` pending records (attempts
        counted, within `scope`) until `until`: the lease id and the records, or None."""

    @abc.abstractmethod
    async def _change_lease(
        self, claim: Claim, records: Sequence[QueuedRecord], change: LeaseChange
    ) -> bool:
        """Extend the lease or take `records` out of it, as `change` says; whether it was live
        (after it expired, Delivered and Refused records leave pending)."""

    @abc.abstractmethod
    async def _dead_letter_rows(self, rows: Sequence[DeadRow], now: float) -> None:
        """Add the rows not kept yet (by source and raw text), dead since `now`."""

    @abc.abstractmethod
    async def _list_dead(self, account: str | None, limit: int, after_id: int) -> list[DeadLetter]:
        """A page of dead letters (`limit` > 0)."""

    @abc.abstractmethod
    async def _replay_dead(self, account: str | None) -> int:
        """Drop the record letters; their records pending again with failures reset."""

    @abc.abstractmethod
    async def _purge_dead(self, before: float | None, now: float) -> int:
        """Reap, then drop the letters and forget their records (unless pending)."""

    @abc.abstractmethod
    async def _availability(self, now: float) -> dict[str, float]:
        """Reap, then per account: `now` when it has pending records, else the end of its
        earliest delayed release; accounts with neither left out."""

    @abc.abstractmethod
    async def _drained(self, account: str) -> bool:
        """No pending record, no lease (live, expired or delayed) of the account."""

    @abc.abstractmethod
    async def _known_days(self, account: str, remote_inv_id: str, year: int) -> dict[str, str]:
        """Day -> period of the inverter-year's stored records that are not dead letters."""

    @abc.abstractmethod
    async def _in_flight(self, now: float) -> int:
        """Records under claims live at `now`."""

    @abc.abstractmethod
    async def _counts(self, now: float) -> tuple[dict[str, AccountCounts], int]:
        """Reap, then the counts per account and the dead letters of no account."""

    @abc.abstractmethod
    async def _ledger_awaiting(self, account: str, limit: int) -> list[LedgerRow]:
        """See `ledger_awaiting_status` (`limit` > 0)."""

    @abc.abstractmethod
    async def _set_ledger_status(
        self, batch_id: str, status: str, now: float, confirms: bool
    ) -> None:
        """Store the status, at `now`, if the row exists; with `confirms`, mark its records
        whose version is still the carried one confirmed."""

    @abc.abstractmethod
    async def _requeue_batch(
        self, batch_id: str, now: float, dead_at: int, reason: str
    ) -> Requeued:
        """Once per row: each unchanged record of the batch counts a failure and is pending
        again, or at its `dead_at`-th failure is dead with `reason`."""

    @abc.abstractmethod
    async def _prune_ledger(self, older_than: float) -> int:
        """Delete the rows sent before `older_than`."""
