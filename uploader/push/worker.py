"""One account's push loop: lanes that claim, send and settle batches.

A record leaves the queue only through `ack` (the registry took it) or `reject` (the
registry refused it, with its reason, into the dead letters). Every other path, including
cancellation at shutdown, releases it back to pending, so nothing is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import operator
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import structlog

from uploader.config import Settings
from uploader.errors import QueueError, TransportError
from uploader.push import batcher, policy
from uploader.push.batcher import Batch
from uploader.push.endpoints import ENDPOINTS, EndpointSpec
from uploader.push.events import BatchDetails, Hook
from uploader.push.policy import Ack, Bisect, DeadLetter, Decision, Pause, Retry
from uploader.queue.base import Claim, LedgerEntry, Queue, QueuedRecord
from uploader.registry.answers import (
    Accepted,
    Answer,
    Denied,
    Refused,
    RegistryResponse,
    Throttled,
    Unavailable,
    classify,
    process_id,
)
from uploader.registry.client import RegistryClient

log = structlog.get_logger("uploader.push.worker")
_attempts = operator.attrgetter("attempts")
# The bounded label each answer gets in logs and metrics.
_OUTCOMES: dict[type, str] = {
    Accepted: "accepted",
    Throttled: "throttled",
    Unavailable: "transient",
    Denied: "paused",
    Refused: "refused",
}


@dataclass
class _Held:
    """A claim being delivered, and which of its records are settled."""

    claim: Claim
    settled: set[int] = field(default_factory=set)
    all_settled: bool = False

    def settle(self, records: Sequence[QueuedRecord]) -> None:
        # The common case, one ack for the whole claim, keeps no set of 3000 ids.
        if not self.settled and len(records) == len(self.claim.records):
            self.all_settled = True
        else:
            self.settled.update(r.id for r in records)

    def open_records(self, among: Sequence[QueuedRecord] | None = None) -> list[QueuedRecord]:
        """The claim's records (or those of `among`) not settled yet."""
        if self.all_settled:
            return []
        records = self.claim.records if among is None else among
        return [r for r in records if r.id not in self.settled]


