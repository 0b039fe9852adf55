"""A claim while its records are delivered, and one request's outcome before it is settled."""

from __future__ import annotations

import asyncio
import operator
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import structlog

from uploader.errors import QueueError
from uploader.push import batcher
from uploader.push.batcher import Batch, Refusal
from uploader.push.events import BatchDetails
from uploader.queue.base import Claim, Queue, QueuedRecord
from uploader.registry.answers import (
    Accepted,
    Answer,
    Denied,
    Malformed,
    Refused,
    RegistryResponse,
    Throttled,
    Unavailable,
)

log = structlog.get_logger("uploader.push.worker")

_attempts = operator.attrgetter("attempts")
# The bounded label each answer gets in logs and metrics.
_OUTCOMES: dict[type, str] = {
    Accepted: "accepted",
    Malformed: "malformed",
    Throttled: "throttled",
    Unavailable: "transient",
    Denied: "paused",
    Refused: "refused",
}


@dataclass
class Held:
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

    async def keep(self, queue: Queue, lease_s: float) -> None:
        """Extend the claim's lease every third of `lease_s` while it lasts (a task, cancelled
        once the claim is settled)."""
        while time.time() < self.claim.lease_until:
            await asyncio.sleep(lease_s / 3)
            try:
                self.claim = await queue.extend(self.claim, lease_s)
            except QueueError as exc:
                # The queue is out of reach (tried again while the lease lasts), or the lease
                # ran out (the loop was starved): the records may be claimed again elsewhere;
                # sending them twice is harmless, the registry overwrites days.
                log.warning("lease not extended", error=str(exc))

    async def release_open(self, queue: Queue, backoff_s: Callable[[int], float]) -> None:
        """Whatever was not acked or rejected goes back to pending.

        Reached on every exit, cancellation included. Each try is shielded, so a cancelled
        shutdown still completes the one under way; a queue out of reach is tried again after
        `backoff_s(failures)` while the lease lasts (past it, the records are pending again
        anyway), unless the caller is cancelled.
        """
        records = self.open_records()
        failures = 0
        while records and time.time() < self.claim.lease_until:
            try:
                await asyncio.shield(queue.release(self.claim, records, 0.0))
                return
            except QueueError:
                await asyncio.sleep(backoff_s(failures))
                failures += 1
            except Exception:  # the exit path never fails: the lease runs out instead
                return


@dataclass(frozen=True, slots=True)
class Sent:
    """One request of a batch and what came of it, before it is settled."""

    batch: Batch
    answer: Answer
    details: BatchDetails
    refusal: Refusal | None  # what a refusal says of the batch's records

    @classmethod
    def of(
        cls,
        account: str,
        batch: Batch,
        response: RegistryResponse | None,
        answer: Answer,
        took_s: float,
    ) -> Sent:
        refusal = batcher.refused_records(batch, answer) if isinstance(answer, Refused) else None
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
        return cls(batch, answer, details, refusal)

    @property
    def named(self) -> list[tuple[QueuedRecord, str]]:
        """The records a refusal names, each with its reason."""
        return self.refusal.named if self.refusal else []
