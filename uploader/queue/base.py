"""The queue's interface and the types it hands out; every backend implements `Queue`.

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
  meanwhile they count as pending.
- `requeue_batch` (the registry reported the batch's processing Failed) makes its records
  pending again, once per batch (a repeated call does nothing); each record keeps a failure
  counter, and a record whose batch fails a second time becomes a dead letter instead. The
  counter is reset when a new value is enqueued or the dead letter is replayed. The ledger
  row keeps the (id, version) of every record its batch carried.
- `extend` raises QueueError when the lease has already expired.
- Times are wall-clock seconds from the backend's clock (injectable for tests).
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Sequence
from types import TracebackType

import msgspec

from uploader.records import Flag, Record
from uploader.residual_mix import claim_deadline

__all__ = [
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
    "deadline_key",
]

FAILED_TWICE = "the registry reported the processing of this record's batch Failed twice"


class QueuedRecord(msgspec.Struct, frozen=True, gc=False, array_like=True):
    """A record as a claim hands it out: values as canonical decimal text.

    Array-like: the SQLite backend stores each pending record in this form, as a JSON array.
    """

    id: int  # backend row id
    version: int  # bumped each time an enqueue changes the value
    remote_inv_id: str
    day: str  # "YYYY-MM-DD"
    period_kwh: str
    accumulated_kwh: str
    attempts: int  # claims this value has had, this one included
    first_enqueued_at: float  # wall-clock seconds


class Claim(msgspec.Struct, frozen=True):
    """Records of one account leased to one worker until `lease_until`."""

    lease_id: str
    account: str
    records: list[QueuedRecord]
    lease_until: float


class LedgerEntry(msgspec.Struct, frozen=True):
    """What `ack` writes to the ledger for a delivered batch."""

    batch_id: str
    account: str
    records: int
    sent_at: float
    http_status: int
    process_id: int | None
    endpoint: str


class LedgerRow(LedgerEntry, frozen=True):
    """A ledger row as read back: the entry, with the processing status the registry reported."""

    status: str | None = None
    status_at: float | None = None


class EnqueueResult(msgspec.Struct, frozen=True):
    """How many records an enqueue made pending, and how many it found unchanged."""

    changed: int
    unchanged: int


class DeadRow(msgspec.Struct, frozen=True, kw_only=True):
    """An input row refused at ingest, kept as a dead letter (it cannot be replayed)."""

    raw: str
    source: str  # "file.csv:17" or "ingest:<request id>:<line>"
    reason: str
    account: str | None = None


class DeadLetter(msgspec.Struct, frozen=True, kw_only=True):
    """A dead letter: a rejected record, or a raw input row refused at ingest."""

    id: int
    account: str | None
    reason: str
    source: str | None
    at: float  # when it became a dead letter
    replayable: bool  # a record that can be queued again (raw rows cannot)
    remote_inv_id: str | None = None
    day: str | None = None
    period_kwh: str | None = None
    accumulated_kwh: str | None = None
    raw: str | None = None


class FlagCounts(msgspec.Struct):
    """Stored records carrying each flag."""

    before_claimable: int = 0
    accumulated_falls: int = 0


class AccountCounts(msgspec.Struct):
    """Counts of one account (or the total)."""

    pending: int = 0
    leased: int = 0
    sent: int = 0
    dead: int = 0
    flagged: FlagCounts = msgspec.field(default_factory=FlagCounts)
    oldest_pending_at: float | None = None

    def add(self, other: AccountCounts) -> None:
        """Fold another account's counts into these."""
        self.pending += other.pending
        self.leased += other.leased
        self.sent += other.sent
        self.dead += other.dead
        self.flagged.before_claimable += other.flagged.before_claimable
        self.flagged.accumulated_falls += other.flagged.accumulated_falls
        self.oldest_pending_at = earliest(self.oldest_pending_at, other.oldest_pending_at)


class QueueCounts(msgspec.Struct):
    """Counts per account and in total; dead letters without an account count in total only."""

    accounts: dict[str, AccountCounts]
    total: AccountCounts
    unattributed_dead: int = 0

    @classmethod
    def build(cls, accounts: dict[str, AccountCounts], unattributed_dead: int) -> QueueCounts:
        """Sum the accounts into the total."""
        total = AccountCounts(dead=unattributed_dead)
        for counts in accounts.values():
            total.add(counts)
        return cls(dict(sorted(accounts.items())), total, unattributed_dead)


def earliest(a: float | None, b: float | None) -> float | None:
    """The earlier of two optional times."""
    if a is None:
        return b
    return a if b is None else min(a, b)


