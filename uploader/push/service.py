"""The uploader as a whole: startup, serve, a bounded graceful shutdown.

`Uploader.run()` reads as its three steps. Each configured account gets an `AccountWorker`
(its lanes) and a `StatusPoller`; they share one queue, one client and one limiter, so one
account's trouble (a 429, a 401, a slow answer) never holds another's lanes.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from typing import Any

import structlog

from uploader.config import Settings
from uploader.errors import QueueError
from uploader.push.confirm import StatusPoller
from uploader.push.endpoints import ENDPOINTS
from uploader.push.events import BatchDetails, Hook, Stats
from uploader.push.reconcile import Reconciler
from uploader.push.worker import AccountWorker
from uploader.queue.base import Queue
from uploader.registry.client import RegistryClient, history_owners, keep_history

log = structlog.get_logger("uploader.push.service")
HOUSEKEEPING_S = 3600.0  # how often a long run prunes the ledger


class Uploader:
    """Drains the queue into the registry for every configured account."""

    def __init__(
        self,
        settings: Settings,
        queue: Queue,
        client: RegistryClient,
        hooks: Sequence[Hook] = (),
    ) -> None:
        self.settings = settings
        self.queue = queue
        self.client = client
        self.stats = Stats()
        self._hooks = (self.stats.record, *hooks)
        self.stopping = asyncio.Event()
        lanes = settings.worker.lanes_per_account
        self.workers = {
            a.id: AccountWorker(a.id, queue, client, settings, self._emit, lanes)
            for a in settings.accounts
        }
        self.pollers = {
            a: StatusPoller(a, queue, client, settings, pause=w.pause, hook=self._emit)
            for a, w in self.workers.items()
        }

    def __repr__(self) -> str:
        in_flight = sum(w.in_flight for w in self.workers.values())
        return (
            f"<Uploader batches_ok={self.stats.batches['accepted']} "
            f"batches_failed={sum(self.stats.batches.values()) - self.stats.batches['accepted']} "
            f"in_flight={in_flight} accounts={len(self.workers)}>"
        )

    @property
    def _confirming(self) -> bool:
        spec = ENDPOINTS[self.settings.registry.endpoint]
        return self.settings.worker.poll_statuses and spec.confirmed

    def _emit(self, details: BatchDetails) -> None:
        for hook in self._hooks:
            hook(details)

    def stop(self) -> None:
        """Stop taking new batches (SIGTERM/SIGINT); in-flight ones get the shutdown grace."""
        if not self.stopping.is_set():
            log.info("shutting down", grace_s=self.settings.worker.shutdown_timeout_s)
            self.stopping.set()

    def wake(self, account: str | None = None) -> None:
        """New records arrived: idle lanes look again at once."""
        for worker in self.workers.values():
            if account is None or worker.account == account:
                worker.wakeup.set()

    async def run(self, *, drain: bool = False, confirm: bool = False) -> int:
        """Serve (or drain) until stopped; 0 when all went, 1 when records were refused or left.

        With `drain`, return once nothing is pending or in flight; with `confirm` too, only
        once the registry reported every batch's processing final (Failed ones are re-sent).
        """
        log.info(
            "uploader started",
            accounts=sorted(self.workers),
            drain=drain,
            endpoint=self.settings.registry.endpoint,
        )
        await self.prune_ledger()
        await self._restore_limiter()
        tasks = self._start(drain, confirm)
        try:
            await self._until_done(tasks)
        finally:
            await self.client.limiter.flush()  # the answers still buffered
        return self._exit_code()

    async def _restore_limiter(self) -> None:
        """The limiter keeps its history in the queue and starts from what was sent before."""
        limiter = self.client.limiter
        if limiter.journal is None:
            keep_history(limiter, self.settings, self.queue)
        slots = await limiter.restore(history_owners(self.settings, sorted(self.workers)))
        if slots:
            log.info("limiter restored", slots=slots)

    def _start(self, drain: bool, confirm: bool) -> list[asyncio.Task[None]]:
        if drain:
            return [asyncio.create_task(self._drain(confirm), name="drain")]
        tasks = [
            asyncio.create_task(w.run(self.stopping, drain=False), name=f"worker-{a}")
            for a, w in self.workers.items()
        ]
        tasks.append(asyncio.create_task(self._housekeeping(), name="housekeeping"))
        if self.settings.reconcile.every:  # off by default
            reconciler = Reconciler(self.settings, self.queue, self.client)
            tasks.append(asyncio.create_task(reconciler.run(self.stopping), name="reconcile"))
        if self._confirming:
            tasks += [
                asyncio.create_task(p.run(self.stopping), name=f"confirm-{a}")
                for a, p in self.pollers.items()
            ]
        return tasks

    async def prune_ledger(self) -> int:
        """Forget ledger rows older than `worker.ledger_retention_days`."""
        retention_s = self.settings.worker.ledger_retention_days * 86400
        try:
            pruned = await self.queue.prune_ledger(time.time() - retention_s)
        except QueueError as exc:  # housekeeping: the next round tries again
            log.warning("ledger not pruned: the queue is unavailable", error=str(exc))
            return 0
        if pruned:
            log.info("ledger pruned", rows=pruned)
        return pruned

    async def _housekeeping(self) -> None:
        while not self.stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), timeout=HOUSEKEEPING_S)
            await self.prune_ledger()

    async def _drain(self, confirm: bool) -> None:
        # Drain: send until nothing is pending, then confirm; a Failed process puts its
        # records back, so the two alternate until both are done.
        while not self.stopping.is_set():
            active = [w for w in self.workers.values() if w.paused is None]
            await asyncio.gather(*(w.run(self.stopping, drain=True) for w in active))
            if not (confirm and self._confirming) or self.stopping.is_set():
                return
            # A paused account's batches cannot be confirmed: they are left for another run.
            polled = [self.pollers[w.account] for w in active if w.paused is None]
            awaiting = sum([await p.poll_due() for p in polled])
            idle = all([await w.idle() for w in active if w.paused is None])
            if awaiting == 0 and idle:
                return
            if idle:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), timeout=self._poll_pause_s)

    @property
    def _poll_pause_s(self) -> float:
        return min(1.0, self.settings.worker.status_poll_interval_s)

    async def _until_done(self, tasks: list[asyncio.Task[None]]) -> None:
        # A task that ends early (a paused account's lanes) ends alone; a stop gives the
        # rest the shutdown grace, then cancels them (lanes release unsent records).
        stop_waiter: asyncio.Task[Any] = asyncio.create_task(self.stopping.wait(), name="stop")
        remaining: set[asyncio.Task[Any]] = set(tasks)
        try:
            while remaining and not self.stopping.is_set():
                done, remaining = await asyncio.wait(
                    {*remaining, stop_waiter}, return_when=asyncio.FIRST_COMPLETED
                )
                remaining.discard(stop_waiter)
                _raise_failure(done)
            if remaining:
                grace = self.settings.worker.shutdown_timeout_s
                done, pending = await asyncio.wait(remaining, timeout=grace)
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
                _raise_failure(done)
        finally:
            stop_waiter.cancel()

    def _exit_code(self) -> int:
        for account, worker in self.workers.items():
            if worker.paused:
                log.error(
                    "account paused; its records are still queued",
                    account=account,
                    reason=worker.paused,
                )
        rejected = sum(self.stats.records_rejected.values())
        paused = any(w.paused for w in self.workers.values())
        return 1 if rejected or paused else 0


def _raise_failure(done: set[asyncio.Task[Any]]) -> None:
    """Re-raise the first exception a finished task ended with."""
    for task in done:
        error = None if task.cancelled() else task.exception()
        if error is not None:
            raise error
