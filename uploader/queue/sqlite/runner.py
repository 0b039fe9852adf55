"""One runner per SQLite queue file: an OS lock that `uploader run` holds while it serves.

Two runners on one file would each spend every account's whole budget (the limiter keeps it in
the process) and draw 429s; a runner killed mid-push leaves claims that no one will settle
until their leases run out. The lock is `flock` on `FILE.lock` beside the database, holding the
holder's pid: the kernel drops it when its process dies, however it dies. So the runner that
takes it knows every claim in the file belongs to a dead runner and returns those records to
pending at once, and another process (`uploader status`) tells a live runner's claims from a
dead one's by trying the lock. `memory:` needs none: nothing else can open its database.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

import structlog

from uploader.errors import ConfigError, QueueError
from uploader.queue.leases import LocalLeases

__all__ = ["FILE_MODE", "RunnerLock", "lock_path", "runner_alive"]

log = structlog.get_logger("uploader.queue")

FILE_MODE = 0o600  # queue files hold generation data and raw dead-letter rows
# A `status` that probes the lock holds it (shared) for microseconds: a runner starting in
# that moment tries again before it concludes another runner holds the file.
TRIES = 20
PAUSE_S = 0.05


def lock_path(database: Path) -> Path:
    """The lock file of a queue database: `FILE.lock` beside it."""
    return database.with_name(database.name + ".lock")


def runner_alive(lock: Path) -> bool:
    """Whether a runner holds the lock now (a shared lock is refused while one does)."""
    try:
        fd = os.open(lock, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


class RunnerLock(LocalLeases):
    """The one runner of a queue file: every account, held while the lock is.

    Entering takes the lock or raises ConfigError naming the holder's pid, then calls
    `on_taken` (the queue returns every claim in the file to pending); leaving lets it go.
    """

    def __init__(
        self,
        accounts: Sequence[str],
        database: Path,
        on_taken: Callable[[], Awaitable[int]],
    ) -> None:
        super().__init__(accounts)
        self.database = database
        self.path = lock_path(database)
        self._on_taken = on_taken
        self._fd: int | None = None

    @property
    def locked(self) -> bool:
        """Whether this process holds the lock through these leases."""
        return self._fd is not None

    async def __aenter__(self) -> Self:
        holder = ""
        for attempt in range(TRIES):
            if attempt:
                await asyncio.sleep(PAUSE_S)
            self._fd, holder = await asyncio.to_thread(_take, self.path)
            if self._fd is not None:
                break
        else:
            raise ConfigError(
                f"queue: another `uploader run` (pid {holder or 'unknown'}) serves "
                f"{self.database}; one runner per SQLite queue file (stop that one, or share "
                "accounts between replicas through a Redis queue)"
            )
        try:
            freed = await self._on_taken()
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        if freed:
            log.warning("records claimed by a runner that died are pending again", records=freed)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # the lock goes with the descriptor


def _take(lock: Path) -> tuple[int | None, str]:
    """Lock the file and write this pid into it: the descriptor, or None and the holder."""
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, FILE_MODE)
    except OSError as exc:
        raise QueueError(f"cannot open the runner lock {lock}: {exc.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        with contextlib.closing(os.fdopen(fd)) as file:
            return None, file.read().strip()
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd, ""
