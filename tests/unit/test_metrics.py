"""The metrics hook and the scrape-time gauges, read back from the metrics' own registry."""

from __future__ import annotations

import datetime as dt
import time

from uploader.observe.metrics import Metrics
from uploader.push.events import BatchDetails
from uploader.queue import DeadlineCounts
from uploader.registry.limiter import KeyedLimiter, Policy
from uploader.registry.ratespec import RateSpec


def details(**overrides: object) -> BatchDetails:
    values: dict[str, object] = {
        "account": "acme",
        "batch_id": "b1",
        "endpoint": "batch",
        "records": 3000,
        "status": 200,
        "outcome": "accepted",
        "latency_s": 0.05,
        "attempt": 1,
    }
    values.update(overrides)
    return BatchDetails(**values)  # type: ignore[arg-type]


def value(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_accepted_batches_count_records() -> None:
    """An accepted batch adds its records to sent and counts as an accepted batch."""
    metrics = Metrics(["acme"])
    metrics.observe(details())
    metrics.observe(details(records=10))
    assert value(metrics, "uploader_records_sent_total", account="acme") == 3010
    assert value(metrics, "uploader_batches_total", account="acme", outcome="accepted") == 2


def test_every_request_counts_by_endpoint_and_status() -> None:
    """The client's hook counts each request (polls and tokens too) with its latency."""
    metrics = Metrics(["acme"])
    metrics.observe_request("batch", 200, 0.05)
    metrics.observe_request("batch", 200, 0.07)
    metrics.observe_request("statuses", 200, 0.01)
    metrics.observe_request("batch", None, 5.0)
    assert value(metrics, "uploader_requests_total", endpoint="batch", status="200") == 2
    assert value(metrics, "uploader_requests_total", endpoint="statuses", status="200") == 1
    assert value(metrics, "uploader_requests_total", endpoint="batch", status="error") == 1
    assert value(metrics, "uploader_request_duration_seconds_count", endpoint="batch") == 3


def test_a_429_counts_retry_after_and_a_retry_but_sends_nothing() -> None:
    """A throttled batch counts a 429, observes its Retry-After and a retry; no record is sent."""
    metrics = Metrics(["acme"])
    metrics.observe(details(status=429, outcome="throttled", retry_after_s=30.0))
    assert value(metrics, "uploader_rate_limited_total", account="acme") == 1
    assert value(metrics, "uploader_retry_after_seconds_sum") == 30.0
    assert value(metrics, "uploader_retries_total", reason="throttled") == 1
    assert value(metrics, "uploader_records_sent_total", account="acme") == 0


def test_transport_failures_and_rejections_are_labelled() -> None:
    """A transport failure is a transient retry; registry rejections count per account."""
    metrics = Metrics(["acme"])
    metrics.observe(details(status=None, outcome="transient"))
    metrics.observe(details(status=422, outcome="refused", rejected=7))
    assert value(metrics, "uploader_retries_total", reason="transient") == 1
    assert value(metrics, "uploader_records_rejected_total", account="acme", stage="registry") == 7


def test_limiter_wait_is_observed_when_the_sender_knows_it() -> None:
    """A batch that reports its wait for rate budget lands in the wait histogram."""
    metrics = Metrics(["acme"])
    metrics.observe(details())
    metrics.observe(details(wait_s=1.5))
    assert value(metrics, "uploader_limiter_wait_seconds_count") == 1
    assert value(metrics, "uploader_limiter_wait_seconds_sum") == 1.5


def test_ingest_counts_enqueued_rejected_and_flagged() -> None:
    """An ingest call counts queued records, ingest rejections and each flag."""
    metrics = Metrics(["acme"])
    metrics.observe_ingest("acme", 5, 2, {"before_claimable": 3, "accumulated_falls": 0})
    assert value(metrics, "uploader_records_enqueued_total", account="acme") == 5
    assert value(metrics, "uploader_records_rejected_total", account="acme", stage="ingest") == 2
    assert value(metrics, "uploader_records_flagged_total", account="acme", flag="before_claimable")
    assert value(metrics, "uploader_records_flagged_total", account="acme", flag="x") is None


def test_queue_gauges_show_depth_and_the_oldest_pending_age() -> None:
    """Queue depth per state and the oldest pending age come from the counts passed in."""
    metrics = Metrics(["acme", "beta"])
    metrics.refresh_queue(
        {
            "acme": {
                "pending": 4,
                "delayed": 3,
                "leased": 1,
                "sent": 9,
                "dead": 2,
                "oldest_pending_at": 1.0,
            },
            "beta": {"pending": 0, "oldest_pending_at": None},
        }
    )
    assert value(metrics, "uploader_queue_records", account="acme", state="pending") == 4
    assert value(metrics, "uploader_queue_records", account="acme", state="delayed") == 3
    assert value(metrics, "uploader_queue_records", account="acme", state="dead") == 2
    age = value(metrics, "uploader_queue_oldest_pending_age_seconds", account="acme")
    assert age is not None
    assert age >= time.time() - 2.0
    assert value(metrics, "uploader_queue_oldest_pending_age_seconds", account="beta") == 0


async def test_limiter_gauges_show_the_remaining_budget_per_policy() -> None:
    """Remaining budget per policy key drops by the slots in use."""
    limiter = KeyedLimiter({"account": Policy(RateSpec(50, 60.0)), "ip": Policy(RateSpec(3, 1.0))})
    metrics = Metrics(["acme"])
    async with limiter.slot(("account", "acme"), ("ip", "default")):
        metrics.refresh_limiter(limiter, [("account", "acme"), ("ip", "default")])
    assert value(metrics, "uploader_limiter_remaining", policy="account", key="acme") == 49
    assert value(metrics, "uploader_limiter_remaining", policy="ip", key="default") == 2
    assert value(metrics, "uploader_limiter_waiting", policy="ip", key="default") == 0


class FleetSlots:
    """Slots of a budget every replica shares; this test never takes one."""

    refundable = False

    async def acquire(self, front: bool) -> tuple[str, float]:
        raise AssertionError("not taken in this test")

    def release(self, slot: str, used: bool) -> None:
        raise AssertionError("not taken in this test")

    def waiting(self) -> int:
        return 0

    async def flush(self) -> None:
        return None


def test_a_shared_ip_budget_has_no_remaining_gauge_of_one_replica() -> None:
    """With the IP budget shared by the fleet, a replica reports no remaining count of its own
    for it (it would always say the whole limit), only its requests waiting."""
    limiter = KeyedLimiter({"account": Policy(RateSpec(50, 60.0)), "ip": Policy(RateSpec(3, 1.0))})
    limiter.attach(None, {"ip": FleetSlots()})
    metrics = Metrics(["acme"])
    metrics.refresh_limiter(limiter, [("account", "acme"), ("ip", "default")])
    assert value(metrics, "uploader_limiter_remaining", policy="account", key="acme") == 50
    assert value(metrics, "uploader_limiter_remaining", policy="ip", key="default") is None
    assert value(metrics, "uploader_limiter_waiting", policy="ip", key="default") == 0


def test_paused_accounts_are_counted() -> None:
    """Paused accounts show 1 each and in the total; running ones 0."""
    metrics = Metrics(["acme", "beta"])
    metrics.refresh_paused({"acme": "the account is forbidden", "beta": None})
    assert value(metrics, "uploader_accounts_paused") == 1
    assert value(metrics, "uploader_account_paused", account="acme") == 1
    assert value(metrics, "uploader_account_paused", account="beta") == 0


def test_render_negotiates_the_exposition_format() -> None:
    """Prometheus text by default, OpenMetrics when asked; configured accounts start at zero."""
    metrics = Metrics(["acme"])
    body, content_type = metrics.render()
    assert content_type.startswith("text/plain")
    assert b'uploader_records_sent_total{account="acme"} 0.0' in body
    _, content_type = metrics.render("application/openmetrics-text; version=1.0.0")
    assert content_type.startswith("application/openmetrics-text")


def test_deadline_gauges_show_records_closing_and_past_and_the_soonest() -> None:
    """Closing and past counts per account; days to the soonest deadline, absent when none."""
    metrics = Metrics(["acme", "bolt"])
    today = dt.date(2025, 5, 2)
    metrics.refresh_deadlines({"acme": DeadlineCounts(3, 1, "2025-05-31")}, today)
    assert value(metrics, "uploader_queue_deadline_closing_records", account="acme") == 3
    assert value(metrics, "uploader_queue_deadline_passed_records", account="acme") == 1
    assert value(metrics, "uploader_queue_deadline_soonest_days", account="acme") == 29
    assert value(metrics, "uploader_queue_deadline_closing_records", account="bolt") == 0
    assert value(metrics, "uploader_queue_deadline_soonest_days", account="bolt") is None
    metrics.refresh_deadlines({}, today)  # everything delivered since
    assert value(metrics, "uploader_queue_deadline_closing_records", account="acme") == 0
    assert value(metrics, "uploader_queue_deadline_soonest_days", account="acme") is None
