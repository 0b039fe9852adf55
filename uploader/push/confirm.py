"""Delivery confirmation: asking the registry how each accepted batch's process ended.

Polls spend the account's budget like any request and, through the `poll` key, never more
than `limits.status_poll_share` of it. A `Failed` process sends its batch's records back to
the queue (the queue dead-letters them on a second failure). A poll that fails is decided by
`uploader.push.policy.decide` like a push: a transient failure (the token endpoint's too)
makes the poller wait its backoff, refused credentials pause the account. A queue out of
reach ends nothing: the poller waits its backoff and asks again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import structlog

from uploader.config import Settings
from uploader.errors import QueueError, RegistryError
from uploader.push import policy
from uploader.push.events import PROCESSING_FAILED, BatchDetails, Hook
from uploader.push.policy import Pause, Retry
from uploader.push.waits import until_any
from uploader.queue.base import Queue
from uploader.registry.answers import PROCESS_STATUS, Accepted, Answer, classify, unanswered
from uploader.registry.client import RegistryClient
from uploader.registry.wire.codec import process_status_envelope

log = structlog.get_logger("uploader.push.confirm")
FINAL = frozenset({"Success", "Failed"})
FAILED_TWICE_KIND = "processing Failed twice"  # the short reason of such dead letters


class StatusPoller:
    """Confirms one account's accepted batches."""

    def __init__(
        self,
        account: str,
        queue: Queue,
        client: RegistryClient,
        settings: Settings,
        pause: Callable[[str], None] = lambda reason: None,
        hook: Hook = lambda details: None,
    ):
        self.account = account
        self._hook = hook
        self._queue = queue
        self._client = client
        self._settings = settings
        self._pause_account = pause
        self._last_polled: dict[str, float] = {}
        self._failures = 0  # polls failed in a row: they scale the backoff
        self._quiet_until = 0.0  # monotonic: no poll before this, after a failure
        self.paused: str | None = None
        self.awaiting = 0
        self._nudged = asyncio.Event()

    def __repr__(self) -> str:
        return f"<StatusPoller {self.account} awaiting={self.awaiting}>"

    @property
    def _quiet(self) -> bool:
        return self.paused is not None or time.monotonic() < self._quiet_until

    async def poll_due(self) -> int:
        """Ask for every awaiting process not asked recently; returns how many still await."""
        rows = await self._queue.ledger_awaiting_status(self.account, 100)
        self.awaiting = len(rows)
        interval = self._settings.worker.status_poll_interval_s
        now = time.monotonic()
        for row in rows:
            if self._quiet:
                break
            if row.process_id is None or now - self._last_polled.get(row.batch_id, -1e9) < interval:
                continue
            self._last_polled[row.batch_id] = now
            status = await self._status(row.process_id)
            if status in FINAL:
                await self._settle(row.batch_id, status)
                self._last_polled.pop(row.batch_id, None)
                self.awaiting -= 1
        return self.awaiting

    async def _status(self, process_id: int) -> str | None:
        """The process's status, or None when the poll failed (and what to do is decided)."""
        answer = await self._ask(process_id)
        if isinstance(answer, Accepted):
            self._failures = 0
            data = process_status_envelope.decode(answer.body).Data  # the shape checked it
            return data.Status if data is not None else None
        self._failures += 1
        decision = policy.decide(
            answer, attempt=self._failures, records=1, named=0, retry=self._settings.retry
        )
        log.warning("status poll failed", process_id=process_id, answer=repr(answer))
        match decision:
            case Pause(reason=reason):
                self.paused = reason
                self._pause_account(reason)
            case Retry(delay_s=delay_s):
                self._quiet_until = time.monotonic() + delay_s
        # A refusal names a ProcessId the registry does not know: asked again next interval.
        return None

    async def _ask(self, process_id: int) -> Answer:
        path = self._settings.registry.paths.statuses
        try:
            response = await self._client.call(
                self.account,
                "GET",
                path,
                params={"ProcessId": str(process_id)},
                endpoint="statuses",
                extra_keys=(("poll", self.account),),
            )
        except RegistryError as exc:  # no answer, or no token: see `unanswered`
            return unanswered(exc)
        return classify(response, PROCESS_STATUS)

    async def _settle(self, batch_id: str, status: str) -> None:
        # A Failed batch's records are pending again (or dead) before its row says Failed, so
        # a drain that looks in between sees them pending or the row still awaiting, never
        # neither; `requeue_batch` acts once per batch, so a poll that repeats this is harmless.
        if status == "Failed":
            await self._requeue(batch_id)
        await self._queue.set_ledger_status(batch_id, status)

    async def _requeue(self, batch_id: str) -> None:
        requeued, dead = await self._queue.requeue_batch(batch_id)
        log.warning("registry failed a batch", batch_id=batch_id, requeued=requeued, dead=dead)
        self._hook(
            BatchDetails(
                account=self.account,
                batch_id=batch_id,
                endpoint=self._settings.registry.endpoint,
                records=requeued + dead,
                status=None,
                outcome=PROCESSING_FAILED,
                latency_s=0.0,
                attempt=0,
                rejected=dead,
                rejected_by_reason=((FAILED_TWICE_KIND, dead),) if dead else (),
                resent=requeued,
            )
        )

    def nudge(self) -> None:
        """A batch of the account was accepted with a ProcessId: poll again in time."""
        self._nudged.set()

    async def run(self, stopping: asyncio.Event) -> None:
        """Poll until stopped; a queue out of reach is tried again after its backoff.

        With no batch awaiting its status, the poller asks the queue again only once nudged
        (the account's worker had a batch accepted), then after the usual pause: an idle
        account costs no queries.
        """
        idle = min(self._settings.worker.status_poll_interval_s, 5.0)
        failures = 0
        while not stopping.is_set() and self.paused is None:
            self._nudged.clear()  # before the read: a batch accepted meanwhile is not missed
            pause = idle
            try:
                if not await self.poll_due():
                    await until_any(self._nudged, stopping)
                failures = 0
            except QueueError as exc:
                retry = self._settings.retry
                pause = policy.backoff_s(failures, retry.base_s, retry.cap_s)
                failures += 1
                log.warning("queue unavailable", error=str(exc), retry_in_s=round(pause, 3))
            await until_any(stopping, at_most_s=pause)
