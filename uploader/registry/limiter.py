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
started), `cooling` (the loop times at which used slots free again, in order), `blocked_until`
(a Retry-After floor), the FIFO of waiting futures and at most one `loop.call_at` timer.
Waiters are handed their slot by whoever frees it (a release, a refund, the timer), so nothing
polls and order is first come, first served. A key with nothing held, cooling, blocked or
waiting is forgotten.

Beyond the process (`attach`): a journal (`history`) keeps each request's slots in the
queue's storage, so `restore` can seed a key from what another process did; a kind of key
may be shared by every replica (`shared`), its slots living in that storage.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections.abc import Iterable, Mapping, Sequence
from types import TracebackType

from uploader.registry.keys import Journal, Key, KeyState, Policy, SharedSlots, acquire_order

__all__ = ["Key", "KeyedLimiter", "Policy", "SlotContext"]


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
        self._states: dict[Key, KeyState] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self.journal: Journal | None = None
        self._shared: dict[str, SharedSlots] = {}
        self.origin = uuid.uuid4().hex[:12]  # this limiter's requests are origin.1, origin.2...
        self._ids = map(f"{self.origin}.{{}}".format, itertools.count(1))

    def attach(
        self, journal: Journal | None, shared: Mapping[str, SharedSlots] | None = None
    ) -> None:
        """Keep every request's slots in `journal`; take the kinds in `shared` from slots
        every replica shares. Before the first request."""
        for kind in shared or {}:
            self._policy((kind, ""))  # raises for a kind without policy
        self.journal = journal
        self._shared = dict(shared or {})

    def seed(self, key: Key, free_at: Iterable[float]) -> None:
        """Count slots another process used, cooling until the loop times `free_at`; for a
        key this process has not used yet (at start, taking an account over)."""
        now = self._time()
        later = [when for when in free_at if when > now]
        if later:
            state = self._state(key)
            for when in later:
                state.cool_until(when)
            self._dispatch(state, now)

    async def restore(self, owners: Sequence[str]) -> int:
        """Seed the keys of `owners` (account ids, the IP's owner) from the journal's store;
        how many slots were seeded (0 without a journal)."""
        if self.journal is None:
            return 0
        found = await self.journal.load(owners, self.origin)
        kinds = self._policies.keys() - self._shared  # a shared kind needs no seeding
        found = {key: times for key, times in found.items() if key[0] in kinds}
        for key, free_at in found.items():
            self.seed(key, free_at)
        return sum(map(len, found.values()))

    async def flush(self) -> None:
        """Write what the journal and the shared keys still buffer (at shutdown)."""
        if self.journal is not None:
            await self.journal.flush()
        for shared in self._shared.values():
            await shared.flush()

    def slot(self, *keys: Key) -> SlotContext:
        """One request's slots under `keys`: `async with limiter.slot(k1, k2) as slot:`.

        Send the request inside the block; leaving it (normally or by an exception) starts
        the W countdown of every slot still held. Raises ValueError for a kind without policy.
        """
        ordered = tuple(sorted(set(keys), key=acquire_order)) if len(keys) > 1 else keys
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

    def shares(self, key: Key) -> bool:
        """Whether `key`'s slots are a budget the fleet shares (kept in the queue), not this
        process's alone."""
        return key[0] in self._shared

    def remaining(self, key: Key) -> int:
        """Slots `key` could hand out right now (0 while blocked), for metrics; ValueError for
        a shared key, whose count is the fleet's and not known here."""
        if self.shares(key):
            raise ValueError(f"{key[0]}: a shared budget; its remaining slots are the fleet's")
        state = self._states.get(key)
        if state is None:
            return self._policy(key).spec.limit
        now = self._time()
        if now < state.blocked_until:
            return 0
        return max(state.free(now), 0)

    def waiting(self, key: Key) -> int:
        """Requests queued for `key`."""
        shared = self._shared.get(key[0])
        if shared is not None:
            return shared.waiting()
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

    def _state(self, key: Key) -> KeyState:
        state = self._states.get(key)
        if state is None:
            state = self._states[key] = KeyState(key, self._policy(key))
        return state

    async def _wait(self, state: KeyState, now: float, front: bool) -> None:
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

    def _abandon(self, state: KeyState, future: asyncio.Future[None]) -> None:
        """A waiter was cancelled: leave the line, or give back a slot it was handed."""
        now = self._time()
        if future.done() and not future.cancelled():
            self._release(state, now, used=False)
            return
        with contextlib.suppress(ValueError):  # already skipped by a dispatch
            state.waiters.remove(future)
        if self._states.get(state.key) is state:  # else the key emptied and was forgotten
            self._dispatch(state, now)

    def _release(self, state: KeyState, now: float, *, used: bool) -> None:
        """Give a held slot back: it cools for W if a request used it, else frees now."""
        state.held -= 1
        if used:
            state.cool_until(now + state.window_s)
        if state.waiters or state.timer is None:
            self._dispatch(state, now)
        # else: nobody waits, and the pending timer fires no later than the key's next
        # change of state (it was set for one at most as late), so it will look again then.

    def _dispatch(self, state: KeyState, now: float) -> None:
        """Hand free slots to waiters in order, then set the key's one timer."""
        state.hand_over(now)
        self._schedule(state, now)

    def _schedule(self, state: KeyState, now: float) -> None:
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

    def _on_timer(self, state: KeyState) -> None:
        state.timer = None
        if self._states.get(state.key) is state:
            self._dispatch(state, self._time())


