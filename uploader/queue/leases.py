"""Account leases: which process may serve which accounts of a queue.

The limiter keeps each account's budget in the process (a slot frees one window after the
response, which needs the exact response times), so two processes sending for one account
would each spend the whole budget and draw 429s. `uploader run` therefore holds the leases of
its accounts while it serves them, through `Queue.account_leases`: each backend says how its
processes share accounts. A queue that several hosts share (Redis) leases them there; a local
one hands out `LocalLeases`: for an SQLite file, its runner's lock (one runner per file, see
`uploader.queue.sqlite.runner`); for memory, nothing.

Entering the leases takes them or raises ConfigError naming the holder; `lost` is set when
they are lost while serving (the holder must stop taking work).
"""

from __future__ import annotations

import abc
import asyncio
import os
import socket
import uuid
from collections.abc import Sequence
from types import TracebackType
from typing import Self

__all__ = ["AccountLeases", "LocalLeases", "replica_id"]


def replica_id() -> str:
    """This process's id as other replicas see it: host, pid and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class AccountLeases(abc.ABC):
    """The leases of one process's accounts; an async context manager around serving them."""

    def __init__(self, accounts: Sequence[str], *, holder: str | None = None) -> None:
        self.holder = holder or replica_id()
        self.accounts = tuple(accounts)
        self.lost = asyncio.Event()

    def __repr__(self) -> str:
        state = "lost" if self.lost.is_set() else "held"
        name = type(self).__name__
        return f"<{name} holder={self.holder!r} accounts={len(self.accounts)} {state}>"

    @abc.abstractmethod
    async def __aenter__(self) -> Self:
        """Take the leases, all or none; ConfigError when another process holds one."""

    @abc.abstractmethod
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Give back what is still held."""


class LocalLeases(AccountLeases):
    """One process serves every account of this queue; nothing to share.

    The leases of a queue only this host's processes open: entering takes nothing, and they
    are never lost.
    """

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None
