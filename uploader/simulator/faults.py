"""Injected faults (random, seedable) and scripted answers (for tests).

A fault is decided before the request is processed, so a faulted request stores nothing:
extra latency, a 503, a connection reset without an answer, or a stall long enough to
outlast a client's timeout (ended by a 504, or at once when the simulator stops).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from aiohttp import web

from uploader.simulator.options import SimOptions
from uploader.simulator.responses import envelope, error, rate_limited

RESET: Literal["reset"] = "reset"
STALL: Literal["stall"] = "stall"
PROCEED = 200  # a scripted 200 means "process the request normally"
RESET_MARK = web.RequestKey("sim_reset", bool)  # set when the connection was reset

Answer = int | Literal["reset", "stall"]


@dataclass(frozen=True, slots=True)
class Step:
    """One scripted answer: a status, `reset` or `stall`; 429s carry Retry-After."""

    answer: Answer
    retry_after_s: int = 1


class Faults:
    """Random faults drawn from the options, and the answers that carry them out."""

    def __init__(self, options: SimOptions, rng: random.Random, closing: asyncio.Event) -> None:
        self.options = options
        self._rng = rng
        self._closing = closing

    def draw(self) -> Answer | None:
        """Which fault, if any, hits the next request."""
        o = self.options
        if not (o.fail_rate or o.reset_rate or o.timeout_rate):
            return None
        roll = self._rng.random()
        for answer, rate in ((503, o.fail_rate), (RESET, o.reset_rate), (STALL, o.timeout_rate)):
            if roll < rate:
                return answer
            roll -= rate
        return None

    async def delay(self) -> None:
        """The configured extra latency, uniform in [min, max] milliseconds."""
        low, high = self.options.latency_ms
        if high > 0:
            await asyncio.sleep(self._rng.uniform(low, high) / 1000)

    async def answer(self, request: web.Request, step: Step) -> web.StreamResponse:
        """Carry out a fault or a scripted answer."""
        if step.answer == RESET:
            request[RESET_MARK] = True
            if request.transport is not None:
                request.transport.abort()
            return web.Response()  # never sent: the connection is gone
        if step.answer == STALL:
            await self._stall()
            return envelope(504)
        if step.answer == 429:
            return rate_limited(step.retry_after_s)
        if step.answer >= 400:
            return error(step.answer, "Injected", "an injected fault")
        return envelope(step.answer)

    async def _stall(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), self.options.stall_s)


class Scripts:
    """Per-account queues of scripted answers, consumed one per authenticated request."""

    def __init__(self) -> None:
        self._steps: dict[str, deque[Step]] = {}

    def add(self, account: str, answers: Iterable[Answer], retry_after_s: int = 1) -> None:
        """Answer the account's next requests with these statuses (200: process normally)."""
        queue = self._steps.setdefault(account, deque())
        queue.extend(Step(answer, retry_after_s) for answer in answers)

    def next(self, account: str) -> Step | None:
        """The account's next scripted step, if any."""
        queue = self._steps.get(account)
        return queue.popleft() if queue else None

    def clear(self, account: str | None = None) -> None:
        """Forget the scripts of one account, or of all."""
        if account is None:
            self._steps.clear()
        else:
            self._steps.pop(account, None)

    def pending(self, account: str) -> int:
        """How many scripted answers the account has left."""
        return len(self._steps.get(account, ()))
