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
from uploader.outcome import Accepted, Outcome, Paused, Refused, Throttled, Transient, classify
from uploader.push import batcher
from uploader.push.batcher import Batch
from uploader.push.events import BatchDetails, Hook
from uploader.queue.base import Claim, LedgerEntry, Queue, QueuedRecord
from uploader.registry.client import RegistryClient, RegistryResponse
from uploader.retry import backoff_s

log = structlog.get_logger("uploader.push.worker")
_attempts = operator.attrgetter("attempts")


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
        self._endpoint = settings.registry.endpoint
        self._path = getattr(settings.registry.paths, self._endpoint)

    def __repr__(self) -> str:
        state = f"paused={self.paused!r}" if self.paused else f"in_flight={self.in_flight}"
        return f"<AccountWorker {self.account} {state}>"

    async def run(self, stopping: asyncio.Event, drain: bool) -> None:
        """Serve until `stopping` is set (or, with `drain`, until nothing is left to send)."""
        async with asyncio.TaskGroup() as group:
            for lane in range(self._lanes):
                group.create_task(self._lane(stopping, drain), name=f"lane-{self.account}-{lane}")

    async def idle(self) -> bool:
        """Whether this account has nothing pending (now or later) and nothing in flight."""
        return self.in_flight == 0 and await self._queue.next_available_at(self.account) is None

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
            one_inverter=self._endpoint in batcher.ONE_INVERTER_ENDPOINTS,
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
            await self._send(held, batcher.build(records, self._endpoint, self._numbers))
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
        if self._endpoint != "monthly":
            return records
        year = records[0].day[:4]
        later = [r for r in records if r.day[:4] != year]
        if later:
            await self._settle_release(held, later, 0.0)
        return [r for r in records if r.day[:4] == year]

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
        batch_id = uuid.uuid4().hex[:16]
        attempt = max(map(_attempts, batch.records))
        started = time.perf_counter()
        response, outcome = await self._attempt(batch)
        details = BatchDetails(
            account=self.account,
            batch_id=batch_id,
            endpoint=self._endpoint,
            records=len(batch),
            status=response.status if response else None,
            outcome=type(outcome).__name__.lower(),
            latency_s=response.elapsed_s if response else time.perf_counter() - started,
            attempt=attempt,
            wait_s=time.perf_counter() - started - response.elapsed_s if response else None,
        )
        await self._settle(held, batch, batch_id, outcome, details)

    async def _attempt(self, batch: Batch) -> tuple[RegistryResponse | None, Outcome]:
        try:
            response = await self._client.call(
                self.account, "POST", self._path, body=batch.body, endpoint=self._endpoint
            )
        except TransportError as exc:
            return None, Transient(str(exc))
        return response, classify(batch, response)

    async def _settle(
        self, held: _Held, batch: Batch, batch_id: str, outcome: Outcome, details: BatchDetails
    ) -> None:
        match outcome:
            case Accepted(process_id=process_id):
                await self._settle_ack(held, batch, batch_id, process_id, details.status or 200)
                self._report(details, process_id=process_id)
            case Throttled(retry_after_s=retry_after_s):
                await self._settle_release(held, batch.records, retry_after_s)
                self._report(details, retry_after_s=retry_after_s)
            case Transient(reason=reason):
                delay = self._backoff(details.attempt)
                await self._settle_release(held, batch.records, delay)
                self._report(details, reason=reason, retry_in_s=round(delay, 3))
            case Paused(reason=reason):
                await self._settle_release(held, batch.records, 0.0)
                self._pause(reason)
                self._report(details, reason=reason)
            case Refused():
                self._report(details, rejected=len(outcome.named), reason=outcome.unnamed)
                await self._settle_refused(held, batch, outcome)

    async def _settle_refused(self, held: _Held, batch: Batch, outcome: Refused) -> None:
        if outcome.named:
            await self._settle_reject(held, outcome.named)
            rest = held.open_records(among=batch.records)
            if rest:
                await self._settle_release(held, rest, 0.0)
        elif len(batch) == 1:
            await self._settle_reject(held, [(batch.records[0], outcome.unnamed or "refused")])
        else:
            for half in batcher.split(batch, self._numbers):
                await self._send(held, half)

    async def _settle_ack(
        self, held: _Held, batch: Batch, batch_id: str, process_id: int | None, status: int
    ) -> None:
        entry = LedgerEntry(
            batch_id=batch_id,
            account=self.account,
            records=len(batch),
            sent_at=time.time(),
            http_status=status,
            process_id=process_id,
            endpoint=self._endpoint,
        )
        await self._queue.ack(held.claim, batch.records, entry)
        held.settle(batch.records)

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
        return backoff_s(attempt, retry.base_s, retry.cap_s)

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
