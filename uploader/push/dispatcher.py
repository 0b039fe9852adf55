"""One look at the queue for every account: which have records to claim, and when.

A lane that finds nothing to claim waits to be woken rather than asking the queue again on
its own: with 1,000 accounts of four lanes each, lanes that poll ask an empty queue 4,000
times a second. Instead, the process's one `Dispatcher` reads the queue across every account
in one query a round (`Queue.due_in`), wakes the accounts with records claimable now, and
sleeps until the earliest delayed release comes due, `idle_poll_s` at most: records another
process enqueued (a replica's ingest, `uploader enqueue`) are seen within that. Records
ingested by this process wake it at once (`poke`).

Waking an account whose lanes are all busy costs nothing: its lanes claim again as soon as
they finish what they hold. A wake that a lane misses (set between its empty claim and its
wait) is repeated the next round, since the account still has records to claim.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog

from uploader.config import RetrySettings
from uploader.errors import QueueError
from uploader.push.policy import backoff_s
from uploader.push.waits import until_any
from uploader.queue.base import Queue

__all__ = ["Dispatcher"]

log = structlog.get_logger("uploader.push.dispatcher")


class Dispatcher:
    """Wakes the accounts with records to claim, with one queue read a round for all of them.

    `wake(account)` is called for each account whose records are claimable now (accounts this
    process does not serve included: waking them is a no-op).
    """

    def __init__(
        self,
        queue: Queue,
        wake: Callable[[str], None],
        *,
        idle_poll_s: float,
        retry: RetrySettings,
    ) -> None:
        self._queue = queue
        self._wake = wake
        self._idle_poll_s = idle_poll_s
        self._retry = retry
        self._poked = asyncio.Event()
        self.rounds = 0  # queue reads so far: what an idle process spends

    def __repr__(self) -> str:
        return f"<Dispatcher rounds={self.rounds} idle_poll_s={self._idle_poll_s}>"

    def poke(self) -> None:
        """Look at the queue now (records were enqueued by this process)."""
        self._poked.set()

    async def run(self, stopping: asyncio.Event) -> None:
        """Read and wake until `stopping`; a queue out of reach is asked again after a backoff."""
        failures = 0
        while not stopping.is_set():
            self._poked.clear()
            try:
                pause = self._dispatch(await self._queue.due_in())
                failures = 0
            except QueueError as exc:
                pause = backoff_s(failures, self._retry.base_s, self._retry.cap_s)
                failures += 1
                log.warning("queue unavailable", error=str(exc), retry_in_s=round(pause, 3))
            self.rounds += 1
            await until_any(self._poked, stopping, at_most_s=pause)

    def _dispatch(self, due_in: dict[str, float]) -> float:
        """Wake the accounts due now; the seconds until the next round."""
        pause = self._idle_poll_s
        for account, delay in due_in.items():
            if delay > 0:
                pause = min(pause, delay)
            else:
                self._wake(account)
        return pause