@dataclass(frozen=True, slots=True)
class _Sent:
    """One request of a batch and what came of it, before it is settled."""

    batch: Batch
    answer: Answer
    details: BatchDetails
    named: list[tuple[QueuedRecord, str]]  # records a refusal names, with its reasons
    unnamed: str  # what a refusal says about no record in particular

    @classmethod
    def of(
        cls,
        account: str,
        batch: Batch,
        response: RegistryResponse | None,
        answer: Answer,
        took_s: float,
    ) -> _Sent:
        named, unnamed = (
            batcher.refused_records(batch, answer) if isinstance(answer, Refused) else ([], "")
        )
        latency_s = response.elapsed_s if response else took_s
        details = BatchDetails(
            account=account,
            batch_id=uuid.uuid4().hex[:16],
            endpoint=batch.spec.name,
            records=len(batch),
            status=response.status if response else None,
            outcome=_OUTCOMES[type(answer)],
            latency_s=latency_s,
            attempt=max(map(_attempts, batch.records)),
            wait_s=took_s - latency_s if response else None,
        )
        return cls(batch, answer, details, named, unnamed)


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
    ) -> None:
        self.account = account
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

    async def run(self, stopping: asyncio.Event, drain: bool) -> None:
        """Serve until `stopping` is set (or, with `drain`, until nothing is left to send)."""
        async with asyncio.TaskGroup() as group:
            for lane in range(self._lanes):
                group.create_task(self._lane(stopping, drain), name=f"lane-{self.account}-{lane}")

    async def idle(self) -> bool:
        """Whether this account has nothing in flight, and nothing pending, leased (by whoever:
        a lease that runs out makes its records pending) or delayed in the queue."""
        return self.in_flight == 0 and await self._queue.drained(self.account)

    async def _lane(self, stopping: asyncio.Event, drain: bool) -> None:
        structlog.contextvars.bind_contextvars(account=self.account)
        failures = 0
        while not stopping.is_set() and self.paused is None:
            try:
                if await self._turn(stopping, drain):
                    return
                failures = 0
            except QueueError as exc:
                # The queue's storage failed (a lock held too long, Redis out of reach): what
                # was in flight stays leased and comes back when its lease runs out, so the
                # lane waits and tries again rather than ending the service.
                delay = self._backoff(failures)
                failures += 1
                log.warning("queue unavailable", error=str(exc), retry_in_s=round(delay, 3))
                await _sleep_unless(stopping, delay)

    async def _turn(self, stopping: asyncio.Event, drain: bool) -> bool:
        """One claim and its delivery, or a wait for work; True when a drain is over."""
        claim = await self._claim()
        if claim is not None:
            await self._deliver(_Held(claim))
        elif drain and await self.idle():
            return True
        else:
            await self._wait_for_work(stopping)
        return False

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
        timeout = self._settings.worker.idle_poll_s
        next_at = await self._queue.next_available_at(self.account)
        if next_at is not None:
            timeout = min(timeout, max(0.0, next_at - time.time()))
        self.wakeup.clear()
        waiters = [asyncio.ensure_future(e.wait()) for e in (self.wakeup, stopping)]
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _deliver(self, held: _Held) -> None:
        self.in_flight += 1
        keeper = asyncio.create_task(self._keep_lease(held), name=f"lease-{self.account}")
        try:
            records = await self._first_year(held)
            spec = await self._spec_for(records)
            await self._send(held, batcher.build(records, spec, self._numbers))
        finally:
            keeper.cancel()
            try:
                await self._release_unsettled(held)
            finally:
                self.in_flight -= 1
                if not self.in_flight:
                    self.wakeup.set()  # lanes waiting for work look again: a drain may be over

    @property
    def _numbers(self) -> str:
        return self._settings.registry.numbers

    async def _first_year(self, held: _Held) -> Sequence[QueuedRecord]:
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

    async def _keep_lease(self, held: _Held) -> None:
        lease_s = self._settings.worker.lease_s
        while True:
            await asyncio.sleep(lease_s / 3)
            try:
                held.claim = await self._queue.extend(held.claim, lease_s)
            except QueueError as exc:
                # The lease ran out (the loop was starved): the records may be claimed again
                # elsewhere; sending them twice is harmless, the registry overwrites days.
                log.warning("lease lost while in flight", error=str(exc))
                return

    async def _release_unsettled(self, held: _Held) -> None:
        # Reached on every exit, cancellation included: whatever was not acked or rejected
        # goes back to pending. Shielded so a cancelled shutdown still completes it.
        records = held.open_records()
        if records:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._queue.release(held.claim, records, 0.0))

    async def _send(self, held: _Held, batch: Batch) -> None:
        started = time.perf_counter()
        response, answer = await self._attempt(batch)
        sent = _Sent.of(self.account, batch, response, answer, time.perf_counter() - started)
        decision = policy.decide(
            answer,
            attempt=sent.details.attempt,
            records=len(batch),
            named=len(sent.named),
            retry=self._settings.retry,
        )
        await self._settle(held, sent, decision)

    async def _attempt(self, batch: Batch) -> tuple[RegistryResponse | None, Answer]:
        try:
            response = await self._client.call(
                self.account, "POST", self._path, body=batch.body, endpoint=self._spec.name
            )
        except TransportError as exc:
            return None, Unavailable(str(exc))
        return response, classify(response)

    async def _settle(self, held: _Held, sent: _Sent, decision: Decision) -> None:
        records, details = sent.batch.records, sent.details
        match decision:
            case Ack():
                await self._settle_ack(held, sent)
            case Retry(delay_s=delay_s, reason=reason):
                await self._settle_release(held, records, delay_s)
                if isinstance(sent.answer, Throttled):
                    self._report(details, retry_after_s=delay_s)
                else:
                    self._report(details, reason=reason, retry_in_s=round(delay_s, 3))
            case Pause(reason=reason):
                await self._settle_release(held, records, 0.0)
                self._pause(reason)
                self._report(details, reason=reason)
            case DeadLetter(whole=False):
                self._report(details, rejected=len(sent.named))
                await self._settle_reject(held, sent.named)
                rest = held.open_records(among=records)
                if rest:
                    await self._settle_release(held, rest, 0.0)
            case DeadLetter(whole=True):
                self._report(details, reason=sent.unnamed)
                await self._settle_reject(held, [(r, sent.unnamed) for r in records])
            case Bisect():
                self._report(details, reason=sent.unnamed)
                for half in batcher.split(sent.batch, self._numbers):
                    await self._send(held, half)

    async def _settle_ack(self, held: _Held, sent: _Sent) -> None:
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
        self, held: _Held, records: Sequence[QueuedRecord], delay_s: float
    ) -> None:
        await self._queue.release(held.claim, records, delay_s)
        held.settle(records)

    async def _settle_reject(
        self, held: _Held, rejections: Sequence[tuple[QueuedRecord, str]]
    ) -> None:
        await self._queue.reject(held.claim, rejections)
        held.settle([r for r, _ in rejections])

    def _backoff(self, attempt: int) -> float:
        retry = self._settings.retry
        return policy.backoff_s(attempt, retry.base_s, retry.cap_s)

    def _pause(self, reason: str) -> None:
        if self.paused is None:
            self.paused = reason
            log.error("account paused: its records stay queued", reason=reason)

    def _report(
        self,
        details: BatchDetails,
        *,
        process_id: int | None = None,
        retry_after_s: float | None = None,
        rejected: int = 0,
        **context: object,
    ) -> None:
        details = replace(
            details, process_id=process_id, retry_after_s=retry_after_s, rejected=rejected
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
            rejected=rejected,
            **context,
        )


async def _sleep_unless(stopping: asyncio.Event, delay_s: float) -> None:
    """Sleep `delay_s`, or less if the service is stopping."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), timeout=delay_s)
