"""Faults, refusals and pauses: nothing is lost, and one account's trouble stays its own."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import time
from pathlib import Path

import aiohttp
from aiohttp import web

from tests.integration.push.conftest import (
    ACCOUNTS,
    TOKENS,
    SettingsFactory,
    drain,
    enqueue,
    expected,
    held,
    over_capacity,
    records_for,
)
from uploader.push.events import BatchDetails
from uploader.push.service import Uploader
from uploader.queue import open_queue
from uploader.queue.sqlite import SQLiteQueue
from uploader.registry.client import RegistryClient
from uploader.registry.ratespec import RateSpec
from uploader.simulator import FakeRegistry, SimOptions


async def test_5xx_and_resets_lose_nothing(make_settings: SettingsFactory) -> None:
    """With 15% 5xx and 5% connection resets every record still arrives, exactly."""
    options = SimOptions(
        tokens=TOKENS, open_inverters=True, fail_rate=0.15, reset_rate=0.05, seed=3
    )
    async with FakeRegistry(options) as sim:
        settings = make_settings(sim.url, registry={"max_records_per_request": 50})
        records = records_for(ACCOUNTS, inverters=20, days=20)
        await enqueue(settings, records)
        code, uploader = await drain(settings)
        state = sim.state()
    assert code == 0
    assert held(state) == expected(records)
    assert uploader.stats.retries > 0
    assert state["requests"]["by_status"].get("503", 0) > 0


async def test_one_bad_record_does_not_sink_the_batch(make_settings: SettingsFactory) -> None:
    """A batch with one refused record delivers the others and dead-letters that one."""
    async with FakeRegistry(SimOptions(tokens=TOKENS)) as sim:
        settings = make_settings(sim.url, accounts=("acme",))
        records, bad = over_capacity(sim)
        await enqueue(settings, [*records, bad])
        code, _ = await drain(settings)
        state = sim.state()
        async with open_queue(settings.queue) as queue:
            dead = await queue.list_dead()
    assert code == 1
    assert held(state) == expected(records)
    assert [(d.remote_inv_id, d.day) for d in dead] == [(bad.remote_inv_id, "2026-09-30")]
    assert "PeriodProductionInKWh" in dead[0].reason


async def test_unknown_inverter_is_dead_lettered_others_delivered(
    make_settings: SettingsFactory,
) -> None:
    """Records of an inverter the registry does not know become dead letters; the rest arrive."""
    async with FakeRegistry(SimOptions(tokens=TOKENS)) as sim:
        settings = make_settings(sim.url, accounts=("acme",))
        records = records_for(("acme",), inverters=4, days=5)
        known = sorted({r.remote_inv_id for r in records})[1:]
        for rid in known:
            sim.add_inverter("acme", rid, capacity_kw=100)
        await enqueue(settings, records)
        code, uploader = await drain(settings)
        state = sim.state()
    assert code == 1
    assert held(state) == expected([r for r in records if r.remote_inv_id in known])
    assert uploader.stats.records_rejected["acme"] == 5


async def test_a_batch_refused_whole_is_dead_lettered_once(make_settings: SettingsFactory) -> None:
    """When the registry names every record of a batch, all become dead letters, none is resent."""
    async with FakeRegistry(SimOptions(tokens=TOKENS)) as sim:
        settings = make_settings(sim.url, accounts=("acme",))
        records = records_for(("acme",), inverters=1, days=5)
        await enqueue(settings, records)
        code, uploader = await drain(settings)
        state = sim.state()
        async with open_queue(settings.queue) as queue:
            counts = (await queue.counts()).accounts["acme"]
    assert code == 1
    assert (counts.dead, counts.pending, counts.leased) == (5, 0, 0)
    assert uploader.stats.records_rejected["acme"] == 5
    assert sum(state["requests"]["by_status"].values()) == 1
    assert held(state) == {}


async def test_a_queue_locked_for_a_while_delays_the_drain_but_loses_nothing(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    """Claims fail while another process holds the queue file's lock; lanes wait, then drain."""
    async with FakeRegistry(SimOptions(tokens=TOKENS, open_inverters=True)) as sim:
        settings = make_settings(sim.url, registry={"max_records_per_request": 50})
        records = records_for(ACCOUNTS, inverters=5, days=20)
        await enqueue(settings, records)
        locker = sqlite3.connect(tmp_path / "queue.db", isolation_level=None)
        async with (
            SQLiteQueue(tmp_path / "queue.db", busy_timeout_s=0.1) as queue,
            RegistryClient.from_settings(settings) as client,
        ):
            locker.execute("BEGIN EXCLUSIVE")
            started = time.monotonic()
            asyncio.get_running_loop().call_later(1.0, locker.execute, "COMMIT")
            code = await Uploader(settings, queue, client).run(drain=True)
        locker.close()
        state = sim.state()
    assert code == 0
    assert time.monotonic() - started >= 1.0
    assert held(state) == expected(records)


