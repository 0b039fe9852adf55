"""The queue URL schemes: one table, read by `open_queue` and by the configuration's check.

Importing this module loads no backend: a backend's module (and sqlite3 or redis-py with it)
is imported when a queue of its scheme is made.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from uploader.errors import ConfigError

if TYPE_CHECKING:
    from uploader.queue.base import Queue

__all__ = ["SCHEMES", "Scheme", "open_queue", "scheme_of", "sqlite_path", "url_forms"]


class Scheme(NamedTuple):
    """A kind of queue URL and the backend that opens it."""

    prefix: str  # how its URLs start
    form: str  # how its URLs are written, for messages
    backend: str  # "module:Class", imported on use; the class has `from_url(url, clock=...)`
    description: str
    hosts: bool = False  # processes on several hosts share it (replicas, `limits.ip_shared`)


SCHEMES: dict[str, Scheme] = {
    "memory": Scheme(
        "memory:",
        "memory:",
        "uploader.queue.sqlite:InMemoryQueue",
        "an SQLite queue in memory (tests, the Python API; nothing survives the process)",
    ),
    "sqlite": Scheme(
        "sqlite:",
        "sqlite:PATH, sqlite:///ABS",
        "uploader.queue.sqlite:SQLiteQueue",
        "the embedded default: one SQLite file, relative to the working directory or absolute",
    ),
    "redis": Scheme(
        "redis://",
        "redis://…",
        "uploader.queue.redis:RedisQueue",
        "one queue several replicas share: redis://[user:password@]host:port/db[?prefix=NAME]",
        hosts=True,
    ),
    "rediss": Scheme(
        "rediss://",
        "rediss://…",
        "uploader.queue.redis:RedisQueue",
        "the same over TLS",
        hosts=True,
    ),
}


def scheme_of(url: str) -> Scheme | None:
    """The scheme a URL is written in, or None."""
    scheme = SCHEMES.get(url.partition(":")[0])
    return scheme if scheme is not None and url.startswith(scheme.prefix) else None


def url_forms() -> str:
    """Every scheme's form, for messages: "memory:, sqlite:PATH, … or rediss://…"."""
    forms = [scheme.form for scheme in SCHEMES.values()]
    return f"{', '.join(forms[:-1])} or {forms[-1]}"


def open_queue(url: str, *, clock: Callable[[], float] = time.time) -> Queue:
    """The queue a URL names, not yet open (use it as an async context manager)."""
    scheme = scheme_of(url)
    if scheme is None:
        raise ConfigError(f"queue: {url!r} is not {url_forms()}")
    module, _, name = scheme.backend.partition(":")
    backend: type[Queue] = getattr(importlib.import_module(module), name)
    return backend.from_url(url, clock=clock)


def sqlite_path(url: str) -> str:
    """The file of a `sqlite:` URL: `sqlite:///abs/q.db` (or `sqlite:/abs/q.db`) is absolute,
    `sqlite:rel/q.db` relative to the working directory; `sqlite://x` names no file."""
    rest = url.removeprefix("sqlite:")
    if rest.startswith("///"):
        return rest[2:]
    if rest.startswith("//") or not rest:
        raise ConfigError(
            f"queue: {url!r}: write sqlite:relative/path.db or sqlite:///absolute/path.db"
        )
    return rest
