"""The limits are used to the last request without a single 429 of our own making."""

from __future__ import annotations

import asyncio
import time

import pytest
from structlog.testing import capture_logs

from tests.integration.push.conftest import (
    ACCOUNTS,
    TOKENS,
    SettingsFactory,
    drain,
    enqueue,
    expected,
    held,
    records_for,
)
from uploader import config
from uploader.observe.status import render, status_document
from uploader.push.events import BatchDetails
from uploader.push.service import Uploader
from uploader.queue import open_queue
from uploader.registry.client import RegistryClient
from uploader.registry.ratespec import RateSpec
from uploader.simulator import FakeRegistry, SimOptions

ACCOUNT_RATE = "10/1s"
IP_RATE = "24/1s"
RECORDS_PER_REQUEST = 10


@pytest.mark.parametrize("phase_s", [0.0, 0.37, 0.93])
async def test_no_429_and_drain_near_the_least_time(
    make_settings: SettingsFactory, phase_s: float
) -> None:
    """Scaled windows, jittered latency, three accounts: zero 429s, drain <= 1.10x the minimum."""
    options = SimOptions(
        tokens=TOKENS,
        open_inverters=True,
        account_limit=RateSpec.parse(ACCOUNT_RATE),
        ip_limit=RateSpec.parse(IP_RATE),
        latency_ms=(2.0, 40.0),
        window_phase_s=phase_s,
        seed=int(phase_s * 100),
    )
    async with FakeRegistry(options) as sim:
        settings = make_settings(
            sim.url,
            registry={"max_records_per_request": RECORDS_PER_REQUEST},
            limits={"account": ACCOUNT_RATE, "ip": IP_RATE},
        )
        records = records_for(ACCOUNTS, inverters=8, days=50)  # 120 requests
        await enqueue(settings, records)
        started = time.monotonic()
        code, _ = await drain(settings)
        elapsed = time.monotonic() - started
        state = sim.state()
    requests = len(records) // RECORDS_PER_REQUEST
    rate = min(
        RateSpec.parse(IP_RATE).per_second, len(ACCOUNTS) * RateSpec.parse(ACCOUNT_RATE).per_second
    )
    assert code == 0
    assert state["rate_limited"] == 0
    assert state["requests"]["total"] == requests
    assert held(state) == expected(records)
    assert elapsed <= 1.10 * requests / rate, f"{elapsed:.2f}s for {requests} requests"


async def test_a_huge_retry_after_is_capped_and_shown_as_delayed(
    sim: FakeRegistry, make_settings: SettingsFactory
) -> None:
    """`Retry-After: 99999` waits `retry.max_retry_after_s` at most (the key's floor and the
    records' delay alike, logged as capped); meanwhile status shows the records as delayed with
    when they are due, and the drain ends."""
    sim.script("acme", [429], retry_after_s=99999)
    settings = make_settings(sim.url, accounts=("acme",), retry={"max_retry_after_s": 0.6})
    records = records_for(("acme",), inverters=2, days=5)
    await enqueue(settings, records)
    throttled = asyncio.Event()

    def watch(details: BatchDetails) -> None:
        if details.outcome == "throttled":
            throttled.set()

    async with (
        open_queue(settings.queue) as queue,
        RegistryClient.from_settings(settings) as client,
    ):
        uploader = Uploader(settings, queue, client, hooks=[watch])
        started = time.monotonic()
        with capture_logs() as logs:
            draining = asyncio.create_task(uploader.run(drain=True))
            await asyncio.wait_for(throttled.wait(), timeout=5)
            counts = await queue.counts()
            code = await asyncio.wait_for(draining, timeout=10)
        took_s = time.monotonic() - started
    document = status_document(counts, settings.account_ids, time.time())
    acme = document.accounts["acme"]
    assert (acme.pending, acme.delayed) == (0, len(records))
    assert acme.next_due_at is not None
    assert acme.next_due_at <= time.time() + 0.6
    header, row, _ = render(document).splitlines()
    assert header.split()[5::4] == ["DELAYED", "NEXT-DUE"]
    assert row.split()[5] == str(len(records))
    assert row.endswith(" in 0s")  # due in under a second
    assert code == 0
    assert 0.6 <= took_s < 5
    assert held(sim.state()) == expected(records)
    capped = [e for e in logs if e["event"] == "Retry-After capped"]
    assert [(e["asked_s"], e["cap_s"]) for e in capped] == [(99999.0, 0.6)]
    (batch,) = [e for e in logs if e["event"] == "batch" and e["outcome"] == "throttled"]
    assert batch["retry_after_s"] == 0.6


def test_the_default_retry_after_cap_is_the_longest_window_and_a_margin() -> None:
    """Unset, the cap is the longest `[limits]` window plus 60 s; set, it is the setting."""
    assert config.from_dict({}).retry_after_cap_s == 300 + 60
    assert config.from_dict({"limits": {"account": "5/2h"}}).retry_after_cap_s == 7200 + 60
    assert config.from_dict({"retry": {"max_retry_after_s": 5}}).retry_after_cap_s == 5
