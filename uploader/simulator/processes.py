"""Asynchronous processing of accepted generation data, computed lazily from timestamps.

A process is `New` for the first half of `process_delay_s`, then `Processing`, then
`Success` (its data is stored) or `Failed` (its data is dropped). Nothing runs in the
background: due processes are settled, in creation order, whenever someone looks.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass

from uploader.simulator.wire import ProcessingType, ProcessState, ProcessStatus

FIRST_PROCESS_ID = 20745  # the docs' example id; any positive integer would do


@dataclass(slots=True)
class Process:
    """One accepted request; `store` keeps its data in the account's state."""

    id: int
    account: str
    kind: ProcessingType
    created: float
    due: float
    fails: bool
    store: Callable[[], None] | None
    outcome: ProcessState | None = None


def _stamp(epoch_s: float) -> str:
    """The docs' timestamp shape, `2024-06-05T15:26:42.450` (UTC, no offset)."""
    moment = dt.datetime.fromtimestamp(epoch_s, dt.UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="milliseconds")


class Processes:
    """Every process, and the queue of those not settled yet."""

    def __init__(self, delay_s: float, fail_rate: float, rng: random.Random) -> None:
        self.delay_s = delay_s
        self.fail_rate = fail_rate
        self._rng = rng
        self._next_id = FIRST_PROCESS_ID
        self._all: dict[int, Process] = {}
        self._pending: deque[Process] = deque()
        self.settled: Counter[str] = Counter()

    def create(
        self, account: str, kind: ProcessingType, store: Callable[[], None], now: float
    ) -> Process:
        """Register an accepted request; settled at once when there is no delay."""
        fails = self.fail_rate > 0 and self._rng.random() < self.fail_rate
        process = Process(self._next_id, account, kind, now, now + self.delay_s, fails, store)
        self._next_id += 1
        self._all[process.id] = process
        self._pending.append(process)
        self.settle(now)
        return process

    def settle(self, now: float) -> None:
        """Finish every due process, oldest first, so re-sent days overwrite in order."""
        pending = self._pending
        while pending and pending[0].due <= now:
            process = pending.popleft()
            store, process.store = process.store, None
            if process.fails or store is None:
                process.outcome = "Failed"
            else:
                store()
                process.outcome = "Success"
            self.settled[process.outcome] += 1

    def get(self, process_id: int) -> Process | None:
        """The process with this id, if any."""
        return self._all.get(process_id)

    def state_of(self, process: Process, now: float) -> ProcessState:
        """New, Processing, or the outcome once settled."""
        if process.outcome is not None:
            return process.outcome
        return "New" if now < process.created + self.delay_s / 2 else "Processing"

    def status(self, process: Process, now: float) -> ProcessStatus:
        """The documented process resource."""
        self.settle(now)
        state = self.state_of(process, now)
        updated = {"New": process.created, "Processing": process.created + self.delay_s / 2}
        return ProcessStatus(
            ProcessId=process.id,
            Status=state,
            ProcessingType=process.kind,
            CreatedTime=_stamp(process.created),
            UpdatedTime=_stamp(updated.get(state, process.due)),
        )

    def counts(self, now: float) -> dict[str, int]:
        """How many processes are in each state."""
        self.settle(now)
        counts = Counter(self.settled)
        counts.update(self.state_of(p, now) for p in self._pending)
        return {state: counts[state] for state in ("New", "Processing", "Success", "Failed")}

    def __repr__(self) -> str:
        return f"<Processes total={len(self._all)} pending={len(self._pending)}>"
