"""The limits are used to the last request without a single 429 of our own making."""

from __future__ import annotations

import time

import pytest

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
