"""GET /metrics: every listed series, fed by a real push run against the simulator."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import AsyncIterator

import pytest

from tests.integration.service.conftest import REGISTRY_TOKENS, TOKEN, Running, ServiceFactory
from uploader.residual_mix import claim_deadline, registry_today
from uploader.simulator import FakeRegistry, SimOptions

DAY = (dt.date.today() - dt.timedelta(days=3)).isoformat()

SERIES = [
    "uploader_records_enqueued_total",
    "uploader_records_sent_total",
    "uploader_records_rejected_total",
    "uploader_records_flagged_total",
    "uploader_queue_records",
    "uploader_queue_oldest_pending_age_seconds",
    "uploader_requests_total",
    "uploader_rate_limited_total",
    "uploader_retry_after_seconds",
    "uploader_retries_total",
    "uploader_limiter_wait_seconds",
    "uploader_limiter_remaining",
    "uploader_limiter_waiting",
    "uploader_request_duration_seconds",
    "uploader_accounts_paused",
    "uploader_queue_deadline_closing_records",
    "uploader_queue_deadline_passed_records",
    "uploader_queue_deadline_soonest_days",
    "uploader_queue_backend_up",
    "uploader_queue_data_lost",
    "uploader_account_served",
    "uploader_replicas",
]


@pytest.fixture
async def sim() -> AsyncIterator[FakeRegistry]:
    """A simulator knowing the test accounts' tokens, accepting any inverter."""
    async with FakeRegistry(SimOptions(tokens=REGISTRY_TOKENS, open_inverters=True)) as registry:
        yield registry


def sample(text: str, name: str, labels: str = "") -> float:
    """The value of one sample of the exposition text."""
    match = re.search(rf"^{re.escape(name + labels)} (\S+)$", text, re.MULTILINE)
    assert match, f"{name}{labels} not exposed"
    return float(match.group(1))


async def scrape(running: Running) -> str:
    async with running.http.get(f"{running.url}/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        return await response.text()


async def test_metrics_expose_every_listed_series(running: Running) -> None:
    """Each series of the issue's list is in the exposition, with HELP and TYPE, from the start."""
    text = await scrape(running)
    for name in SERIES:
        assert re.search(rf"^# TYPE {name} ", text, re.MULTILINE), name
    assert sample(text, "uploader_accounts_paused") == 0
    assert sample(text, "uploader_queue_backend_up") == 1
    assert sample(text, "uploader_queue_data_lost") == 0
    assert sample(text, "uploader_replicas") == 1
    assert sample(text, "uploader_account_served", '{account="acme"}') == 0  # not running yet


async def test_a_push_run_shows_in_the_metrics(
    start_service: ServiceFactory, sim: FakeRegistry
) -> None:
    """Ingested, sent and throttled records, requests and queue depth show after a drain."""
    running = await start_service(registry_url=sim.url)
    lines = [
        json.dumps(
            {
                "RemoteInvId": f"INV-{i}",
                "Timestamp": DAY,
                "PeriodProductionInKWh": "1.5",
                "AccumulatedEnergyInKWh": "100",
            }
        )
        for i in range(20)
    ]
    body = ("\n".join([*lines, "not json"])).encode()
    async with running.http.post(
        f"{running.url}/v1/records",
        data=body,
        params={"account": "acme"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as response:
        assert response.status == 202
    before = await scrape(running)
    assert sample(before, "uploader_queue_records", '{account="acme",state="pending"}') == 20
    to_deadline = (claim_deadline(dt.date.fromisoformat(DAY)) - registry_today()).days
    assert sample(before, "uploader_queue_deadline_soonest_days", '{account="acme"}') == to_deadline
    assert sample(before, "uploader_queue_deadline_passed_records", '{account="acme"}') == 0
    sim.script("acme", [429], retry_after_s=1)
    assert await running.service.uploader.run(drain=True) == 0
    text = await scrape(running)
    acme = '{account="acme"}'
    assert sample(text, "uploader_records_enqueued_total", acme) == 20
    assert sample(text, "uploader_records_rejected_total", '{account="acme",stage="ingest"}') == 1
    assert sample(text, "uploader_records_sent_total", acme) == 20
    assert sample(text, "uploader_rate_limited_total", acme) == 1
    assert sample(text, "uploader_retry_after_seconds_sum") == 1
    assert sample(text, "uploader_retries_total", '{reason="throttled"}') == 1
    assert sample(text, "uploader_requests_total", '{endpoint="batch",status="200"}') >= 1
    assert sample(text, "uploader_requests_total", '{endpoint="batch",status="429"}') == 1
    assert sample(text, "uploader_queue_records", '{account="acme",state="pending"}') == 0
    assert sample(text, "uploader_queue_records", '{account="acme",state="delayed"}') == 0
    assert sample(text, "uploader_queue_records", '{account="acme",state="sent"}') == 20
    assert sample(text, "uploader_request_duration_seconds_count", '{endpoint="batch"}') >= 2
    assert sample(text, "uploader_limiter_wait_seconds_count") >= 2
    assert 'uploader_queue_deadline_soonest_days{account="acme"}' not in text  # none pending
