"""Account leases: which process serves which accounts of a queue, and since when it may not.

The limiter keeps each account's budget in the process (a slot frees one window after the
response, which needs the exact response times), so two processes sending for one account
would each spend the whole budget and draw 429s. `uploader run` therefore serves only the
accounts its leases hold, through `Queue.account_leases`; each backend says how its processes
share them. A local queue hands out `LocalLeases`: every account, always (an SQLite file's
are its runner's lock, one runner per file, see `uploader.queue.sqlite.runner`; memory needs
nothing). A queue that several hosts share divides the accounts among its live replicas
(Redis: `uploader.queue.redis.leases`): every replica may be configured with every account,
`assign` says which live replica serves which, and the set a replica holds changes as others
join, leave or die.

What the service reads is the same for every backend: `held()` (serve these now),
`handing_off()` (held, but assigned to another replica: stop claiming, let what is in flight
finish, then `release`), `provable(account)` (checked before each request: a replica that
can no longer prove a lease sends nothing for it) and `changed` (set when any of it may have
changed). `backend` says whether the storage answers and still holds the queue it opened.
"""

from __future__ import annotations

import abc
import asyncio
import hashlib
import os
import socket
import uuid
from collections.abc import Collection, Mapping, Sequence
from types import TracebackType
from typing import Self

import structlog

__all__ = ["AccountLeases", "Backend", "LocalLeases", "assign", "replica_id"]

log = structlog.get_logger("uploader.replicas")


def replica_id() -> str:
    """This process's id as other replicas see it: host, pid and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _weight(replica: str, account: str) -> int:
    digest = hashlib.blake2b(f"{replica}\0{account}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def assign(members: Mapping[str, Collection[str]]) -> dict[str, str]:
    """Account -> the live replica that serves it, from each live replica's accounts.

    Rendezvous (highest random weight) hashing with bounded loads: every (replica, account)
    pair has a weight from a hash of both; taking the pairs heaviest first, an account goes to
    the replica of its first pair that still has room, room being floor(accounts / replicas)
    each, one more for as many replicas as the division leaves over (an account none of whose
    replicas has room, when replicas differ in their accounts: to its heaviest). Every replica
    computes the same answer from the same members, with no coordinator; shares differ by one
    at most when the replicas have the same accounts, and a join or a death moves few
    accounts besides those that must move.
    """
    accounts = sorted({a for served in members.values() for a in served})
    if not accounts:
        return {}
    floor, extra = divmod(len(accounts), len(members))
    pairs = sorted(
        ((_weight(m, a), m, a) for m, served in members.items() for a in served), reverse=True
    )
    load = dict.fromkeys(members, 0)
    owners: dict[str, str] = {}
    for _, member, account in pairs:
        if account in owners:
            continue
        if load[member] < floor or (load[member] == floor and extra > 0):
            extra -= load[member] == floor
            load[member] += 1
            owners[account] = member
    for _, member, account in pairs:  # heaviest first: each unplaced account's heaviest
        owners.setdefault(account, member)
    return owners


class Backend:
    """Whether the queue's storage answers, and still holds the queue it opened.

    Transitions are logged once each; `/readyz` and the metrics read the state.
    """

    def __init__(self) -> None:
        self.up = True
        self.error: str | None = None  # why it is down
        self.data_lost: str | None = None  # set once: the data this process served vanished

    @property
    def ready(self) -> bool:
        """Answers, and holds what it held."""
        return self.up and self.data_lost is None

    @property
    def reason(self) -> str:
        """Why it is not ready ('' when it is)."""
        if self.data_lost is not None:
            return f"queue data lost: {self.data_lost}"
        return "" if self.up else f"queue unavailable: {self.error}"

    def reachable(self) -> None:
        """An operation succeeded."""
        if not self.up:
            log.warning("queue backend reachable again")
        self.up, self.error = True, None

    def unreachable(self, error: str) -> None:
        """An operation failed for want of the backend."""
        if self.up:
            log.error("queue backend unreachable: not sending until it is back", error=error)
        self.up, self.error = False, error

    def lost(self, reason: str) -> None:
        """The storage no longer holds the queue (a server restarted empty): stop for good."""
        if self.data_lost is None:
            log.error(
                "queue data lost: not sending; restart once the cause is known", reason=reason
            )
        self.data_lost = reason


class AccountLeases(abc.ABC):
    """The leases of one process's accounts; an async context manager around serving them."""

    def __init__(self, accounts: Sequence[str], *, holder: str | None = None) -> None:
        self.holder = holder or replica_id()
        self.accounts = tuple(accounts)
        self.changed = asyncio.Event()
        self.backend = Backend()

    def __repr__(self) -> str:
        name = type(self).__name__
        return (
            f"<{name} holder={self.holder!r} accounts={len(self.accounts)} held={len(self.held())}>"
        )

    @abc.abstractmethod
    def held(self) -> frozenset[str]:
        """The accounts this process may serve now."""

    def handing_off(self) -> frozenset[str]:
        """Held accounts assigned to another replica: finish what is in flight, then release."""
        return frozenset()

    def provable(self, account: str) -> bool:
        """Whether this process can still prove its lease of `account` (checked before each
        request it sends for it)."""
        return account in self.held()

    def replicas(self) -> int:
        """Live replicas sharing the accounts, this one included."""
        return 1

    async def release(self, account: str) -> None:  # noqa: B027  (local leases: nothing)
        """This process stopped serving `account` (a hand-off): give its lease back."""

    @abc.abstractmethod
    async def __aenter__(self) -> Self:
        """Take the leases this process may hold at start (ConfigError when it may not run)."""

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

    The leases of a queue only this host's processes open: every account is held from the
    start, and never lost.
    """

    def held(self) -> frozenset[str]:
        return frozenset(self.accounts)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None
