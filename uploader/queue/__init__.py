"""The durable queue: one interface, a backend chosen by URL.

- `memory:` an in-memory queue (tests, the Python API; nothing survives the process)
- `sqlite:relative/path.db`, `sqlite:///absolute/path.db` the embedded default
- `redis://[user:password@]host:port/db[?prefix=NAME]` (or `rediss://`, TLS) one queue shared
  by several replicas; keys under `NAME:` (default `uploader:`); needs the `redis` extra
"""

from __future__ import annotations

import time
from collections.abc import Callable as _Callable

from uploader.errors import ConfigError as _ConfigError
from uploader.queue.base import (
    AccountCounts,
    Claim,
    DeadLetter,
    DeadRow,
    EnqueueResult,
    FlagCounts,
    LedgerEntry,
    LedgerRow,
    Queue,
    QueueCounts,
    QueuedRecord,
)
from uploader.queue.memory import InMemoryQueue

__all__ = [
    "AccountCounts",
    "Claim",
    "DeadLetter",
    "DeadRow",
    "EnqueueResult",
    "FlagCounts",
    "InMemoryQueue",
    "LedgerEntry",
    "LedgerRow",
    "Queue",
    "QueueCounts",
    "QueuedRecord",
    "open_queue",
    "sqlite_path",
]


def sqlite_path(url: str) -> str:
    """The file of a `sqlite:` URL: `sqlite:///abs/q.db` (or `sqlite:/abs/q.db`) is absolute,
    `sqlite:rel/q.db` relative to the working directory; `sqlite://x` names no file."""
    rest = url.removeprefix("sqlite:")
    if rest.startswith("///"):
        return rest[2:]
    if rest.startswith("//") or not rest:
        raise _ConfigError(
            f"queue: {url!r}: write sqlite:relative/path.db or sqlite:///absolute/path.db"
        )
    return rest


def open_queue(url: str, *, clock: _Callable[[], float] = time.time) -> Queue:
    """The queue a URL names, not yet open (use it as an async context manager)."""
    if url == "memory:":
        return InMemoryQueue(clock=clock)
    if url.startswith("sqlite:"):
        from uploader.queue.sqlite import SQLiteQueue  # sqlite3 only when used

        return SQLiteQueue(sqlite_path(url), clock=clock)
    if url.startswith(("redis://", "rediss://")):
        from uploader.queue.redis_queue import RedisQueue  # redis-py only when used

        return RedisQueue(url, clock=clock)
    raise _ConfigError(f"queue: {url!r} is not memory:, sqlite:PATH, sqlite:///ABS or redis://…")
