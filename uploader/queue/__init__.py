"""The durable queue: one interface, a backend chosen by URL (the table is `schemes.SCHEMES`).

- `memory:` an SQLite queue in memory (tests, the Python API; nothing survives the process)
- `sqlite:relative/path.db`, `sqlite:///absolute/path.db` the embedded default
- `redis://[user:password@]host:port/db[?prefix=NAME]` (or `rediss://`, TLS) one queue shared
  by several replicas, which divide its accounts; keys under `NAME:` (default `uploader:`);
  `&durability=none` accepts a server that keeps nothing on disk; needs the `redis` extra

Layout: `base` states the rules once (`Queue`), `types` holds the values it hands out,
`leases` who may serve which accounts; each backend is a sub-package (`sqlite`, `redis`) with
its storage mechanics beside its SQL or Lua. Importing this package loads neither sqlite3 nor
redis-py: a backend is imported when a queue of its scheme is made (`InMemoryQueue` on first
use of the name).
"""

import importlib as _importlib
import typing as _typing

from uploader.queue.base import Queue
from uploader.queue.schemes import open_queue, sqlite_path
from uploader.queue.types import (
    AccountCounts,
    Claim,
    DeadLetter,
    DeadlineCounts,
    DeadRow,
    EnqueueResult,
    FlagCounts,
    LedgerEntry,
    LedgerRow,
    QueueCounts,
    QueuedRecord,
    RecordState,
    Requeued,
    StoredRecord,
)

if _typing.TYPE_CHECKING:
    from uploader.queue.sqlite import InMemoryQueue

_LAZY = {"InMemoryQueue": "uploader.queue.sqlite"}  # sqlite3 only when used

__all__ = [
    "AccountCounts",
    "Claim",
    "DeadLetter",
    "DeadRow",
    "DeadlineCounts",
    "EnqueueResult",
    "FlagCounts",
    "InMemoryQueue",
    "LedgerEntry",
    "LedgerRow",
    "Queue",
    "QueueCounts",
    "QueuedRecord",
    "RecordState",
    "Requeued",
    "StoredRecord",
    "open_queue",
    "sqlite_path",
]


def __getattr__(name: str) -> _typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(_importlib.import_module(module), name)
