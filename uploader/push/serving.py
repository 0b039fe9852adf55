"""Which accounts this process serves now: a task per held account, as its leases change.

Each account the process's leases hold (`uploader.queue.leases`) gets a task (the service's
`serve(account, leaving)`: its worker's lanes and, when statuses are polled, its poller). A
task starts when its lease is held and the account is not paused, and ends one of three ways:

- hand-off (the account is assigned to another live replica): its lanes stop claiming, what is
  in flight gets `grace_s` to finish, then the task is cancelled (unsent records go back to
  the queue) and the lease is released, for the new owner to take;
- lapse or take-over (the lease can no longer be proven): cancelled at once, so nothing more
  is sent for the account; it starts again if the lease is held again;
- the service stops: every task is asked to leave, as at a hand-off; the service's own grace
  bounds the wait.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

import structlog

from uploader.errors import QueueError
from uploader.queue.leases import AccountLeases

__all__ = ["AccountTasks"]

log = structlog.get_logger("uploader.push.serving")

Serve = Callable[[str, asyncio.Event], Coroutine[Any, Any, None]]


class AccountTasks:
    """The tasks of the accounts this process serves; `run` follows the leases until stopped.

    `serve(account, leaving)` serves one account until `leaving` is set; `can_serve(account)`
    says whether a held account may be (re)started (not when it is paused).
    """

    def __init__(
        self,
        leases: AccountLeases,
        serve: Serve,
        *,
        can_serve: Callable[[str], bool],
        grace_s: float,
    ) -> None:
        self._leases = leases
        self._serve = serve
        self._can_serve = can_serve
        self._grace_s = grace_s
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._leaving: dict[str, asyncio.Event] = {}
        self._handoffs: dict[str, asyncio.Task[None]] = {}
        self._ending: dict[str, asyncio.Task[None]] = {}  # cancelled, not finished yet

    def __repr__(self) -> str:
        return f"<AccountTasks serving={sorted(self.serving())} handing_off={len(self._handoffs)}>"

    def serving(self) -> frozenset[str]:
        """Accounts whose task runs now."""
        return frozenset(a for a, task in self._tasks.items() if not task.done())

    async def run(self, stopping: asyncio.Event) -> None:
        """Start and stop account tasks as the leases change; when `stopping`, let them leave."""
        stop = asyncio.create_task(stopping.wait(), name="accounts-stop")
        try:
            while not stopping.is_set():
                self._leases.changed.clear()
                self._reconcile()
                changed = asyncio.create_task(self._leases.changed.wait(), name="accounts-changed")
                watched = {changed, stop, *self._tasks.values(), *self._ending.values()}
                await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
                changed.cancel()
                self._collect()
            await self._leave_all()
        finally:
            stop.cancel()
            await self._cancel_all()

    def _reconcile(self) -> None:
        held, handing = self._leases.held(), self._leases.handing_off()
        for account in list(self._tasks):
            if account not in held and account not in self._handoffs:
                self._cancel(account)  # not provable any more: stop sending now
        for account in handing - self._handoffs.keys():
            self._handoffs[account] = asyncio.create_task(
                self._hand_off(account), name=f"hand-off-{account}"
            )
        for account in sorted(held - handing - self._tasks.keys() - self._handoffs.keys()):
            if account not in self._ending and self._can_serve(account):
                self._start(account)

    def _start(self, account: str) -> None:
        leaving = self._leaving[account] = asyncio.Event()
        task = asyncio.create_task(self._serve(account, leaving), name=f"account-{account}")
        self._tasks[account] = task
        log.info("serving account", account=account)

    def _cancel(self, account: str) -> None:
        task = self._tasks.pop(account)
        self._leaving[account].set()  # ends the lanes even if a queue call loses the cancel
        task.cancel()
        self._ending[account] = task
        log.warning("stopped serving account: its lease is not provable", account=account)

    def _collect(self) -> None:
        """Forget finished tasks; a task that failed ends the service with its error."""
        for tasks in (self._tasks, self._ending):
            for account, task in list(tasks.items()):
                if task.done():
                    del tasks[account]
                    if not task.cancelled() and task.exception() is not None:
                        raise task.exception()  # type: ignore[misc]

    async def _hand_off(self, account: str) -> None:
        """Stop serving `account` (what is in flight gets the grace), then release it."""
        try:
            task = self._tasks.get(account)
            if task is not None:
                log.info("handing account off", account=account, grace_s=self._grace_s)
                self._leaving[account].set()
                done, _ = await asyncio.wait({task}, timeout=self._grace_s)
                if not done:
                    task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                self._tasks.pop(account, None)
            await self._leases.release(account)
        except QueueError as exc:  # still held: tried again at the next change
            log.warning("account not released yet", account=account, error=str(exc))
        finally:
            self._handoffs.pop(account, None)
            self._leases.changed.set()

    async def _leave_all(self) -> None:
        for event in self._leaving.values():
            event.set()
        running = [*self._tasks.values(), *self._handoffs.values(), *self._ending.values()]
        await asyncio.gather(*running)

    async def _cancel_all(self) -> None:
        for event in self._leaving.values():
            event.set()
        running = [*self._tasks.values(), *self._handoffs.values(), *self._ending.values()]
        for task in running:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*running, return_exceptions=True)
