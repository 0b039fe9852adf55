"""Read back and reconcile against the simulator over HTTP, with a real SQLite queue."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from tests.integration.push.conftest import (
    SettingsFactory,
    enqueue,
    expected,
    held,
    records_for,
)
from uploader import config
from uploader.push.reconcile import Reconciler, Summary, reads_for, reconcile
from uploader.push.service import Uploader
from uploader.queue import open_queue
from uploader.registry.client import RegistryClient
from uploader.residual_mix import registry_today
from uploader.simulator import FakeRegistry, SimOptions

MAY = dt.date(2024, 5, 1)


async def deliver(settings: config.Settings, *, confirm: bool = True) -> int:
    """Drain the queue into the registry (and wait for every processing status)."""
    async with (
        open_queue(settings.queue) as queue,
        RegistryClient.from_settings(settings) as client,
    ):
        return await Uploader(settings, queue, client).run(drain=True, confirm=confirm)


async def read_back(
    settings: config.Settings, first: dt.date, last: dt.date, inverter: str | None = None
) -> Summary:
    """Reconcile acme's `first`..`last` as `uploader reconcile` does."""
    async with (
        open_queue(settings.queue) as queue,
        RegistryClient.from_settings(settings) as client,
    ):
        reads = reads_for(settings, client, "acme")
        return await reconcile(queue, reads, "acme", first, last, inverter)


async def sent(settings: config.Settings) -> int:
    """Deliveries the queue has counted for acme."""
    async with open_queue(settings.queue) as queue:
        return (await queue.counts()).accounts["acme"].sent


async def test_dropped_and_altered_days_are_found_and_delivered_again_exactly(
    sim: FakeRegistry, make_settings: SettingsFactory
) -> None:
    """Dropped days are missing, an altered one different; the next drain sends those three."""
    settings = make_settings(sim.url, accounts=("acme",))
    records = records_for(("acme",), 3, 10, first=MAY)
    await enqueue(settings, records)
    assert await deliver(settings) == 0
    inverters = sorted({r.remote_inv_id for r in records})
    assert sim.drop_days("acme", inverters[0], MAY, MAY + dt.timedelta(days=1)) == 2
    sim.alter_day("acme", inverters[1], MAY + dt.timedelta(days=4), produced="999.5")
    summary = await read_back(settings, MAY, MAY + dt.timedelta(days=9))
    assert (summary.checked, summary.matching, summary.missing, summary.different) == (30, 27, 2, 1)
    assert (summary.requeued, summary.unknown_to_us, summary.processing) == (3, 0, 0)
    assert await deliver(settings) == 0
    assert held(sim.state()) == expected(records)
    assert await sent(settings) == 30 + 3  # exactly the three went again
    again = await read_back(settings, MAY, MAY + dt.timedelta(days=9))
    assert (again.matching, again.requeued) == (30, 0)


async def test_days_the_queue_never_had_are_reported_and_left_alone(
    sim: FakeRegistry, make_settings: SettingsFactory, tmp_path: Path
) -> None:
    """A day another queue delivered is unknown to us: counted, named, nothing re-queued."""
    settings = make_settings(sim.url, accounts=("acme",))
    records = records_for(("acme",), 1, 3, first=MAY)
    await enqueue(settings, records[:2])
    other = config.from_dict(
        config.masked(settings) | {"queue": f"sqlite:///{tmp_path / 'other.db'}"}
        | {"accounts": [{"id": "acme", "token": "tok-acme"}]}
    )  # fmt: skip
    await enqueue(other, records[2:])
    assert await deliver(settings) == await deliver(other) == 0
    summary = await read_back(settings, MAY, MAY + dt.timedelta(days=2))
    rid = records[2].remote_inv_id
    assert (summary.checked, summary.matching, summary.unknown_to_us) == (2, 2, 1)
    assert (summary.requeued, summary.unknown_examples) == (0, [f"{rid} 2024-05-03"])
    async with open_queue(settings.queue) as queue:
        assert (await queue.counts()).accounts["acme"].pending == 0


