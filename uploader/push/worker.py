"""One account's push loop: lanes that claim, send and settle batches.

A record leaves the queue only through `ack` (the registry took it) or `reject` (the
registry refused it, with its reason, into the dead letters). Every other path, including
cancellation at shutdown, releases it back to pending, so nothing is lost.

A worker sends only while `may_send()` holds (the process can prove its lease of the
account, see `uploader.queue.leases`): checked before each claim and before each request.
A queue error ends no lane: it waits its backoff and tries again. A lane that finds nothing
to claim waits for `wakeup`, set by the process's dispatcher (`uploader.push.dispatcher`)
when the account has records to claim, and by the worker itself when its last batch in
flight settles; it does not poll the queue on its own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

import structlog

from uploader.config import Settings
from uploader.errors import QueueError, RegistryError
from uploader.push import batcher, policy
from uploader.push.batcher import Batch
from uploader.push.delivery import Held, Sent
from uploader.push.endpoints import ENDPOINTS, EndpointSpec
from uploader.push.events import BatchDetails, Hook
from uploader.push.policy import Ack, Bisect, DeadLetter, Decision, Pause, Retry
from uploader.push.waits import until_any
from uploader.queue.base import Claim, LedgerEntry, Queue, QueuedRecord
from uploader.registry.answers import (
    Accepted,
    Answer,
    Refused,
    RegistryResponse,
    Throttled,
    classify,
    process_id,
    unanswered,
)
from uploader.registry.client import RegistryClient

log = structlog.get_logger("uploader.push.worker")


class NotServing(Exception):
    """The lease of the account can no longer be proven: nothing more is sent for it."""


class AccountWorker:
    """Drains one business account's records into the registry."""

    def __init__(
        self,
        account: str,
        queue: Queue,
        client: RegistryClient,
        settings: Settings,
        hook: Hook,
        lanes: int,
        *,
        may_send: Callable[[], bool] = lambda: True,
        on_idle: Callable[[], None] = lambda: None,
    ) -> None:
        self.account = account
        self._may_send = may_send
        self._on_idle = on_idle  # a claim found nothing, or the last batch in flight settled
        self._queue = queue
        self._client = client
        self._settings = settings
        self._hook = hook
        self._lanes = lanes
        self.in_flight = 0
        self.paused: str | None = None
        self.wakeup = asyncio.Event()
        self._spec = ENDPOINTS[settings.registry.endpoint]
        self._path: str = getattr(settings.registry.paths, self._spec.name)

    def __repr__(self) -> str:
        state = f"paused={self.paused!r}" if self.paused else f"in_flight={self.in_flight}"
        return f"<AccountWorker {self.account} {state}>"

    async def run(self, stopping: asyncio.Event) -> None:
        """Serve until `stopping` is set (or the account is paused)."""
        async with asyncio.TaskGroup() as group:
            for lane in range(self._lanes):
                group.create_task(self._lane(stopping), name=f"lane-{self.account}-{lane}")

    async def idle(self) -> bool:
        """Whether this account has nothing in flight, and nothing pending, leased (by whoever:
        a lease that runs out makes its records pending) or delayed in the queue."""
        return self.in_flight == 0 and await self._queue.drained(self.account)

    async def _lane(self, stopping: asyncio.Event) -> None:
        structlog.contextvars.bind_contextvars(account=self.account)
        failures = 0
        while not stopping.is_set() and self.paused is None:
            if not self._may_send():  # the service stops this worker soon
                await until_any(stopping, at_most_s=self._settings.worker.idle_poll_s)
                continue
            try:
                await self._turn(stopping)
                failures = 0
            except NotServing:
                continue
            except QueueError as exc:
                # The queue's storage failed (a lock held too long, Redis out of reach): what
                # was in flight goes back when the queue answers again (or its lease runs
                # out), so the lane waits and tries again rather than ending the service.
                delay = self._backoff(failures)
                failures += 1
                log.warning("queue unavailable", error=str(exc), retry_in_s=round(delay, 3))
                await until_any(stopping, at_most_s=delay)

    async def _turn(self, stopping: asyncio.Event) -> None:
        """One claim and its delivery, or a wait for work."""
        claim = await self._claim()
        if claim is not None:
            await self._deliver(Held(claim))
        else:
            self._on_idle()
            await self._wait_for_work(stopping)

    async def _claim(self) -> Claim | None:
        registry = self._settings.registry
        return await self._queue.claim(
            self.account,
            registry.max_records_per_request,
            self._settings.worker.lease_s,
            one_inverter=self._spec.one_inverter,
            one_year=self._spec.one_year,
        )

    async def _wait_for_work(self, stopping: asyncio.Event) -> None:
        self.wakeup.clear()
        await until_any(self.wakeup, stopping)

    async def _deliver(self, held: Held) -> None:
        self.in_flight += 1
        lease_s = self._settings.worker.lease_s
        keeper = asyncio.create_task(held.keep(self._queue, lease_s), name=f"lease-{self.account}")
        try:
            records = await self._first_year(held)
            spec = await self._spec_for(records)
            await self._send(held, batcher.build(records, spec, self._numbers))
        finally:
            keeper.cancel()
            try:
                await held.release_open(self._queue, self._backoff)
            finally:
                self.in_flight -= 1
                if not self.in_flight:
                    self.wakeup.set()  # lanes waiting for work look again
                    self._on_idle()  # a drain may be over

    @property
    def _numbers(self) -> str:
        return self._settings.registry.numbers

    async def _first_year(self, held: Held) -> Sequence[QueuedRecord]:
        records = held.claim.records
        if not self._spec.one_year:
            return records
        year = records[0].day[:4]
        later = [r for r in records if r.day[:4] != year]
        if later:
            await self._settle_release(held, later, 0.0)
        return [r for r in records if r.day[:4] == year]

    async def _spec_for(self, records: Sequence[QueuedRecord]) -> EndpointSpec:
        """The spec whose body carries `records`: one that sums the days of their
        inverter-year reads every day the queue knows of it, sent or not."""
        if self._spec.sums_months is None:
            return self._spec
        first = records[0]
        year = int(first.day[:4])
        return self._spec.over(
            await self._queue.known_days(self.account, first.remote_inv_id, year)
        )

    async def _send(self, held: Held, batch: Batch) -> None:
        sent = await self._request(batch)
        await self._settle(held, sent, self._decide(sent))

    async def _request(self, batch: Batch) -> Sent:
        started = time.perf_counter()
        response, answer = await self._attempt(batch)
        return Sent.of(self.account, batch, response, answer, time.perf_counter() - started)

    def _decide(self, sent: Sent, split: policy.Split | None = None) -> Decision:
        return policy.decide(
            sent.answer,
            attempt=sent.details.attempt,
            records=len(sent.batch),
            named=len(sent.named),
            retry=self._settings.retry,
            split=split,
        )

    async def _attempt(self, batch: Batch) -> tuple[RegistryResponse | None, Answer]:
        if not self._may_send():
            raise NotServing(self.account)
        try:
            response = await self._client.call(
                self.account, "POST", self._path, body=batch.body, endpoint=self._spec.name
            )
        except RegistryError as exc:  # no answer, or no token: see `unanswered`
            return None, unanswered(exc)
        return response, classify(response, self._spec.answer)

    async def _settle(self, held: Held, sent: Sent, decision: Decision, alike: int = 0) -> None:
        records, details = sent.batch.records, sent.details
        match decision:
            case Ack():
                await self._settle_ack(held, sent)
            case Retry(delay_s=delay_s, reason=reason):
                await self._settle_release(held, records, delay_s)
                if isinstance(sent.answer, Throttled):
                    self._report(details, retry_after_s=delay_s, resent=len(records))
                else:
                    retry_in_s = round(delay_s, 3)
                    self._report(details, resent=len(records), reason=reason, retry_in_s=retry_in_s)
            case Pause(reason=reason):
                await self._settle_release(held, records, 0.0)
                self.pause(reason)
                self._report(details, reason=reason)
            case DeadLetter() | Bisect():
                await self._settle_refused(held, sent, decision, alike)

    async def _settle_refused(
        self, held: Held, sent: Sent, decision: DeadLetter | Bisect, alike: int
    ) -> None:
        records, details, refusal = sent.batch.records, sent.details, sent.refusal
        assert refusal is not None, "a refusal's decision"
        match decision:
            case DeadLetter(whole=False):
                await self._settle_reject(held, refusal.named)
                rest = held.open_records(among=records)
                self._report(details, rejected=dict(refusal.kinds), resent=len(rest))
                if rest:
                    await self._settle_release(held, rest, 0.0)
            case DeadLetter(whole=True):
                await self._settle_reject(held, [(r, refusal.unnamed) for r in records])
                dead = {refusal.unnamed_kind: len(records)}
                self._report(details, rejected=dead, reason=refusal.unnamed)
            case Bisect():
                self._report(details, resent=len(records), reason=refusal.unnamed)
                await self._bisect(held, sent, alike)

    async def _bisect(self, held: Held, sent: Sent, alike: int) -> None:
        """Send both halves of a batch refused for no record it names, then settle each
        knowing how the other was answered (see `policy.Split`)."""
        assert isinstance(sent.answer, Refused)
        halves = batcher.split(sent.batch, self._numbers)
        first, second = [await self._request(half) for half in halves]
        both = first.answer == second.answer == sent.answer
        deeper = alike + 1 if both else 0  # levels in a row whose halves were refused alike
        for this, other in ((first, second), (second, first)):
            split = policy.Split(sent.answer, other.answer, alike)
            await self._settle(held, this, self._decide(this, split), deeper)

    async def _settle_ack(self, held: Held, sent: Sent) -> None:
        assert isinstance(sent.answer, Accepted)
        pid = process_id(sent.answer) if self._spec.confirmed else None
        entry = LedgerEntry(
            batch_id=sent.details.batch_id,
            account=self.account,
            records=len(sent.batch),
            sent_at=time.time(),
            http_status=sent.answer.status,
            process_id=pid,
            endpoint=self._spec.name,
        )
        await self._queue.ack(held.claim, sent.batch.records, entry)
        held.settle(sent.batch.records)
        self._report(sent.details, process_id=pid)

    async def _settle_release(
        self, held: Held, records: Sequence[QueuedRecord], delay_s: float
    ) -> None:
        await self._queue.release(held.claim, records, delay_s)
        held.settle(records)

    async def _settle_reject(
        self, held: Held, rejections: Sequence[tuple[QueuedRecord, str]]
    ) -> None:
        await self._queue.reject(held.claim, rejections)
        held.settle([r for r, _ in rejections])

    def _backoff(self, attempt: int) -> float:
        retry = self._settings.retry
        return policy.backoff_s(attempt, retry.base_s, retry.cap_s)

    def pause(self, reason: str) -> None:
        """Stop the account's lanes (its records stay queued); the first reason is kept."""
        if self.paused is None:
            self.paused = reason
            message = "account paused: its records stay queued"
            log.error(message, account=self.account, reason=reason)
            self.wakeup.set()  # waiting lanes see it now

    def _report(
        self,
        details: BatchDetails,
        *,
        process_id: int | None = None,
        retry_after_s: float | None = None,
        rejected: dict[str, int] | None = None,
        resent: int = 0,
        **context: object,
    ) -> None:
        by_reason = tuple(sorted((rejected or {}).items()))
        details = replace(
            details,
            process_id=process_id,
            retry_after_s=retry_after_s,
            rejected=sum(n for _, n in by_reason),
            rejected_by_reason=by_reason,
            resent=resent,
        )
        self._hook(details)
        log.info(
            "batch",
            batch_id=details.batch_id,
            records=details.records,
            status=details.status,
            outcome=details.outcome,
            latency_ms=round(details.latency_s * 1000, 1),
            attempt=details.attempt,
            process_id=process_id,
            retry_after_s=retry_after_s,
            rejected=details.rejected,
            **context,
        )
