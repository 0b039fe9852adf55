"""Records drained into the simulator arrive exactly, corrections as their latest value."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from tests.integration.push.conftest import (
    ACCOUNTS,
    SettingsFactory,
    drain,
    enqueue,
    expected,
    held,
    records_for,
)
from uploader.queue import open_queue
from uploader.simulator import FakeRegistry


async def test_every_record_arrives_exactly(
    sim: FakeRegistry, make_settings: SettingsFactory
) -> None:
    """Thousands of records of three accounts drain with their exact decimal values."""
    settings = make_settings(sim.url, registry={"max_records_per_request": 500})
    records = records_for(ACCOUNTS, inverters=100, days=20)
    await enqueue(settings, records)
    code, uploader = await drain(settings)
    assert code == 0
    assert held(sim.state()) == expected(records)
    assert sum(uploader.stats.records_sent.values()) == len(records)
    async with open_queue(settings.queue) as queue:
        counts = await queue.counts()
    assert counts.total.pending == 0
    assert counts.total.sent == len(records)


async def test_corrections_arrive_as_latest_value(
    sim: FakeRegistry, make_settings: SettingsFactory
) -> None:
    """A value re-enqueued after delivery is sent again and replaces the registry's copy."""
    settings = make_settings(sim.url)
    records = records_for(ACCOUNTS[:1], inverters=10, days=5)
    await enqueue(settings, records)
    assert (await drain(settings))[0] == 0
    corrected = [
        r.__class__(
            **{
                **{f: getattr(r, f) for f in r.__struct_fields__},
                "period_kwh": r.period_kwh + Decimal("0.001"),
            }
        )
        for r in records[:7]
    ]
    await enqueue(settings, corrected)
    assert (await drain(settings))[0] == 0
    assert held(sim.state()) == expected(records + corrected)


async def test_an_inverter_across_two_claim_windows_is_one_device(
    sim: FakeRegistry, make_settings: SettingsFactory
) -> None:
    """Days on both sides of a claim-window boundary go in one body as one entry per inverter,
    which the registry takes whole (it refuses an inverter listed twice)."""
    settings = make_settings(sim.url, accounts=ACCOUNTS[:1])
    records = records_for(ACCOUNTS[:1], inverters=3, days=20, first=dt.date(2026, 6, 21))
    await enqueue(settings, records)
    code, uploader = await drain(settings)
    state = sim.state()
    assert code == 0
    assert held(state) == expected(records)
    assert uploader.stats.batches["accepted"] == 1