async def test_401_pauses_only_that_account(make_settings: SettingsFactory) -> None:
    """An account whose token is refused is paused with its records queued; others drain."""
    async with FakeRegistry(SimOptions(tokens=TOKENS, open_inverters=True)) as sim:
        settings = make_settings(sim.url, accounts=("acme", "bolt", "nope"))
        records = records_for(("acme", "bolt", "nope"), inverters=10, days=10)
        await enqueue(settings, records)
        code, uploader = await drain(settings)
        state = sim.state()
        async with open_queue(settings.queue) as queue:
            counts = await queue.counts()
    assert code == 1
    assert uploader.workers["nope"].paused is not None
    assert held(state) == expected([r for r in records if r.account != "nope"])
    assert counts.accounts["nope"].pending == 100
    assert counts.accounts["nope"].sent == 0


async def test_retry_after_is_a_floor_for_the_account(make_settings: SettingsFactory) -> None:
    """When another client spent the account's budget, nothing is sent before Retry-After."""
    options = SimOptions(
        tokens=TOKENS, open_inverters=True, window_phase_s=0.0, account_limit=RateSpec.parse("3/2s")
    )
    sim = FakeRegistry(options)
    arrivals: list[tuple[float, bool, int]] = []

    async def log(request: web.Request, response: web.StreamResponse) -> None:
        arrivals.append((time.monotonic(), "X-Other" in request.headers, response.status))

    sim.app.on_response_prepare.append(log)
    await sim.start()
    try:
        settings = make_settings(
            sim.url, accounts=("acme",), registry={"max_records_per_request": 10}
        )
        await _spend_budget(sim.url, "acme")
        records = records_for(("acme",), inverters=1, days=30)
        await enqueue(settings, records)
        code, _ = await drain(settings)
        state = sim.state()
    finally:
        await sim.stop()
    ours = [(t, status) for t, other, status in arrivals if not other]
    first_429 = next(t for t, status in ours if status == 429)
    retry_after = 1.0  # the sim's Retry-After is at least one whole second
    # Requests already in flight when the first 429 came back answer within milliseconds;
    # after that nothing of ours may arrive until Retry-After has passed.
    in_flight_s = 0.05
    early = [
        t - first_429 for t, _ in ours if first_429 + in_flight_s < t < first_429 + retry_after
    ]
    assert early == []
    assert code == 0
    assert {k: v for k, v in held(state).items() if k[1] != "OTHER"} == expected(records)


async def _spend_budget(url: str, account: str) -> None:
    body = (
        b'{"RemoteInvId":"OTHER","Data":[{"Timestamp":"2026-01-01",'
        b'"PeriodProductionInKWh":"1","AccumulatedEnergyInKWh":"1"}]}'
    )
    headers = {
        "Authorization": f"Bearer {TOKENS[account]}",
        "X-Other": "1",
        "Content-Type": "application/json",
    }
    async with aiohttp.ClientSession() as session:
        for _ in range(3):
            async with session.post(
                f"{url}/public/v2/generation-datas", data=body, headers=headers
            ) as response:
                assert response.status == 200


async def test_a_paused_account_does_not_stop_the_service(make_settings: SettingsFactory) -> None:
    """In `run` (no drain) the others keep being served after one account is paused."""
    paused, sent = asyncio.Event(), asyncio.Event()
    first = records_for(("acme", "nope"), inverters=2, days=2)
    later = records_for(("acme",), inverters=1, days=3, first=dt.date(2026, 10, 1))

    def watch(details: BatchDetails) -> None:
        if details.outcome == "paused":
            paused.set()
        if uploader.stats.records_sent["acme"] == 4 + len(later):
            sent.set()

    async with FakeRegistry(SimOptions(tokens=TOKENS, open_inverters=True)) as sim:
        settings = make_settings(sim.url, accounts=("acme", "nope"))
        await enqueue(settings, first)
        async with (
            open_queue(settings.queue) as queue,
            RegistryClient.from_settings(settings) as client,
        ):
            uploader = Uploader(settings, queue, client, hooks=[watch])
            serving = asyncio.create_task(uploader.run())
            await asyncio.wait_for(paused.wait(), timeout=10)
            await asyncio.sleep(0.5)  # longer than the shutdown grace: the service goes on
            await queue.enqueue(later)
            uploader.wake("acme")
            await asyncio.wait_for(sent.wait(), timeout=10)
            assert not serving.done()
            uploader.stop()
            code = await serving
        state = sim.state()
    assert code == 1
    assert held(state) == expected([r for r in first + later if r.account == "acme"])
