"""A rate key every replica shares (`limits.ip_shared`): its slots live in the queue's Redis.

Replicas leaving through one address spend one per-IP budget at the registry. Its slots are
kept in the store (`Queue.shared_budget`: two sorted sets, two Lua scripts) under the
limiter's rule: a slot is taken atomically against what every replica holds, is in flight
until its request is answered, then cools one window. A slot whose process died counts until
the latest moment the registry may count its request (taken at + timeout + W).

A process's own requests wait first come, first served, and only the first in line asks the
store. When the budget is full the script answers when a slot may free next: the first cooling
one, or for one still in flight (answered at the soonest now) one window from now. The line
sleeps until then, one timer and no polling. A slot this process releases after a use frees
one window later, never earlier than that answer, so it need not wake the line; a slot given
back unused frees at once and does.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from typing import Protocol

import structlog

from uploader.registry.keys import Policy

__all__ = ["Budget", "SharedKey"]

log = structlog.get_logger("uploader.registry.shared")

MIN_WAIT_S = 0.001  # the shortest sleep before asking again (a free time already past)


class Budget(Protocol):
    """The store's side (`uploader.queue.slots.SharedBudget`)."""

    async def take(
        self, slot: str, now: float, until: float, limit: int, window_s: float
    ) -> float | None:
        """Take a slot: None, or the wall time one may free at."""
        ...

    async def settle(self, slots: Sequence[tuple[str, float | None]], now: float) -> None:
        """Slots answered: cooling until their time, or (None) free at once."""
        ...


Waiter = asyncio.Future[tuple[str, float]]


class SharedKey:
    """The process's side of a shared key: its line of waiters and its releases."""

    def __init__(
        self,
        budget: Budget,
        policy: Policy,
        *,
        timeout_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._budget = budget
        self._limit = policy.spec.limit
        self._window_s = policy.spec.window_s
        self.refundable = policy.counts == "success"
        self._timeout_s = timeout_s
        self._clock = clock
        self._ids = map(f"{uuid.uuid4().hex[:12]}.{{}}".format, itertools.count(1))
        self._line: deque[Waiter] = deque()
        self._server: asyncio.Task[None] | None = None
        self._nudge = asyncio.Event()  # a slot was given back unused: ask again now
        self._settles: list[tuple[str, float | None]] = []
        self._settler: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"<SharedKey {self._budget!r} waiting={self.waiting()}>"

    def waiting(self) -> int:
        """Requests of this process in line."""
        return sum(not waiter.done() for waiter in self._line)

    async def acquire(self, front: bool) -> tuple[str, float]:
        """Wait in line for a slot; its id and the wall time it was taken at."""
        waiter: Waiter = asyncio.get_running_loop().create_future()
        if front:
            self._line.appendleft(waiter)
        else:
            self._line.append(waiter)
        if self._server is None:
            self._server = asyncio.create_task(self._serve(), name="shared-budget")
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # handed a slot, then cancelled
                self.release(waiter.result()[0], used=False)
            raise

    def release(self, slot: str, used: bool) -> None:
        """The request ended: the slot cools one window from now (`used`), or is free."""
        self._settles.append((slot, self._clock() + self._window_s if used else None))
        if self._settler is None:
            self._settler = asyncio.create_task(self._settle(), name="shared-budget-settle")

    async def flush(self) -> None:
        """Settle what is still buffered (at shutdown)."""
        if self._settler is not None:
            await asyncio.shield(self._settler)

    async def _serve(self) -> None:
        try:
            while self._line:
                waiter = self._line.popleft()
                if waiter.done():  # cancelled while in line
                    continue
                self._nudge.clear()  # a slot given back from now on is seen by the sleep
                wake = await self._take(waiter)
                if wake is not None:
                    self._line.appendleft(waiter)
                    await self._sleep(wake - self._clock())
        finally:
            self._server = None

    async def _take(self, waiter: Waiter) -> float | None:
        """Ask the store for `waiter`'s slot: None when it was handed one (or failed)."""
        slot, now = next(self._ids), self._clock()
        until = now + self._timeout_s + self._window_s
        try:
            wake = await self._budget.take(slot, now, until, self._limit, self._window_s)
        except Exception as exc:
            self._fail([waiter, *self._line], exc)
            return None
        if wake is not None:
            return wake
        if waiter.done():  # cancelled while the store answered
            self.release(slot, used=False)
        else:
            waiter.set_result((slot, now))
        return None

    async def _sleep(self, delay_s: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._nudge.wait(), max(delay_s, MIN_WAIT_S))

    def _fail(self, waiters: list[Waiter], exc: Exception) -> None:
        """The store is out of reach: everyone in line fails (their requests do not leave)."""
        self._line.clear()
        for waiter in waiters:
            if not waiter.done():
                waiter.set_exception(exc)
                waiter.exception()  # retrieved here: its task may be cancelled meanwhile

    async def _settle(self) -> None:
        try:
            while self._settles:
                slots, self._settles = self._settles, []
                try:
                    await self._budget.settle(slots, self._clock())
                except Exception as exc:  # the slots count until their bound: safe, and slower
                    log.warning("shared budget not settled", error=str(exc), slots=len(slots))
                    continue
                if any(free_at is None for _, free_at in slots):
                    self._nudge.set()
        finally:
            self._settler = None
