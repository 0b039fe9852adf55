"""The values the queue takes and hands out (claims, ledger rows, dead letters, counts), and
those its rules hand to a backend's storage (enqueue rows, lease changes)."""

from __future__ import annotations

from typing import Literal, NamedTuple

import msgspec

from uploader.records import Flag

__all__ = [
    "AccountCounts",
    "Claim",
    "DeadLetter",
    "DeadRow",
    "DeadlineCounts",
    "Delivered",
    "EnqueueResult",
    "EnqueueRow",
    "Extended",
    "FlagCounts",
    "LeaseChange",
    "LedgerEntry",
    "LedgerRow",
    "QueueCounts",
    "QueuedRecord",
    "RecordState",
    "Refused",
    "Requeued",
    "Returned",
    "Scope",
    "StoredRecord",
    "earliest",
    "flag_counts",
]


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


RecordState = Literal["pending", "leased", "dead", "sent", "confirmed"]
"""Where a stored record's current value stands: queued (`pending`, also while a delayed
release holds it), in a live claim (`leased`), refused (`dead`), or delivered: `sent`, and
`confirmed` once the registry reported its batch's processing `Success`."""


class StoredRecord(msgspec.Struct, frozen=True, gc=False):
    """A stored record of a day range, as `Queue.records_between` reads it."""

    id: int
    version: int
    remote_inv_id: str
    day: str  # "YYYY-MM-DD"
    period_kwh: str  # canonical decimal text
    accumulated_kwh: str
    state: RecordState


class DeadlineCounts(msgspec.Struct):
    """An account's pending records by residual-mix claim deadline (`Queue.deadlines`)."""

    closing: int = 0  # whose claim window closes within the horizon asked for, today included
    closed: int = 0  # whose window has closed: they can no longer become certificates
    soonest: str | None = None  # the soonest deadline not passed yet, "YYYY-MM-DD"


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

    pending: int = 0  # claimable now
    leased: int = 0
    sent: int = 0
    dead: int = 0
    flagged: FlagCounts = msgspec.field(default_factory=FlagCounts)
    oldest_pending_at: float | None = None  # of the records waiting, pending or delayed
    delayed: int = 0  # released with a delay that has not passed yet
    next_due_at: float | None = None  # when the first delayed record is claimable

    def add(self, other: AccountCounts) -> None:
        """Fold another account's counts into these."""
        self.pending += other.pending
        self.leased += other.leased
        self.sent += other.sent
        self.dead += other.dead
        self.delayed += other.delayed
        self.flagged.before_claimable += other.flagged.before_claimable
        self.flagged.accumulated_falls += other.flagged.accumulated_falls
        self.oldest_pending_at = earliest(self.oldest_pending_at, other.oldest_pending_at)
        self.next_due_at = earliest(self.next_due_at, other.next_due_at)


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


class Requeued(NamedTuple):
    """What `requeue_batch` did with the records of a batch whose processing Failed."""

    pending: int  # pending again, to be sent once more
    dead: int  # dead letters: their batches failed `FAILURES_TO_DEAD` times


# account, remote_inv_id, day ("YYYY-MM-DD"), period and accumulated (canonical text), flags,
# source, the day's deadline key.
EnqueueRow = tuple[str, str, str, str, str, int, str | None, int]


class Scope(NamedTuple):
    """What one claim may hold: any records, one inverter's, or one inverter's of one year."""

    one_inverter: bool
    one_year: bool


class Extended(NamedTuple):
    """The lease runs until `until` (if it is still live at `now`); its records stay."""

    now: float
    until: float


class Delivered(NamedTuple):
    """The registry accepted the records: they are sent, and the ledger gets `entry`."""

    entry: LedgerEntry


class Returned(NamedTuple):
    """The records are pending again: at once (`until` None), or held until `until`."""

    until: float | None


class Refused(NamedTuple):
    """The records are dead letters, `reasons[i]` for the i-th, dead since `at`."""

    reasons: list[str]
    at: float


LeaseChange = Extended | Delivered | Returned | Refused