async def test_records_still_processing_are_not_missing(make_settings: SettingsFactory) -> None:
    """Delivered records whose processing is not final are awaited, not re-queued."""
    options = SimOptions(tokens={"acme": "tok-acme"}, open_inverters=True, process_delay_s=60)
    async with FakeRegistry(options) as slow:
        settings = make_settings(slow.url, accounts=("acme",))
        await enqueue(settings, records_for(("acme",), 2, 3, first=MAY))
        assert await deliver(settings, confirm=False) == 0
        summary = await read_back(settings, MAY, MAY + dt.timedelta(days=2))
    assert (summary.checked, summary.processing, summary.missing, summary.requeued) == (6, 6, 0, 0)


async def test_one_inverter_only(sim: FakeRegistry, make_settings: SettingsFactory) -> None:
    """With an inverter named, only its days are compared and re-queued."""
    settings = make_settings(sim.url, accounts=("acme",))
    records = records_for(("acme",), 2, 3, first=MAY)
    await enqueue(settings, records)
    await deliver(settings)
    first, second = sorted({r.remote_inv_id for r in records})
    sim.drop_days("acme", None, MAY, MAY)
    summary = await read_back(settings, MAY, MAY + dt.timedelta(days=2), inverter=second)
    assert (summary.checked, summary.missing, summary.requeued, summary.inverter) == (
        3,
        1,
        1,
        second,
    )
    async with open_queue(settings.queue) as queue:
        pending = [r async for rows in queue.records_between("acme", MAY, MAY) for r in rows]
    assert {(r.remote_inv_id, r.state) for r in pending} == {
        (first, "confirmed"),
        (second, "pending"),
    }


async def test_reads_go_month_by_month_and_page_by_page(
    sim: FakeRegistry, make_settings: SettingsFactory
) -> None:
    """May and June of 5 inverters (155 and 150 days) take two pages of 100 each."""
    settings = make_settings(sim.url, accounts=("acme",))
    await enqueue(settings, records_for(("acme",), 5, 61, first=MAY))
    await deliver(settings)
    summary = await read_back(settings, MAY, dt.date(2024, 6, 30))
    assert (summary.checked, summary.matching, summary.requests) == (305, 305, 4)


async def test_uploader_run_reconciles_on_a_schedule(
    sim: FakeRegistry, make_settings: SettingsFactory
) -> None:
    """With [reconcile] every set, `run` reads back the days before today and re-sends gaps."""
    settings = make_settings(
        sim.url, accounts=("acme",), reconcile={"every": "1h", "days": 3, "budget_share": 0.5}
    )
    today = registry_today()
    records = records_for(("acme",), 2, 3, first=today - dt.timedelta(days=3))
    await enqueue(settings, records)
    await deliver(settings)
    rid = records[0].remote_inv_id
    sim.drop_days("acme", rid, today - dt.timedelta(days=3), today)
    async with (
        open_queue(settings.queue) as queue,
        RegistryClient.from_settings(settings) as client,
    ):
        uploader = Uploader(settings, queue, client)
        running = asyncio.create_task(uploader.run())
        for _ in range(200):
            if held(sim.state()) == expected(records):
                break
            await asyncio.sleep(0.05)
        uploader.stop()
        assert await running == 0
        assert client.limiter.remaining(("reconcile", "acme")) < 500  # the share was used
    assert held(sim.state()) == expected(records)


async def test_a_pass_of_the_reconciler_logs_a_failed_account_and_goes_on(
    sim: FakeRegistry, make_settings: SettingsFactory
) -> None:
    """An account the registry refuses is skipped; the others are reconciled."""
    settings = make_settings(sim.url, accounts=("acme", "nobody"), reconcile={"every": "1h"})
    async with (
        open_queue(settings.queue) as queue,
        RegistryClient.from_settings(settings) as client,
    ):
        done = await Reconciler(settings, queue, client).once()
    assert [summary.account for summary in done] == ["acme"]


async def test_a_replica_reconciles_only_the_accounts_it_serves(
    sim: FakeRegistry, make_settings: SettingsFactory
) -> None:
    """In a fleet each replica reads back its own share: the others' budgets are not its own."""
    settings = make_settings(sim.url, accounts=("acme", "bolt"), reconcile={"every": "1h"})
    async with (
        open_queue(settings.queue) as queue,
        RegistryClient.from_settings(settings) as client,
    ):
        done = await Reconciler(settings, queue, client, lambda: {"bolt"}).once()
    assert [summary.account for summary in done] == ["bolt"]
    assert "acme" not in sim.state()["requests"]["by_account"]
