"""A rate key's state, and what the limiter asks of a journal and of a shared key.

`KeyState` is one key's slots as `KeyedLimiter` keeps them in the process (see its module
docstring for the rule). `Journal` (`history.SlotJournal`) keeps what the slots did in the
queue's storage, so another process can take them over; `SharedSlots`
(`shared.SharedKey`) is a key whose slots live in that storage itself, shared by every replica.
The limiter knows them only by these protocols.
"""

from __future__ import annotations

import asyncio
import bisect
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from uploader.registry.ratespec import RateSpec

Key = tuple[str, str]  # (kind, name): ("account", "acme"), ("ip", "default")

# Keys of one request are acquired in this order: an account's requests queue among
# themselves first, then take the shared IP budget first come, first served. One global
# order also means two requests can never each hold what the other waits for.
_KIND_RANK = {"account": 0, "ip": 2}
_OTHER_RANK = 1


def acquire_order(key: Key) -> tuple[int, str, str]:
    """Where `key` comes in a request's acquisition order."""
    return (_KIND_RANK.get(key[0], _OTHER_RANK), key[0], key[1])


@dataclass(frozen=True, slots=True)
class Policy:
    """A rate spec for one kind of key, and what the registry counts against it."""

    spec: RateSpec
    counts: Literal["any", "success"] = "any"


class KeyState:
    """The slots of one key in this process; see `limiter`'s module docstring."""

    __slots__ = (
        "blocked_until",
        "cooling",
        "held",
        "key",
        "limit",
        "refundable",
        "timer",
        "waiters",
        "window_s",
    )

    def __init__(self, key: Key, policy: Policy) -> None:
        self.key = key
        self.limit = policy.spec.limit
        self.window_s = policy.spec.window_s
        self.refundable = policy.counts == "success"
        self.held = 0
        self.cooling: deque[float] = deque()
        self.blocked_until = float("-inf")
        self.waiters: deque[asyncio.Future[None]] = deque()
        self.timer: asyncio.TimerHandle | None = None

    def free(self, now: float) -> int:
        """Slots usable at `now`, ignoring the floor; drops cooled entries as it goes."""
        cooling = self.cooling
        while cooling and cooling[0] <= now:
            cooling.popleft()
        return self.limit - self.held - len(cooling)

    def cool_until(self, when: float) -> None:
        """A used slot frees at `when`: `cooling` stays in order (a slot seeded from another
        process may free later than the key's own newer ones, which otherwise come in order)."""
        cooling = self.cooling
        if cooling and when < cooling[-1]:
            bisect.insort(cooling, when)
        else:
            cooling.append(when)

    def take(self, now: float) -> bool:
        """Take a slot at once if nobody is in line and one is free."""
        if not self.waiters and now >= self.blocked_until and self.free(now) > 0:
            self.held += 1
            return True
        return False

    def hand_over(self, now: float) -> None:
        """Hand free slots to the waiters in order (unless the floor stops them)."""
        waiters = self.waiters
        if waiters and now >= self.blocked_until:
            free = self.free(now)
            while free > 0 and waiters:
                future = waiters.popleft()
                if future.done():  # cancelled; its task has not run its handler yet
                    continue
                self.held += 1
                free -= 1
                future.set_result(None)

    def wake_time(self, now: float) -> float | None:
        """When this key next needs a look without any release happening; None: never."""
        if self.waiters:
            if self.free(now) > 0:  # only the floor stops them
                return self.blocked_until
            # With nothing cooling every slot is in flight, and a release will wake us.
            return max(self.cooling[0], self.blocked_until) if self.cooling else None
        if self.held:
            return None
        # Idle but still remembering: look again when the key can be forgotten.
        last = max(self.cooling[-1] if self.cooling else now, self.blocked_until)
        return last if last > now else None


class Journal(Protocol):
    """Where the slots' history goes (`history.SlotJournal`); keys come with their window."""

    async def sent(self, slot: str, keys: Sequence[tuple[Key, float]]) -> float:
        """Record, before the request leaves, that it holds these keys; the wall time used."""
        ...

    def answered(self, slot: str, keys: Sequence[tuple[Key, float]], used: bool) -> None:
        """The request ended: its slots cool one window from now (`used`), or are free."""
        ...

    async def load(self, owners: Sequence[str], origin: str) -> dict[Key, list[float]]:
        """The owners' slots still counting, as loop times they free at, per key; but those
        of `origin`'s requests (the limiter's own, which it counts already)."""
        ...

    async def flush(self) -> None:
        """Write what is still buffered."""
        ...


class SharedSlots(Protocol):
    """A key whose slots every replica shares (`shared.SharedKey`)."""

    refundable: bool

    async def acquire(self, front: bool) -> tuple[str, float]:
        """Wait in line for a slot; its id and the wall time it was taken at."""
        ...

    def release(self, slot: str, used: bool) -> None:
        """The request ended: the slot cools one window from now (`used`), or is free."""
        ...

    def waiting(self) -> int:
        """Requests of this process in line."""
        ...

    async def flush(self) -> None:
        """Settle what is still buffered."""
        ...
