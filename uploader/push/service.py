"""The uploader as a whole: startup, serve, a bounded graceful shutdown.

`Uploader.run()` reads as its three steps. Each configured account gets an `AccountWorker`
(its lanes) and a `StatusPoller`; they share one queue, one client and one limiter, so one
account's trouble (a 429, a 401, a slow answer) never holds another's lanes. One
`Dispatcher` reads the queue for all of them and wakes the accounts that have work, so an
idle process costs the same with 10 accounts as with 1,000. Which accounts
run is the leases' business (`uploader.queue.leases`): all of them for a local queue, this
replica's share for a shared one, started and stopped as it changes (`serving.AccountTasks`).
A drain ends once every configured account is drained, whoever served it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import structlog

from uploader.config import Settings
from uploader.errors import QueueError
from uploader.push.confirm import StatusPoller
from uploader.push.dispatcher import Dispatcher
from uploader.push.endpoints import ENDPOINTS
from uploader.push.events import BatchDetails, Hook, Stats
from uploader.push.policy import backoff_s
from uploader.push.reconcile import Reconciler
from uploader.push.serving import AccountTasks
from uploader.push.waits import until_any
from uploader.push.worker import AccountWorker
from uploader.queue.base import Queue
from uploader.queue.leases import AccountLeases, LocalLeases
from uploader.registry.client import RegistryClient, history_owners, keep_history

log = structlog.get_logger("uploader.push.service")
HOUSEKEEPING_S = 3600.0  # how often a long run prunes the ledger
DATA_LOST = 3  # the exit code of a run whose queue lost its data (a server restarted empty)


class Uploader:
    """Drains the queue into the registry for the configured accounts its leases hold.

    `leases` (entered by the caller) default to `LocalLeases`: every account, always.
    """

    def __init__(
        self,
        settings: Settings,
        queue: Queue,
        client: RegistryClient,
        hooks: Sequence[Hook] = (),
        leases: AccountLeases | None = None,
    ) -> None:
        self.settings = settings
        self.queue = queue
        self.client = client
        self.stats = Stats()
        self._hooks = (self.stats.record, *hooks)
        self.stopping = asyncio.Event()
        self.leases = leases or LocalLeases(sorted(settings.account_ids))
        self._quiet = asyncio.Event()  # a lane found nothing to do: a drain may be over
        self._polls = False
        self._restored: set[str] = set()  # accounts whose history the start restored
        self.workers = {a.id: self._worker(a.id) for a in settings.accounts}
        self.pollers = {
            a: StatusPoller(a, queue, client, settings, pause=w.pause, hook=self._emit)
            for a, w in self.workers.items()
        }
        self.dispatcher = Dispatcher(
            queue, self._wake_account,
            idle_poll_s=settings.worker.idle_poll_s, retry=settings.retry,
        )  # fmt: skip
        self.accounts = AccountTasks(
            self.leases,
            self._serve,
            can_serve=lambda a: self.workers[a].paused is None,
            grace_s=settings.worker.shutdown_timeout_s,
        )

    def _worker(self, account: str) -> AccountWorker:
        return AccountWorker(
            account, self.queue, self.client, self.settings, self._emit,
            self.settings.worker.lanes_per_account,
            may_send=lambda: self.leases.provable(account), on_idle=self._quiet.set,
        )  # fmt: skip

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
        if details.process_id is not None:  # a batch to confirm: its poller asks in time
            self.pollers[details.account].nudge()

    def stop(self) -> None:
        """Stop taking new batches (SIGTERM/SIGINT); in-flight ones get the shutdown grace."""
        if not self.stopping.is_set():
            log.info("shutting down", grace_s=self.settings.worker.shutdown_timeout_s)
            self.stopping.set()

    def wake(self, account: str | None = None) -> None:
        """New records arrived (of `account`, or of any): idle lanes look again at once."""
        if account is None:
            self.dispatcher.poke()
        else:
            self._wake_account(account)

    def _wake_account(self, account: str) -> None:
        worker = self.workers.get(account)
        if worker is not None:
            worker.wakeup.set()

    async def run(self, *, drain: bool = False, confirm: bool = False) -> int:
        """Serve (or drain) until stopped; 0 when all went, 1 when records were refused or left,
        3 when the queue's storage lost its data meanwhile (a drain then ends at once).

        With `drain`, return once no configured account has anything pending, leased or in
        flight (whoever serves it); with `confirm` too, only once the registry reported every
        batch's processing final (Failed ones are re-sent).
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
        """The limiter keeps its history in the queue and starts from what was sent before:
        the IP's, and the accounts held now (those taken later are restored as they are)."""
        limiter = self.client.limiter
        if limiter.journal is None:
            keep_history(limiter, self.settings, self.queue)
        self._restored = set(self.leases.held())
        slots = await limiter.restore(history_owners(self.settings, sorted(self._restored)))
        if slots:
            log.info("limiter restored", slots=slots)

    def _start(self, drain: bool, confirm: bool) -> list[asyncio.Task[None]]:
        self._polls = self._confirming and (confirm or not drain)
        tasks = [
            asyncio.create_task(self.accounts.run(self.stopping), name="accounts"),
            asyncio.create_task(self.dispatcher.run(self.stopping), name="dispatcher"),
        ]
        if drain:
            tasks.append(asyncio.create_task(self._drain(confirm), name="drain"))
            return tasks
        tasks.append(asyncio.create_task(self._housekeeping(), name="housekeeping"))
        if self.settings.reconcile.every:  # off by default
            held = self.leases.held  # a replica reads back only the accounts it serves
            reconciler = Reconciler(self.settings, self.queue, self.client, held)
            tasks.append(asyncio.create_task(reconciler.run(self.stopping), name="reconcile"))
        return tasks

    async def _on_account_acquired(self, account: str) -> None:
        """Called as this process starts serving `account` (at start, or taken over from a
        replica that left or died), before its first request: the limiter learns what the
        others sent for the account (its keys seeded from the store; its own it knows).

        An account restored with the others at start is not seeded twice; one served again
        later is seeded anew (rows seeded before and still counting then count twice: the
        limiter waits longer, it never overdraws)."""
        if account in self._restored:
            self._restored.discard(account)
            return
        slots = await self.client.limiter.restore([account])
        if slots:
            log.info("limiter restored", account=account, slots=slots)

    async def _serve(self, account: str, leaving: asyncio.Event) -> None:
        """Serve one account until `leaving` is set: its lanes, and its poller if polling."""
        failures = 0
        while not leaving.is_set():
            try:
                await self._on_account_acquired(account)
                break
            except QueueError as exc:  # its history comes from the queue: try again
                retry = self.settings.retry
                delay = backoff_s(failures, retry.base_s, retry.cap_s)
                failures += 1
                log.warning("queue unavailable", account=account, error=str(exc))
                await until_any(leaving, at_most_s=delay)
        async with asyncio.TaskGroup() as group:
            group.create_task(self.workers[account].run(leaving), name=f"worker-{account}")
            if self._polls:
                poller = self.pollers[account].run(leaving)
                group.create_task(poller, name=f"confirm-{account}")

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
            await until_any(self.stopping, at_most_s=HOUSEKEEPING_S)
            await self.prune_ledger()

    async def _drain(self, confirm: bool) -> None:
        # Ends the run once every configured account that is not paused here is drained
        # (with `confirm`, and its batches' processing final), whoever served it; looked at
        # whenever a lane here found nothing to do, and every idle poll.
        while not self.stopping.is_set():
            self._quiet.clear()
            if self.leases.backend.data_lost is not None:  # it can never finish
                self.stopping.set()
                return
            try:
                if await self._drained(confirm and self._confirming):
                    self.stopping.set()
                    return
            except QueueError as exc:
                log.warning("queue unavailable", error=str(exc))
            await until_any(self._quiet, at_most_s=self.settings.worker.idle_poll_s)

    async def _drained(self, confirm: bool) -> bool:
        # A paused account's records and batches are left for another run. The cheap answers
        # first (a batch in flight here, one read across every account), so a drain of 1,000
        # accounts asks each of them only once the others are done.
        serving = {a: w for a, w in self.workers.items() if w.paused is None}
        if any(w.in_flight for w in serving.values()):
            return False
        if serving.keys() & (await self.queue.due_in()).keys():
            return False
        for account, worker in serving.items():
            if not await worker.idle():
                return False
            if confirm and await self.queue.ledger_awaiting_status(account, 1):
                return False
        return True

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
        lost = self.leases.backend.data_lost
        if lost is not None:
            log.error("the queue's data was lost while this process ran", reason=lost)
            return DATA_LOST
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
