"""KeyedLimiter on a loop clock that only the test moves (the aiolimiter way): the clock and
requests that hold their slots until the test ends them.

Times are multiples of 1/64 s and windows whole seconds, so every sum is exact in binary
floating point and "exactly W after the response" can be asserted with `==`.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from uploader.registry.limiter import Key, KeyedLimiter, Policy
from uploader.registry.ratespec import RateSpec

START = 1000.0
TICK = 1 / 64


class Clock:
    """The patched `loop.time`: it moves only when the test says so."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now

    async def to(self, when: float) -> None:
        """Move to `when` and run the loop until the timers due by then have fired."""
        self.now = when
        await settle()

    async def by(self, seconds: float) -> None:
        """Move forward by `seconds` and let due timers fire."""
        await self.to(self.now + seconds)


async def settle(rounds: int = 12) -> None:
    """Run the loop a few iterations: enough for a timer, a wake-up and a release chain."""
    for _ in range(rounds):
        await asyncio.sleep(0)


def make_limiter(
    account: str = "2/1s", ip: str = "100/1s", counts: Literal["any", "success"] = "any"
) -> KeyedLimiter:
    """A limiter with an account policy and an IP policy."""
    return KeyedLimiter(
        {
            "account": Policy(RateSpec.parse(account), counts),
            "ip": Policy(RateSpec.parse(ip)),
        }
    )


class Request:
    """A request that holds its slots until the test finishes it."""

    def __init__(
        self, limiter: KeyedLimiter, *keys: Key, refund: bool = False, fail: bool = False
    ) -> None:
        self.started: float | None = None
        self.entered = asyncio.Event()  # set with `started`: it may take a journal's write
        self.finish = asyncio.Event()
        self._refund = refund
        self._fail = fail
        self.task = asyncio.create_task(self._run(limiter, keys))

    async def _run(self, limiter: KeyedLimiter, keys: tuple[Key, ...]) -> None:
        async with limiter.slot(*keys) as slot:
            self.started = asyncio.get_running_loop().time()
            self.entered.set()
            await self.finish.wait()
            if self._refund:
                slot.refund()
            if self._fail:
                raise ConnectionResetError("the request failed")

    async def end(self) -> None:
        """Let the response arrive now."""
        self.finish.set()
        await settle()


async def start(limiter: KeyedLimiter, *keys: Key, **kw: Any) -> Request:
    """Start a request and let it try to take its slots."""
    request = Request(limiter, *keys, **kw)
    await settle()
    return request


async def cancel_all(requests: list[Request]) -> None:
    """Cancel whatever is left so no task outlives the test."""
    for request in requests:
        request.task.cancel()
    await asyncio.gather(*(r.task for r in requests), return_exceptions=True)
