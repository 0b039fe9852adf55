"""Replicas sharing one Redis queue's accounts: membership, assignment, leases with fencing.

Why accounts are leased at all is in `uploader.queue.leases`. Every replica may be configured
with every account; the live replicas divide them (the protocol, as docs/decisions.md states
it):

- Membership: every BEAT_S a replica runs one script that renews its entry in `P:members`
  (live until the server's clock passes now + TTL_S), forgets the entries that ran out, and
  returns the live members with their accounts, the owners of its accounts and the queue's
  identity. Liveness is the server's clock: the replicas' may differ.
- Assignment: `assign` over the live members; every replica computes the same owners.
- Leases: `P:owners` maps an account to "<replica> <epoch>". A replica takes an account
  assigned to it when the lease is free, its holder is no longer live, or it is its own; the
  take frees at once every claim made under an earlier lease of the account. Renewal is the
  heartbeat itself. A claim names its lease's token and the script refuses it unless that
  token is the account's lease and its holder is live (fencing): a replica that froze claims
  nothing when it wakes.
- Proof: a heartbeat sent at T (this process's monotonic clock) proves the leases until
  T + TTL_S - MARGIN_S, before any other replica may take them; past that moment without a
  newer heartbeat the replica stops sending (a timer, not the next heartbeat, which may hang).
- Hand-off: an account assigned to another live replica is `handing_off()`; the service stops
  claiming, lets what is in flight finish, and `release`s it; the new owner takes it at its
  next heartbeat.
- The identity: a heartbeat that finds `P:identity` gone or changed means the server lost the
  queue; the replica stops sending, leaves the fleet, and says so (`backend.data_lost`).

A dead replica's accounts are served again within TTL_S + BEAT_S (its entry runs out, then the
next heartbeat of their new owner takes them); a replica that leaves (SIGTERM) gives them back
as it goes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import msgspec
import structlog

from uploader.errors import QueueError
from uploader.queue.leases import AccountLeases, assign

if TYPE_CHECKING:
    from uploader.queue.redis.connection import RedisConnection

__all__ = ["BEAT_S", "MARGIN_S", "TTL_S", "RedisLeases"]

log = structlog.get_logger("uploader.replicas")

TTL_S = 6.0  # a replica that stops renewing is dead for the others after this (seconds)
BEAT_S = 2.0  # seconds between heartbeats: three per time to live
MARGIN_S = 1.0  # a replica stops sending this long before the others may take over (seconds)

_accounts = msgspec.json.Decoder(list[str]).decode


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode()


def holder_of(token: str) -> str:
    """The replica of a lease's token ("<replica> <epoch>")."""
    return token.rpartition(" ")[0]


