"""The embedded default backend: one SQLite file in WAL mode, owned by one worker thread.

Every call runs on a single-thread executor that owns the connection, so nothing blocks the
event loop and the connection is never shared between threads. Several processes may open
the same file (an `enqueue` while `run` drains): SQLite's locks serialise their transactions.
"""

from __future__ import annotations

import asyncio
import functools
import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal, TypeVar

from uploader.errors import QueueError
from uploader.queue.base import (
    Claim,
    DeadLetter,
    DeadRow,
    EnqueueResult,
    LedgerEntry,
    LedgerRow,
    Queue,
    QueueCounts,
    QueuedRecord,
)
from uploader.queue.sqlite_store import Store
from uploader.records import Record

__all__ = ["SQLiteQueue"]

T = TypeVar("T")

# FULL: a commit is on disk before enqueue or ack returns. Commits are batched (a chunk of
# an input file, a 3000-record claim), so it costs little; see docs/benchmarks.md.
DEFAULT_SYNCHRONOUS: Literal["NORMAL", "FULL"] = "FULL"
BUSY_TIMEOUT_S = 30.0  # how long a transaction waits for another process's lock


class SQLiteQueue(Queue):
    """The queue in an SQLite file (created, with its directory, on first open)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        clock: Callable[[], float] = time.time,
        synchronous: Literal["NORMAL", "FULL"] = DEFAULT_SYNCHRONOUS,
        busy_timeout_s: float = BUSY_TIMEOUT_S,
    ) -> None:
        self.path = Path(path)
        self._clock = clock
        self._synchronous = synchronous
        self._busy_timeout_s = busy_timeout_s
        self._executor: ThreadPoolExecutor | None = None
        self._store: Store | None = None

    def __repr__(self) -> str:
        return f"<SQLiteQueue path={str(self.path)!r} open={self._store is not None}>"

    async def open(self) -> None:
        """Start the thread and open (or create) the database."""
        if self._store is not None:
            return
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="uploader-sqlite")
        try:
            self._store = await self._call(self._connect)
        except BaseException:
            self._executor.shutdown(wait=False)
            self._executor = None
            raise

    def _connect(self) -> Store:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise QueueError(f"cannot create {self.path.parent}: {exc.strerror}") from None
        return Store(
            str(self.path), synchronous=self._synchronous, busy_timeout_s=self._busy_timeout_s
        )

    async def close(self) -> None:
        """Close the database and stop the thread."""
        store, executor = self._store, self._executor
        self._store = self._executor = None
        if store is not None and executor is not None:
            await asyncio.get_running_loop().run_in_executor(executor, store.close)
        if executor is not None:
            executor.shutdown(wait=True)

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        if self._executor is None:
            raise QueueError("the queue is not open")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, functools.partial(fn, *args))
        except sqlite3.Error as exc:
            raise QueueError(f"queue database {self.path}: {exc}") from exc

    @property
    def _db(self) -> Store:
        if self._store is None:
            raise QueueError("the queue is not open")
        return self._store

    async def enqueue(self, records: Sequence[Record]) -> EnqueueResult:
        """See `Queue.enqueue`; one transaction per call."""
        return await self._call(self._db.enqueue, records, self._clock())

    async def claim(
        self, account: str, limit: int, lease_s: float, *, one_inverter: bool = False
    ) -> Claim | None:
        """See `Queue.claim`."""
        now = self._clock()
        return await self._call(self._db.claim, account, limit, lease_s, one_inverter, now)

    async def ack(self, claim: Claim, records: Sequence[QueuedRecord], entry: LedgerEntry) -> None:
        """See `Queue.ack`."""
        await self._call(self._db.ack, claim, records, entry, self._clock())

    async def release(
        self, claim: Claim, records: Sequence[QueuedRecord], delay_s: float = 0.0
    ) -> None:
        """See `Queue.release`."""
        await self._call(self._db.release, claim, records, delay_s, self._clock())

    async def reject(self, claim: Claim, rejections: Sequence[tuple[QueuedRecord, str]]) -> None:
        """See `Queue.reject`."""
        await self._call(self._db.reject, claim, rejections, self._clock())

    async def extend(self, claim: Claim, lease_s: float) -> Claim:
        """See `Queue.extend`."""
        return await self._call(self._db.extend, claim, lease_s, self._clock())

    async def dead_letter_rows(self, rows: Sequence[DeadRow]) -> None:
        """See `Queue.dead_letter_rows`."""
        if rows:
            await self._call(self._db.dead_letter_rows, rows, self._clock())

    async def accounts_pending(self) -> list[str]:
        """See `Queue.accounts_pending`."""
        return await self._call(self._db.accounts_pending, self._clock())

    async def next_available_at(self, account: str) -> float | None:
        """See `Queue.next_available_at`."""
        return await self._call(self._db.next_available_at, account, self._clock())

    async def counts(self) -> QueueCounts:
        """See `Queue.counts`."""
        return await self._call(self._db.counts, self._clock())

    async def in_flight(self) -> int:
        """See `Queue.in_flight`."""
        return await self._call(self._db.in_flight, self._clock())

    async def list_dead(
        self, *, account: str | None = None, limit: int = 100, after_id: int = 0
    ) -> list[DeadLetter]:
        """See `Queue.list_dead`."""
        return await self._call(self._db.list_dead, account, limit, after_id)

    async def replay_dead(self, *, account: str | None = None) -> int:
        """See `Queue.replay_dead`."""
        return await self._call(self._db.replay_dead, account)

    async def purge_dead(self, *, before: float | None = None) -> int:
        """See `Queue.purge_dead`."""
        return await self._call(self._db.purge_dead, before, self._clock())

    async def ledger_awaiting_status(self, account: str, limit: int) -> list[LedgerRow]:
        """See `Queue.ledger_awaiting_status`."""
        return await self._call(self._db.ledger_awaiting_status, account, limit)

    async def set_ledger_status(self, batch_id: str, status: str) -> None:
        """See `Queue.set_ledger_status`."""
        await self._call(self._db.set_ledger_status, batch_id, status, self._clock())

    async def requeue_batch(self, batch_id: str) -> int:
        """See `Queue.requeue_batch`."""
        return await self._call(self._db.requeue_batch, batch_id, self._clock())

    async def prune_ledger(self, older_than: float) -> int:
        """See `Queue.prune_ledger`."""
        return await self._call(self._db.prune_ledger, older_than)
