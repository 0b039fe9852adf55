"""A keyed rate limiter whose slots free one window after the *response*.

The registry counts requests in fixed windows whose phase we cannot see. A client-side
sliding log counted at send time is not enough: latency moves arrival times, and two
requests sent W apart can land in one server window. The rule kept here (DESIGN.md, "Rate
limits, precisely"): each key has N slots; a request holds one while it is in flight, and
when its response arrives (or it fails, or is abandoned) the slot cools for exactly W
before anyone may use it again. The earlier request reached the server before its response
came back and the next one reaches it after it is sent, so no latency or jitter can put
N + 1 of our requests into one server window.

Per key the state is small: `held` (slots of requests in flight, their countdown not yet
started), `cooling` (the loop times at which used slots free again, ascending because
responses end in time order and W is fixed per key), `blocked_until` (a Retry-After floor),
the FIFO of waiting futures and at most one `loop.call_at` timer. Waiters are handed their
slot by whoever frees it (a release, a refund, the timer), so nothing polls and order is
first come, first served. A key with nothing held, cooling, blocked or waiting is forgotten.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Literal

from uploader.registry.ratespec import RateSpec

Key = tuple[str, str]  # (kind, name): ("account", "acme"), ("ip", "default")

# Keys of one request are acquired in this order: an account's requests queue among
# themselves first, then take the shared IP budget first come, first served. One global
# order also means two requests can never each hold what the other waits for.
_KIND_RANK = {"account": 0, "ip": 2}
_OTHER_RANK = 1


@dataclass(frozen=True, slots=True)
class Policy:
    """A rate spec for one kind of key, and what the registry counts against it."""

    spec: RateSpec
    counts: Literal["any", "success"] = "any"


class _KeyState:
    """The slots of one key; see the module docstring."""

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


class KeyedLimiter:
    """Per-key slot logs for every policy that covers a request (account, IP, ...).

    `policies` maps a key kind ("account", "ip") to its policy. Keys are created on first
    use and forgotten when idle. The limiter belongs to the event loop that first uses it.
    """

    def __init__(self, policies: Mapping[str, Policy]) -> None:
        for kind, policy in policies.items():
            if policy.spec.limit < 1 or policy.spec.window_s <= 0:
                raise ValueError(f"{kind}: a rate needs a positive limit and window")
        self._policies = dict(policies)
        self._states: dict[Key, _KeyState] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    def slot(self, *keys: Key) -> SlotContext:
        """One request's slots under `keys`: `async with limiter.slot(k1, k2) as slot:`.

        Send the request inside the block; leaving it (normally or by an exception) starts
        the W countdown of every slot still held. Raises ValueError for a kind without policy.
        """
        ordered = tuple(sorted(set(keys), key=_acquire_order)) if len(keys) > 1 else keys
        for key in ordered:
            if key[0] not in self._policies:
                self._policy(key)  # raises
        return SlotContext(self, ordered)

    def block_until(self, key: Key, when: float) -> None:
        """Let nobody acquire `key` before loop time `when` (Retry-After); never shortens."""
        state = self._state(key)
        if when > state.blocked_until:
            state.blocked_until = when
            self._dispatch(state, self._time())

    def remaining(self, key: Key) -> int:
        """Slots `key` could hand out right now (0 while blocked), for metrics."""
        state = self._states.get(key)
        if state is None:
            return self._policy(key).spec.limit
        now = self._time()
        if now < state.blocked_until:
            return 0
        return max(state.free(now), 0)

    def waiting(self, key: Key) -> int:
        """Requests queued for `key`."""
        state = self._states.get(key)
        return 0 if state is None else len(state.waiters)

    @property
    def key_count(self) -> int:
        """Keys currently remembered (idle keys are forgotten)."""
        return len(self._states)

    def __repr__(self) -> str:
        waiting = sum(len(state.waiters) for state in self._states.values())
        return f"<KeyedLimiter keys={len(self._states)} waiting={waiting}>"

    # -- internals used by SlotContext ---------------------------------------------------

    def _policy(self, key: Key) -> Policy:
        try:
            return self._policies[key[0]]
        except KeyError:
            raise ValueError(f"no rate policy for key kind {key[0]!r} (key {key!r})") from None

    def _time(self) -> float:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        return self._loop.time()

    def _state(self, key: Key) -> _KeyState:
        state = self._states.get(key)
        if state is None:
            state = self._states[key] = _KeyState(key, self._policy(key))
        return state

    @staticmethod
    def _take(state: _KeyState, now: float) -> bool:
        """Take a slot of `state` at once if nobody is in line and one is free."""
        if not state.waiters and now >= state.blocked_until and state.free(now) > 0:
            state.held += 1
            return True
        return False

    async def _wait(self, state: _KeyState, now: float, front: bool) -> None:
        """Wait in line for a slot of `state`; whoever frees one hands it over."""
        assert self._loop is not None  # set by _time()
        future: asyncio.Future[None] = self._loop.create_future()
        if front:
            state.waiters.appendleft(future)
        else:
            state.waiters.append(future)
        self._dispatch(state, now)
        try:
            await future
        except asyncio.CancelledError:
            self._abandon(state, future)
            raise

    def _abandon(self, state: _KeyState, future: asyncio.Future[None]) -> None:
        """A waiter was cancelled: leave the line, or give back a slot it was handed."""
        now = self._time()
        if future.done() and not future.cancelled():
            self._release(state, now, used=False)
            return
        with contextlib.suppress(ValueError):  # already skipped by a dispatch
            state.waiters.remove(future)
        if self._states.get(state.key) is state:  # else the key emptied and was forgotten
            self._dispatch(state, now)

    def _release(self, state: _KeyState, now: float, *, used: bool) -> None:
        """Give a held slot back: it cools for W if a request used it, else frees now."""
        state.held -= 1
        if used:
            state.cooling.append(now + state.window_s)
        if state.waiters or state.timer is None:
            self._dispatch(state, now)
        # else: nobody waits, and the pending timer fires no later than the key's next
        # change of state (it was set for one at most as late), so it will look again then.

    def _dispatch(self, state: _KeyState, now: float) -> None:
        """Hand free slots to waiters in order, then set the key's one timer."""
        waiters = state.waiters
        if waiters and now >= state.blocked_until:
            free = state.free(now)
            while free > 0 and waiters:
                future = waiters.popleft()
                if future.done():  # cancelled; its task has not run its handler yet
                    continue
                state.held += 1
                free -= 1
                future.set_result(None)
        self._schedule(state, now)

    def _schedule(self, state: _KeyState, now: float) -> None:
        when = state.wake_time(now)
        timer = state.timer
        if when is None:
            if timer is not None:
                timer.cancel()
                state.timer = None
            if not state.waiters and not state.held and self._states.get(state.key) is state:
                del self._states[state.key]
            return
        if timer is not None:
            if timer.when() <= when:  # fires first and looks again then
                return
            timer.cancel()
        assert self._loop is not None
        state.timer = self._loop.call_at(when, self._on_timer, state)

    def _on_timer(self, state: _KeyState) -> None:
        state.timer = None
        if self._states.get(state.key) is state:
            self._dispatch(state, self._time())


