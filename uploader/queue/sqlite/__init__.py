"""The embedded default backend: one SQLite file in WAL mode, owned by one worker thread.

Every call runs on a single-thread executor that owns the connection, so nothing blocks the
event loop and the connection is never shared between threads. Several processes may open
the same file (an `enqueue` while `run` drains): SQLite's locks serialise their transactions;
one of them at a time serves its accounts (`runner`). Its files are created 0600.
`memory:` is the same queue on SQLite's `:memory:` database (`InMemoryQueue`).

Modules: `connection` (schema, transactions, lease plumbing), `records` (the record flow),
`books` (dead letters, ledger, reads), `runner` (the runner's lock), and `queries.sql`; the
queue holds one of each.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal, NamedTuple, Self, TypeVar

from uploader.errors import ConfigError, QueueError
from uploader.queue.base import Queue
from uploader.queue.leases import LocalLeases
from uploader.queue.schemes import sqlite_path
from uploader.queue.slots import SlotRow
from uploader.queue.sqlite.books import Books
from uploader.queue.sqlite.connection import MEMORY, Connection
from uploader.queue.sqlite.records import Records
from uploader.queue.sqlite.runner import FILE_MODE, RunnerLock, lock_path, runner_alive
from uploader.queue.types import (
    AccountCounts,
    Claim,
    DeadLetter,
    DeadRow,
    EnqueueRow,
    LeaseChange,
    LedgerRow,
    QueuedRecord,
    Requeued,
    Scope,
    StoredRecord,
)

__all__ = ["InMemoryQueue", "SQLiteQueue"]

T = TypeVar("T")

# FULL: a commit is on disk before enqueue or ack returns. Commits are batched (a chunk of
# an input file, a 3000-record claim), so it costs little; see docs/benchmarks.md.
DEFAULT_SYNCHRONOUS: Literal["NORMAL", "FULL"] = "FULL"
BUSY_TIMEOUT_S = 30.0  # how long a transaction waits for another process's lock


class Store(NamedTuple):
    """An open database and the two halves of the storage working on it."""

    conn: Connection
    records: Records
    books: Books


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
        super().__init__(clock=clock)
        self.path = Path(path)
        self._synchronous = synchronous
        self._busy_timeout_s = busy_timeout_s
        self._executor: ThreadPoolExecutor | None = None
        self._opened: Store | None = None
        self._runner: RunnerLock | None = None

    @classmethod
    def from_url(cls, url: str, *, clock: Callable[[], float] = time.time) -> Self:
        """`sqlite:relative/path.db` or `sqlite:///absolute/path.db` (see `sqlite_path`)."""
        return cls(sqlite_path(url), clock=clock)

    def __repr__(self) -> str:
        return f"<SQLiteQueue path={str(self.path)!r} open={self._opened is not None}>"

    def account_leases(self, accounts: Sequence[str]) -> LocalLeases:
        """One `uploader run` serves every account of a local queue: a file's runner holds
        its lock (`RunnerLock`), and frees the claims of the runners that died before it."""
        if self._in_memory:
            return LocalLeases(accounts)
        self._runner = RunnerLock(accounts, self.path, self._free_claims)
        return self._runner

    @property
    def _in_memory(self) -> bool:
        return str(self.path) == MEMORY

    async def _free_claims(self) -> int:
        return await self._call(self._store.records.free_claims)

    @property
    def _is_runner(self) -> bool:
        """Whether this queue holds its file's runner lock."""
        return self._runner is not None and self._runner.locked

    async def _claims_orphaned(self) -> bool:
        """Whether the runner's claims in the file are a dead one's (no process holds the
        lock); claims made without the lock run out as any lease."""
        if self._in_memory or self._is_runner:
            return False
        return not await self._call(runner_alive, lock_path(self.path))

    async def open(self) -> None:
        """Start the thread and open (or create) the database."""
        if self._opened is not None:
            return
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="uploader-sqlite")
        try:
            self._opened = await self._call(self._connect)
        except BaseException:
            self._executor.shutdown(wait=False)
            self._executor = None
            raise

    def _connect(self) -> Store:
        if not self._in_memory:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                _create_private(self.path)
            except OSError as exc:
                raise QueueError(f"cannot create {exc.filename}: {exc.strerror}") from None
        conn = Connection(
            str(self.path), synchronous=self._synchronous, busy_timeout_s=self._busy_timeout_s
        )
        return Store(conn, Records(conn), Books(conn))

    async def close(self) -> None:
        """Close the database and stop the thread."""
        store, executor = self._opened, self._executor
        self._opened = self._executor = None
        if store is not None and executor is not None:
            await asyncio.get_running_loop().run_in_executor(executor, store.conn.close)
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
    def _store(self) -> Store:
        if self._opened is None:
            raise QueueError("the queue is not open")
        return self._opened

    # -- storage: each call one transaction on the thread ---------------------------------

    async def _enqueue(self, rows: Iterable[EnqueueRow], now: float) -> int:
        return await self._call(self._store.records.enqueue, rows, now)

    async def _claim(
        self, account: str, limit: int, scope: Scope, now: float, until: float
    ) -> tuple[str, list[QueuedRecord]] | None:
        records, runner = self._store.records, self._is_runner
        return await self._call(records.claim, account, limit, scope, now, until, runner)

    async def _change_lease(
        self, claim: Claim, records: Sequence[QueuedRecord], change: LeaseChange
    ) -> bool:
        return await self._call(self._store.records.change_lease, claim, records, change)

    async def _requeue_batch(
        self, batch_id: str, now: float, dead_at: int, reason: str
    ) -> Requeued:
        records = self._store.records
        return await self._call(records.requeue_batch, batch_id, now, dead_at, reason)

    async def _dead_letter_rows(self, rows: Sequence[DeadRow], now: float) -> None:
        await self._call(self._store.books.dead_letter_rows, rows, now)

    async def _list_dead(self, account: str | None, limit: int, after_id: int) -> list[DeadLetter]:
        return await self._call(self._store.books.list_dead, account, limit, after_id)

    async def _replay_dead(self, account: str | None) -> int:
        return await self._call(self._store.books.replay_dead, account)

    async def _purge_dead(self, before: float | None, now: float) -> int:
        return await self._call(self._store.books.purge_dead, before, now)

    async def _availability(self, now: float) -> dict[str, float]:
        return await self._call(self._store.books.availability, now)

    async def _drained(self, account: str) -> bool:
        return await self._call(self._store.books.drained, account)

    async def _known_days(self, account: str, remote_inv_id: str, year: int) -> dict[str, str]:
        return await self._call(self._store.books.known_days, account, remote_inv_id, year)

    async def _in_flight(self, now: float) -> int:
        return await self._call(self._store.books.in_flight, now)

    async def _counts(self, now: float) -> tuple[dict[str, AccountCounts], int]:
        orphaned = await self._claims_orphaned()
        return await self._call(self._store.books.counts, now, orphaned)

    async def _ledger_awaiting(self, account: str, limit: int) -> list[LedgerRow]:
        return await self._call(self._store.books.ledger_awaiting, account, limit)

    async def _set_ledger_status(
        self, batch_id: str, status: str, now: float, confirms: bool
    ) -> None:
        await self._call(self._store.books.set_ledger_status, batch_id, status, now, confirms)

    async def _prune_ledger(self, older_than: float) -> int:
        return await self._call(self._store.books.prune_ledger, older_than)

    # -- delivery read back ----------------------------------------------------------------

    async def _records_between(
        self,
        account: str,
        first: str,
        last: str,
        inverter: str | None,
        cursor: str,
        limit: int,
        now: float,
    ) -> tuple[list[StoredRecord], str | None]:
        books, span = self._store.books, (first, last)
        return await self._call(books.records_between, account, span, inverter, cursor, limit, now)

    async def _requeue(self, account: str, refs: list[tuple[int, int]], now: float) -> int:
        return await self._call(self._store.records.requeue, account, refs, now)

    async def _awaiting_items(self, account: str) -> list[tuple[int, int]]:
        return await self._call(self._store.books.awaiting_items, account)

    async def _deadlines(self, today: int, cutoff: int) -> dict[str, tuple[int, int, int | None]]:
        return await self._call(self._store.books.deadlines, today, cutoff)

    async def _record_slots(self, rows: Sequence[tuple[str, str, str, float]], now: float) -> None:
        await self._call(self._store.books.record_slots, rows, now)

    async def _recent_slots(self, owners: Sequence[str], now: float) -> list[SlotRow]:
        return await self._call(self._store.books.recent_slots, owners, now)


def _create_private(path: Path) -> None:
    """Create the database file readable by its owner only: SQLite gives its WAL and
    shared-memory files the database's mode, and would create it 0644 itself."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))


class InMemoryQueue(SQLiteQueue):
    """The SQLite queue on a `:memory:` database: the same rules and SQL, nothing durable.

    Each queue is its own database; closing it forgets everything.
    """

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        super().__init__(MEMORY, clock=clock)

    @classmethod
    def from_url(cls, url: str, *, clock: Callable[[], float] = time.time) -> Self:
        """`memory:` and nothing more."""
        if url != "memory:":
            raise ConfigError(f"queue: {url!r}: an in-memory queue is written memory: alone")
        return cls(clock=clock)

    def __repr__(self) -> str:
        return f"<InMemoryQueue open={self._opened is not None}>"
