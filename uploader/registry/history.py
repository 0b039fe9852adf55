"""The limiter's history in the queue's storage, so a restart spends nothing twice.

The registry counts what reached it, whichever process sent it. A process that forgot what it
sent in the last window (it restarted, crashed, or took an account over from a dead replica)
would spend that window's budget again and draw 429s. So every slot a request takes is
recorded in the queue (`Queue.record_slots`), per rate key and owner (an account id, or
`ip@host` for this host's IP budget), as the wall-clock time until which it counts:

- before the request leaves: `sent_at + timeout + W`. The registry may count the request at
  any moment until the client gives up, so an answer that never comes (the process died)
  counts that long;
- when it is answered: `answered_at + W`, the limiter's own rule; a request the registry did
  not count (a refund) or that never left is forgotten.

Sends are written before the request leaves, or a SIGKILL just after it could lose one: each
`sent` awaits a write, and the sends of concurrent requests share one (a group commit).
Answers are only buffered and ride along with the next write, or are flushed after
`flush_s` and at shutdown; losing them (a crash) leaves the longer bound, which only makes the
next process wait longer. Rows stop counting at their `until` and the store forgets them.

`load` reads an owner's rows back as loop times, which `KeyedLimiter.restore` seeds: the
loop's clock does not survive a process, the wall clock does (replicas must keep theirs in
sync, as NTP does, within a small part of a window).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Protocol

import structlog

from uploader.registry.keys import Key

__all__ = ["FLUSH_S", "HistoryStore", "SlotJournal"]

log = structlog.get_logger("uploader.registry.history")

FLUSH_S = 0.1  # seconds an answer may wait before it is written without a send to ride on
RETRY_S = 1.0  # seconds before answers whose write failed are tried again

# owner, key as "kind:name", slot id, until (wall-clock seconds): `uploader.queue.SlotRow`
Row = tuple[str, str, str, float]


class HistoryStore(Protocol):
    """Where the rows are kept: the queue (`uploader.queue.slots.SlotStore`)."""

    async def record_slots(self, rows: Sequence[Row]) -> None:
        """Upsert the rows by (owner, key, slot); forget those whose `until` has passed."""
        ...

    async def recent_slots(self, owners: Sequence[str]) -> Sequence[Row]:
        """The owners' rows that still count."""
        ...


class SlotJournal:
    """Records every request's slots in a `HistoryStore`; see the module docstring.

    `owner_of` names the owner of a key's rows, or None for a key not kept (a share of an
    account's own budget, which that account's key already counts).
    """

    def __init__(
        self,
        store: HistoryStore,
        *,
        timeout_s: float,
        owner_of: Callable[[Key], str | None],
        clock: Callable[[], float] = time.time,
        flush_s: float = FLUSH_S,
    ) -> None:
        self._store = store
        self._timeout_s = timeout_s
        self._owner_of = owner_of
        self._clock = clock
        self._flush_s = flush_s
        self._sends: list[Row] = []  # waiting for the next write, whose end `_written` is
        self._written: asyncio.Future[None] | None = None
        self._answers: list[Row] = []
        self._due = False  # the answers are to be written even without a send
        self._timer: asyncio.TimerHandle | None = None
        self._writer: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"<SlotJournal sends={len(self._sends)} answers={len(self._answers)}>"

    async def sent(self, slot: str, keys: Sequence[tuple[Key, float]]) -> float:
        """Record the request's slots (key, window) before it leaves; the wall time used."""
        now = self._clock()
        rows = self._rows(slot, keys, now + self._timeout_s, windows=True)
        if rows:
            self._sends += rows
            if self._written is None:
                self._written = asyncio.get_running_loop().create_future()
            written = self._written
            self._start()
            await asyncio.shield(written)  # a cancelled sender leaves the write to the rest
        return now

    def answered(self, slot: str, keys: Sequence[tuple[Key, float]], used: bool) -> None:
        """The request ended: its slots count one window from now (`used`), else not at all."""
        rows = self._rows(slot, keys, self._clock(), windows=used)
        if rows:
            self._answers += rows
            self._later(self._flush_s)

    async def load(self, owners: Sequence[str], origin: str) -> dict[Key, list[float]]:
        """The owners' slots that still count, per key, as the loop times they free at; but
        the slots of `origin`'s requests (a limiter's own: it counts them already)."""
        rows = await self._store.recent_slots(owners)
        offset = asyncio.get_running_loop().time() - self._clock()  # wall -> loop
        found: dict[Key, list[float]] = {}
        for _, key, slot, until in rows:
            if slot.partition(".")[0] != origin:
                kind, _, name = key.partition(":")
                found.setdefault((kind, name), []).append(until + offset)
        return found

    async def flush(self) -> None:
        """Write every buffered row now (at shutdown); a failure is logged, not raised."""
        self._flush_due()
        if self._writer is not None:
            await asyncio.shield(self._writer)

    def _rows(
        self, slot: str, keys: Sequence[tuple[Key, float]], base: float, *, windows: bool
    ) -> list[Row]:
        rows = []
        for key, window_s in keys:
            owner = self._owner_of(key)
            if owner is not None:
                until = base + window_s if windows else base
                rows.append((owner, f"{key[0]}:{key[1]}", slot, until))
        return rows

    def _later(self, delay_s: float) -> None:
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(delay_s, self._flush_due)

    def _flush_due(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._answers:
            self._due = True
            self._start()

    def _start(self) -> None:
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write(), name="history")

    async def _write(self) -> None:
        # One write at a time, so the rows of a slot reach the store in the order they were
        # made (a send, then its answer).
        failed = False
        try:
            while self._sends or self._due:
                answers, sends, written = self._answers, self._sends, self._written
                self._answers, self._sends, self._written, self._due = [], [], None, False
                try:
                    await self._store.record_slots([*answers, *sends])
                except asyncio.CancelledError:
                    if written is not None:
                        written.cancel()
                    raise
                except Exception as exc:
                    failed = True
                    log.warning("limiter history not written", error=str(exc))
                    self._answers[:0] = answers  # kept for a later write
                    if written is not None:  # the senders fail: their requests do not leave
                        written.set_exception(exc)
                        written.exception()  # retrieved: every sender may have been cancelled
                else:
                    if written is not None:
                        written.set_result(None)
        finally:
            self._writer = None
            if self._answers:
                self._later(RETRY_S if failed else self._flush_s)
