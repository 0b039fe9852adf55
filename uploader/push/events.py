"""What the push path reports as it works: one frozen record per settled batch, and counters.

Hooks (metrics, the demo's progress view) receive `BatchDetails`; nothing in the push path
knows who listens.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class BatchDetails:
    """One settled request of a batch; or, outcome `failed`, a delivered batch whose processing
    the registry reported Failed (no request of its own: its records go again, or are dead)."""

    account: str
    batch_id: str
    endpoint: str
    records: int
    status: int | None  # None when the transport failed
    outcome: str  # accepted | malformed | throttled | transient | refused | paused | failed
    latency_s: float
    attempt: int
    process_id: int | None = None
    retry_after_s: float | None = None
    rejected: int = 0  # records dead-lettered
    wait_s: float | None = None  # time spent waiting for rate budget, when the sender knows it
    rejected_by_reason: tuple[tuple[str, int], ...] = ()  # (short reason, records) of `rejected`
    resent: int = 0  # records that go again (a retry, a bisection's halves, Failed processing)


Hook = Callable[[BatchDetails], None]
RETRIED = frozenset({"throttled", "transient", "malformed"})  # outcomes whose records go again
PROCESSING_FAILED = "failed"  # the outcome of a batch the registry could not process


@dataclass
class Stats:
    """Running totals of a push run, per account and overall."""

    batches: Counter[str] = field(default_factory=Counter)  # by outcome
    records_sent: Counter[str] = field(default_factory=Counter)  # by account
    records_rejected: Counter[str] = field(default_factory=Counter)
    records_resent: Counter[str] = field(default_factory=Counter)
    dead_reasons: Counter[str] = field(default_factory=Counter)  # records by short reason
    requests: Counter[str] = field(default_factory=Counter)  # by account
    rate_limited: int = 0
    retries: int = 0

    def record(self, details: BatchDetails) -> None:
        """Count one settled request."""
        self.batches[details.outcome] += 1
        if details.outcome != PROCESSING_FAILED:
            self.requests[details.account] += 1
        self.records_resent[details.account] += details.resent
        self.dead_reasons.update(dict(details.rejected_by_reason))
        if details.outcome == "accepted":
            self.records_sent[details.account] += details.records
        elif details.outcome == "throttled":
            self.rate_limited += 1
        if details.outcome in RETRIED:
            self.retries += 1
        self.records_rejected[details.account] += details.rejected

    def __repr__(self) -> str:
        return (
            f"<Stats batches_ok={self.batches['accepted']} "
            f"batches_failed={sum(self.batches.values()) - self.batches['accepted']} "
            f"records_sent={sum(self.records_sent.values())} rate_limited={self.rate_limited}>"
        )