class RedisLeases(AccountLeases):
    """This replica's share of a Redis queue's accounts (see the module docstring).

    `ttl_s` and `beat_s` default to the module's constants, read when made (tests shorten
    them).
    """

    def __init__(
        self,
        connection: RedisConnection,
        accounts: Sequence[str],
        *,
        ttl_s: float | None = None,
        beat_s: float | None = None,
        holder: str | None = None,
    ) -> None:
        super().__init__(accounts, holder=holder)
        self._connection = connection
        self._ttl_s = TTL_S if ttl_s is None else ttl_s
        self._beat_s = BEAT_S if beat_s is None else beat_s
        self._margin_s = min(MARGIN_S, self._ttl_s / 4)
        self._tokens: dict[str, str] = {}  # held account -> its lease's token
        self._owners: dict[str, str] = {}  # account -> the replica assigned to serve it
        self._members = 0
        self._proven_until = 0.0  # loop time
        self._lapse: asyncio.TimerHandle | None = None
        self._beater: asyncio.Task[None] | None = None

    # -- what the service reads ------------------------------------------------------------

    def held(self) -> frozenset[str]:
        return frozenset(self._tokens) if self._proven else frozenset()

    def handing_off(self) -> frozenset[str]:
        return frozenset(a for a in self.held() if self._owners.get(a, self.holder) != self.holder)

    def provable(self, account: str) -> bool:
        return self._proven and account in self._tokens

    def replicas(self) -> int:
        return self._members

    def token(self, account: str) -> str | None:
        """The token the queue's claims for `account` carry (None: not held)."""
        return self._tokens.get(account) if self._proven else None

    @property
    def _proven(self) -> bool:
        return asyncio.get_running_loop().time() < self._proven_until

    # -- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self._beat(asyncio.get_running_loop().time())
        self._beater = asyncio.create_task(self._beat_forever(), name="fleet-heartbeat")
        log.info("joined the fleet", holder=self.holder, replicas=self._members,
                 accounts=sorted(self._tokens))  # fmt: skip
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._beater is not None:
            self._beater.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._beater
        await self._leave()

    async def release(self, account: str) -> None:
        """Give the lease back (a hand-off); QueueError leaves it held, to be tried again."""
        token = self._tokens.get(account)
        if token is None:
            return
        await self._connection.run("give_back", self.holder, 0, account, token)
        self._tokens.pop(account, None)
        log.info("account handed off", account=account, to=self._owners.get(account))
        self.changed.set()

    async def _leave(self) -> None:
        """Give every lease back and leave the fleet, so the others take over at once."""
        if self._lapse is not None:
            self._lapse.cancel()
        pairs = [part for account, token in self._tokens.items() for part in (account, token)]
        self._tokens.clear()
        with contextlib.suppress(Exception):  # unreachable: the entry and leases run out
            async with asyncio.timeout(self._beat_s):
                await self._connection.run("give_back", self.holder, 1, *pairs)

    # -- the heartbeat ---------------------------------------------------------------------

    async def _beat_forever(self) -> None:
        loop = asyncio.get_running_loop()
        this = asyncio.current_task()
        # A cancellation that lands inside a Redis call can be lost there (redis-py), so the
        # loop asks whether one was requested.
        while self.backend.data_lost is None and not (this and this.cancelling()):
            started = loop.time()
            try:
                # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation
                # that arrives as the beat completes, and the loop would beat on after exit.
                async with asyncio.timeout(self._beat_s):
                    await self._beat(started)
            except Exception as exc:  # whatever kept it from Redis: not renewed
                self.backend.unreachable(str(exc) or type(exc).__name__)
            self.changed.set()
            await asyncio.sleep(max(0.0, started + self._beat_s - loop.time()))
        if self.backend.data_lost is not None:
            await self._leave()

    async def _beat(self, started: float) -> None:
        """One heartbeat sent at `started` (loop time), and the takes it calls for."""
        ttl_ms = round(self._ttl_s * 1000)
        mine = msgspec.json.encode(self.accounts).decode()
        reply = await self._connection.run("heartbeat", self.holder, ttl_ms, mine, *self.accounts)
        identity, members, owners = reply
        self.backend.reachable()
        if _text(identity) != self._connection.identity:
            self._lose_data(identity)
            return
        self._prove(started + self._ttl_s - self._margin_s)
        live = {m.decode(): _accounts(a) for m, a in zip(members[::2], members[1::2], strict=True)}
        current = dict(zip(self.accounts, map(_text, owners), strict=True))
        self._track(live, current)
        wanted = sorted(self._wanted(current, live))
        if wanted:
            await self._take(wanted, current)

    def _track(self, live: dict[str, list[str]], current: dict[str, str | None]) -> None:
        """Forget leases another replica holds now; follow the assignment."""
        for account, token in list(self._tokens.items()):
            if current[account] != token:
                del self._tokens[account]
                now = current[account]
                log.error("account lease taken over: stopped sending", account=account,
                          holder=now and holder_of(now))  # fmt: skip
        owners = assign(live)
        if owners != self._owners or len(live) != self._members:
            mine = sorted(a for a, m in owners.items() if m == self.holder)
            log.info("fleet changed", replicas=len(live), assigned=mine)
        self._owners, self._members = owners, len(live)

    def _wanted(self, current: dict[str, str | None], live: dict[str, Any]) -> set[str]:
        """Accounts assigned here, not held yet, whose lease is free, dead or this one's."""
        wanted = set()
        for account, owner in self._owners.items():
            if owner != self.holder or account in self._tokens:
                continue
            token = current.get(account)
            if token is None or holder_of(token) == self.holder or holder_of(token) not in live:
                wanted.add(account)
        return wanted

    async def _take(self, accounts: list[str], current: dict[str, str | None]) -> None:
        """One script takes the leases it can; the others are tried at the next beat."""
        replies = await self._connection.run("acquire", self.holder, *accounts)
        for account, (taken, value, *freed) in zip(accounts, replies, strict=True):
            if not taken:
                continue  # another took it first, or this replica is not live
            self._tokens[account] = value.decode()
            before = current[account]
            log.info("account taken", account=account, token=self._tokens[account],
                     previous=before and holder_of(before), claims_freed=int(freed[0]))  # fmt: skip

    def _prove(self, until: float) -> None:
        """The leases held are proven until `until` (loop time); a timer stops them then."""
        self._proven_until = until
        if self._lapse is not None:
            self._lapse.cancel()
        self._lapse = asyncio.get_running_loop().call_at(until, self._lapsed)

    def _lapsed(self) -> None:
        if self._tokens:
            log.error("account leases can no longer be proven: stopped sending",
                      accounts=sorted(self._tokens))  # fmt: skip
        self._tokens.clear()  # taken again (their claims freed) once a heartbeat gets through
        self.changed.set()

    def _lose_data(self, identity: bytes | None) -> None:
        reason = (
            "the queue's identity key is gone (the Redis server lost its data?)"
            if identity is None
            else "the queue's identity key changed (the Redis server lost its data?)"
        )
        self.backend.lost(reason)
        self._tokens.clear()
        self.changed.set()


def not_held(account: str) -> QueueError:
    """The error of a claim for an account this replica does not hold."""
    return QueueError(f"account {account} is not leased to this replica")
