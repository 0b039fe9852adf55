"""Prometheus metrics of the service, in a registry of their own (tests build several).

Two feeds: `observe` is the push path's hook (one `BatchDetails` per settled request), and
`refresh` copies what can only be read (queue counts, limiter budgets, paused accounts, the
queue backend's state and the accounts this replica serves) into gauges just before a
scrape; the HTTP handler awaits the queue's counts and passes them in, so nothing here
touches SQLite. Labels stay bounded: account (configured), endpoint, HTTP
status, outcome, policy, queue state. Never an inverter.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Collection, Iterable, Mapping

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.exposition import choose_encoder

from uploader.push.events import RETRIED, BatchDetails
from uploader.queue import DeadlineCounts
from uploader.registry.limiter import Key, KeyedLimiter

# Seconds. Latency: a 3000-record POST is ~50 ms locally and can reach the 30 s timeout.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# Seconds. Limiter waits and Retry-After run up to the IP policy's 300 s window.
WAIT_BUCKETS = (0.001, 0.01, 0.1, 0.5, 1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0)
QUEUE_STATES = ("pending", "delayed", "leased", "sent", "dead")

# `*_created` samples (one per counter and histogram child) would double the exposition for
# nothing a dashboard of this service uses; the switch is process-wide in prometheus-client.
disable_created_metrics()  # type: ignore[no-untyped-call]


class Metrics:
    """Every series the service exposes; `observe` is a `Hook` for `Uploader(hooks=...)`."""

    def __init__(self, accounts: Iterable[str]) -> None:
        self.registry = CollectorRegistry()
        self.accounts = sorted(accounts)
        self._define_records()
        self._define_requests()
        self._define_state()
        self._zero()

    def _define_records(self) -> None:
        reg = self.registry
        self.enqueued = Counter(
            "uploader_records_enqueued",
            "Records queued with a new value",
            ["account"],
            registry=reg,
        )
        self.sent = Counter(
            "uploader_records_sent", "Records the registry accepted", ["account"], registry=reg
        )
        self.rejected = Counter(
            "uploader_records_rejected",
            "Records refused, at ingest or by the registry (kept as dead letters)",
            ["account", "stage"],
            registry=reg,
        )
        self.flagged = Counter(
            "uploader_records_flagged",
            "Records accepted at ingest with a flag (before_claimable, accumulated_falls)",
            ["account", "flag"],
            registry=reg,
        )

    def _define_requests(self) -> None:
        reg = self.registry
        self.batches = Counter(
            "uploader_batches", "Settled batch requests", ["account", "outcome"], registry=reg
        )
        self.requests = Counter(
            "uploader_requests",
            "Registry requests by endpoint and HTTP status (error: no answer)",
            ["endpoint", "status"],
            registry=reg,
        )
        self.latency = Histogram(
            "uploader_request_duration_seconds",
            "Registry request latency, from sending to the answer (rate-limit waits apart)",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=reg,
        )
        self.rate_limited = Counter(
            "uploader_rate_limited", "429 answers received", ["account"], registry=reg
        )
        self.retry_after = Histogram(
            "uploader_retry_after_seconds",
            "Retry-After of the 429 answers received",
            buckets=WAIT_BUCKETS,
            registry=reg,
        )
        self.retries = Counter(
            "uploader_retries", "Batches to be sent again", ["reason"], registry=reg
        )
        self.limiter_wait = Histogram(
            "uploader_limiter_wait_seconds",
            "Time a batch waited for rate budget before it was sent",
            buckets=WAIT_BUCKETS,
            registry=reg,
        )

    def _define_state(self) -> None:
        reg = self.registry
        self.queue_records = Gauge(
            "uploader_queue_records", "Records in the queue", ["account", "state"], registry=reg
        )
        self.oldest_pending = Gauge(
            "uploader_queue_oldest_pending_age_seconds",
            "Age of the oldest pending record (0 when none)",
            ["account"],
            registry=reg,
        )
        self.limiter_remaining = Gauge(
            "uploader_limiter_remaining",
            "Requests a rate policy would allow right now (absent for a budget the fleet shares)",
            ["policy", "key"],
            registry=reg,
        )
        self.limiter_waiting = Gauge(
            "uploader_limiter_waiting",
            "Requests waiting for a rate-policy slot",
            ["policy", "key"],
            registry=reg,
        )
        self.paused = Gauge("uploader_accounts_paused", "Accounts paused", registry=reg)
        self.account_paused = Gauge(
            "uploader_account_paused", "1 while the account is paused", ["account"], registry=reg
        )
        self.deadline_closing = Gauge(
            "uploader_queue_deadline_closing_records",
            "Pending records whose residual-mix claim deadline is within the status horizon "
            "(30 days, today included)",
            ["account"],
            registry=reg,
        )
        self.deadline_closed = Gauge(
            "uploader_queue_deadline_passed_records",
            "Pending records whose claim deadline has passed: they can no longer be issued",
            ["account"],
            registry=reg,
        )
        self.backend_up = Gauge(
            "uploader_queue_backend_up",
            "1 while the queue's storage answers, 0 while it is out of reach (nothing is sent "
            "for accounts whose leases cannot be proven)",
            registry=reg,
        )
        self.data_lost = Gauge(
            "uploader_queue_data_lost",
            "1 once the queue's storage was found to have lost its data (nothing is sent until "
            "a restart)",
            registry=reg,
        )
        self.serving = Gauge(
            "uploader_account_served",
            "1 while this process serves the account (holds its lease)",
            ["account"],
            registry=reg,
        )
        self.replicas = Gauge(
            "uploader_replicas",
            "Live replicas sharing the accounts, this one included",
            registry=reg,
        )
        self.deadline_days = Gauge(
            "uploader_queue_deadline_soonest_days",
            "Days until the soonest claim deadline of an account's pending records (absent "
            "when none is open)",
            ["account"],
            registry=reg,
        )

    def _zero(self) -> None:
        # Series of every configured account exist from the start, so rates and alerts on
        # them work before the first event.
        for account in self.accounts:
            self.enqueued.labels(account)
            self.sent.labels(account)
            self.rate_limited.labels(account)
            self.account_paused.labels(account).set(0)
            self.serving.labels(account).set(0)
            self.deadline_closing.labels(account)
            self.deadline_closed.labels(account)
            for state in QUEUE_STATES:
                self.queue_records.labels(account, state)

    def observe(self, details: BatchDetails) -> None:
        """The push path's hook: count one settled request."""
        self.batches.labels(details.account, details.outcome).inc()
        if details.outcome == "accepted":
            self.sent.labels(details.account).inc(details.records)
        if details.rejected:
            self.rejected.labels(details.account, "registry").inc(details.rejected)
        if details.outcome == "throttled":
            self.rate_limited.labels(details.account).inc()
            if details.retry_after_s is not None:
                self.retry_after.observe(details.retry_after_s)
        if details.outcome in RETRIED:
            self.retries.labels(details.outcome).inc()
        if details.wait_s is not None:
            self.limiter_wait.observe(details.wait_s)

    def observe_request(self, endpoint: str, status: int | None, elapsed_s: float) -> None:
        """The client's hook: every request (batches, status polls, tokens) by endpoint."""
        self.requests.labels(endpoint, "error" if status is None else str(status)).inc()
        self.latency.labels(endpoint).observe(elapsed_s)

    def observe_ingest(
        self, account: str, enqueued: int, rejected: int, flagged: Mapping[str, int]
    ) -> None:
        """Count what one ingest call queued, refused and flagged."""
        self.enqueued.labels(account).inc(enqueued)
        if rejected:
            self.rejected.labels(account, "ingest").inc(rejected)
        for flag, count in flagged.items():
            if count:
                self.flagged.labels(account, flag).inc(count)

    def refresh_queue(self, per_account: Mapping[str, Mapping[str, int | float | None]]) -> None:
        """Queue depth per account and state, and the oldest pending record's age.

        `per_account` maps an account to its counts (`pending`, `leased`, `sent`, `dead`) and
        `oldest_pending_at` (wall-clock seconds, or None).
        """
        now = time.time()
        for account, counts in per_account.items():
            for state in QUEUE_STATES:
                self.queue_records.labels(account, state).set(counts.get(state) or 0)
            oldest = counts.get("oldest_pending_at")
            self.oldest_pending.labels(account).set(max(0.0, now - oldest) if oldest else 0.0)

    def refresh_deadlines(self, deadlines: Mapping[str, DeadlineCounts], today: dt.date) -> None:
        """Pending records near or past their claim deadline, per configured account (and any
        other account the queue knows); `today` on the registry's calendar."""
        for account in sorted(set(self.accounts) | deadlines.keys()):
            found = deadlines.get(account) or DeadlineCounts()
            self.deadline_closing.labels(account).set(found.closing)
            self.deadline_closed.labels(account).set(found.closed)
            if found.soonest is None:
                with contextlib.suppress(KeyError):  # no open deadline: no sample
                    self.deadline_days.remove(account)
            else:
                days = (dt.date.fromisoformat(found.soonest) - today).days
                self.deadline_days.labels(account).set(days)

    def refresh_limiter(self, limiter: KeyedLimiter, keys: Iterable[Key]) -> None:
        """Remaining budget and waiting requests of each rate-policy key."""
        for key in keys:
            if limiter.shares(key):  # the fleet's budget: what is left is not known here
                with contextlib.suppress(KeyError):
                    self.limiter_remaining.remove(*key)
            else:
                self.limiter_remaining.labels(*key).set(limiter.remaining(key))
            self.limiter_waiting.labels(*key).set(limiter.waiting(key))

    def refresh_fleet(
        self, *, up: bool, data_lost: bool, serving: Collection[str], replicas: int
    ) -> None:
        """The queue backend's state, and which configured accounts this process serves."""
        self.backend_up.set(int(up))
        self.data_lost.set(int(data_lost))
        for account in self.accounts:
            self.serving.labels(account).set(int(account in serving))
        self.replicas.set(replicas)

    def refresh_paused(self, paused: Mapping[str, str | None]) -> None:
        """Which accounts are paused (account -> reason, None when running)."""
        for account, reason in paused.items():
            self.account_paused.labels(account).set(0 if reason is None else 1)
        self.paused.set(sum(reason is not None for reason in paused.values()))

    def render(self, accept: str = "") -> tuple[bytes, str]:
        """The exposition body and its content type, in the format `accept` asks for."""
        encoder, content_type = choose_encoder(accept)
        return encoder(self.registry), content_type