def flag_counts(flags: int, count: int, into: FlagCounts) -> None:
    """Add `count` records carrying `flags` to the per-flag counts."""
    if flags & int(Flag.BEFORE_CLAIMABLE):
        into.before_claimable += count
    if flags & int(Flag.ACCUMULATED_FALLS):
        into.accumulated_falls += count


def deadline_key(day: dt.date) -> int:
    """The residual-mix claim deadline of `day` as YYYYMMDD: claims go soonest-closing first."""
    deadline = claim_deadline(day)
    return deadline.year * 10000 + deadline.month * 100 + deadline.day


def deadline_of_text(day: str) -> int:
    """`deadline_key` of a "YYYY-MM-DD" text."""
    return deadline_key(dt.date.fromisoformat(day))


class Queue(abc.ABC):
    """The durable queue: async, and an async context manager that opens and closes it."""

    async def __aenter__(self) -> Queue:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def open(self) -> None:  # noqa: B027  (backends without resources need nothing)
        """Acquire the backend's resources (connection, thread)."""

    async def close(self) -> None:  # noqa: B027
        """Release them."""

    @abc.abstractmethod
    async def enqueue(self, records: Sequence[Record]) -> EnqueueResult:
        """Upsert records by key; see the module docstring for the semantics."""

    @abc.abstractmethod
    async def claim(
        self, account: str, limit: int, lease_s: float, *, one_inverter: bool = False
    ) -> Claim | None:
        """Lease up to `limit` claimable records of one account, or None when there are none.

        Order: (claim deadline of the day, remote_inv_id, day), so the soonest-closing claim
        windows go first and one inverter's days come together and in order. With
        `one_inverter`, only the first inverter's records of the first deadline.
        """

    @abc.abstractmethod
    async def ack(self, claim: Claim, records: Sequence[QueuedRecord], entry: LedgerEntry) -> None:
        """The registry accepted these records: end their lease and write the ledger row."""

    @abc.abstractmethod
    async def release(
        self, claim: Claim, records: Sequence[QueuedRecord], delay_s: float = 0.0
    ) -> None:
        """Back to pending, claimable again after `delay_s`."""

    @abc.abstractmethod
    async def reject(self, claim: Claim, rejections: Sequence[tuple[QueuedRecord, str]]) -> None:
        """Make records dead letters with a reason (a value re-enqueued since stays pending)."""

    @abc.abstractmethod
    async def extend(self, claim: Claim, lease_s: float) -> Claim:
        """Push the lease's expiry to now + `lease_s`; QueueError if it already expired."""

    @abc.abstractmethod
    async def dead_letter_rows(self, rows: Sequence[DeadRow]) -> None:
        """Keep rows refused at ingest; the same row from the same source is kept once."""

    @abc.abstractmethod
    async def accounts_pending(self) -> list[str]:
        """Accounts with records claimable now, sorted."""

    @abc.abstractmethod
    async def next_available_at(self, account: str) -> float | None:
        """When the account's earliest pending record is claimable (<= now: already)."""

    @abc.abstractmethod
    async def counts(self) -> QueueCounts:
        """Counts per account and state, by aggregates: nothing loads the whole queue."""

    @abc.abstractmethod
    async def in_flight(self) -> int:
        """Records under unexpired leases."""

    @abc.abstractmethod
    async def list_dead(
        self, *, account: str | None = None, limit: int = 100, after_id: int = 0
    ) -> list[DeadLetter]:
        """Dead letters in id order, after `after_id` (keyset pagination)."""

    @abc.abstractmethod
    async def replay_dead(self, *, account: str | None = None) -> int:
        """Queue the dead records again; raw ingest rows stay. Returns how many were queued."""

    @abc.abstractmethod
    async def purge_dead(self, *, before: float | None = None) -> int:
        """Forget dead letters (those older than `before`); returns how many.

        A purged record is forgotten too, so enqueueing it again queues it; one that is
        pending again (a stale claim's rejection raced a new claim) stays queued. Expired
        leases are reaped first.
        """

    @abc.abstractmethod
    async def ledger_awaiting_status(self, account: str, limit: int) -> list[LedgerRow]:
        """Oldest first: batches with a ProcessId and no final status (Success or Failed)."""

    @abc.abstractmethod
    async def set_ledger_status(self, batch_id: str, status: str) -> None:
        """Record the processing status the registry reported for a batch."""

    @abc.abstractmethod
    async def requeue_batch(self, batch_id: str) -> int:
        """The batch's processing Failed: its records pending again (dead on a second failure).

        Returns how many became pending. Records changed since the batch are left alone.
        """

    @abc.abstractmethod
    async def prune_ledger(self, older_than: float) -> int:
        """Delete ledger rows sent before `older_than`; returns how many."""