class SlotContext:
    """The slots of one request under every key that covers it (from `KeyedLimiter.slot`)."""

    __slots__ = ("_entered", "_held", "_keys", "_limiter", "waited_s")

    def __init__(self, limiter: KeyedLimiter, keys: tuple[Key, ...]) -> None:
        self._limiter = limiter
        self._keys = keys
        self._held: list[_KeyState] = []
        self._entered = False
        self.waited_s = 0.0  # time spent waiting for the slots, for metrics

    @property
    def keys(self) -> tuple[Key, ...]:
        """The keys in acquisition order."""
        return self._keys

    async def __aenter__(self) -> SlotContext:
        if self._entered:
            raise RuntimeError("a SlotContext can be entered only once")
        self._entered = True
        limiter = self._limiter
        now = started = limiter._time()
        try:
            for key in self._keys:  # the common case: every slot free, nothing awaited
                state = limiter._state(key)
                if not limiter._take(state, now):
                    now = await self._acquire_rest()
                    break
                self._held.append(state)
        except BaseException:
            self._give_back()
            raise
        self.waited_s = now - started
        return self

    async def _acquire_rest(self) -> float:
        """Wait for the keys not held yet; return the loop time when all of them are held."""
        # A floor set on an earlier key while we waited for a later one must still hold
        # (Retry-After means no request for that key before then): hand everything back
        # unused and queue again, at the front since we were already in line.
        limiter = self._limiter
        front = False
        keys = self._keys[len(self._held) :]
        while True:
            for key in keys:
                state = limiter._state(key)
                now = limiter._time()
                if not limiter._take(state, now):
                    await limiter._wait(state, now, front)
                self._held.append(state)
            now = limiter._time()
            if all(state.blocked_until <= now for state in self._held):
                return now
            self._give_back()
            front, keys = True, self._keys

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def release(self) -> None:
        """Start the W countdown of every slot still held now (the response has arrived).

        Leaving the block does this; call it earlier when work on the response follows.
        """
        held, self._held = self._held, []
        if held:
            now = self._limiter._time()
            for state in held:
                self._limiter._release(state, now, used=True)

    def refund(self) -> None:
        """The registry did not count this request: success-mode keys free their slot now.

        Call it only on a definite refusal (a 4xx/5xx answer), never after a timeout, when
        the request may have succeeded. Keys that count any request keep their slot.
        """
        kept = []
        for state in self._held:
            if state.refundable:
                self._limiter._release(state, self._limiter._time(), used=False)
            else:
                kept.append(state)
        self._held = kept

    def _give_back(self) -> None:
        held, self._held = self._held, []
        for state in held:
            self._limiter._release(state, self._limiter._time(), used=False)


def _acquire_order(key: Key) -> tuple[int, str, str]:
    return (_KIND_RANK.get(key[0], _OTHER_RANK), key[0], key[1])