class SlotContext:
    """The slots of one request under every key that covers it (from `KeyedLimiter.slot`)."""

    __slots__ = ("_entered", "_held", "_keys", "_limiter", "_shared", "id", "recorded_at",
                 "waited_s")  # fmt: skip

    def __init__(self, limiter: KeyedLimiter, keys: tuple[Key, ...]) -> None:
        self._limiter = limiter
        self._keys = keys
        self._held: list[KeyState] = []
        self._shared: list[tuple[SharedSlots, str]] = []  # shared keys held, and their slot
        self._entered = False
        self.waited_s = 0.0  # time spent waiting for the slots, for metrics
        self.id = ""  # the request's id in the journal, once recorded there
        # Wall-clock time its slots were first recorded beyond the process: unanswered, they
        # count until then + the registry timeout, so the request must end by then.
        self.recorded_at: float | None = None

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
                state = None if key[0] in limiter._shared else limiter._state(key)
                if state is None or not state.take(now):
                    now = await self._acquire_rest()
                    break
                self._held.append(state)
            if limiter.journal is not None and self._held:
                await self._record(limiter.journal)
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
                shared = limiter._shared.get(key[0])
                if shared is not None:
                    slot, taken_at = await shared.acquire(front)
                    self._shared.append((shared, slot))
                    self.recorded_at = min(self.recorded_at or taken_at, taken_at)
                    continue
                state = limiter._state(key)
                now = limiter._time()
                if not state.take(now):
                    await limiter._wait(state, now, front)
                self._held.append(state)
            now = limiter._time()
            if all(state.blocked_until <= now for state in self._held):
                return now
            self._give_back()
            front, keys = True, self._keys

    async def _record(self, journal: Journal) -> None:
        """The send goes to the journal before the request leaves (a crash cannot lose it)."""
        self.id = next(self._limiter._ids)
        sent_at = await journal.sent(self.id, _windows(self._held))
        self.recorded_at = min(self.recorded_at or sent_at, sent_at)

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
        held, shared, self._held, self._shared = self._held, self._shared, [], []
        self._end(held, shared, used=True)

    def refund(self) -> None:
        """The registry did not count this request: success-mode keys free their slot now.

        Call it only on a definite refusal (a 4xx/5xx answer), never after a timeout, when
        the request may have succeeded. Keys that count any request keep their slot.
        """
        held = [state for state in self._held if state.refundable]
        shared = [(key, slot) for key, slot in self._shared if key.refundable]
        self._held = [state for state in self._held if not state.refundable]
        self._shared = [(key, slot) for key, slot in self._shared if not key.refundable]
        self._end(held, shared, used=False)

    def _give_back(self) -> None:
        held, shared, self._held, self._shared = self._held, self._shared, [], []
        self._end(held, shared, used=False)
        self.recorded_at = None  # nothing counts any more: taken again, they count anew

    def _end(
        self, held: list[KeyState], shared: list[tuple[SharedSlots, str]], *, used: bool
    ) -> None:
        limiter = self._limiter
        if held:
            now = limiter._time()
            for state in held:
                limiter._release(state, now, used=used)
            if self.id and limiter.journal is not None:
                limiter.journal.answered(self.id, _windows(held), used)
        for key, slot in shared:
            key.release(slot, used)


def _windows(states: Sequence[KeyState]) -> list[tuple[Key, float]]:
    return [(state.key, state.window_s) for state in states]
