"""Delivery confirmation and a graceful stop."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

from tests.integration.push.conftest import (
    TOKENS,
    SettingsFactory,
    drain,
    enqueue,
    expected,
    held,
    records_for,
    start_uploader,
)
from uploader.observe.metrics import Metrics
from uploader.push.service import Uploader
from uploader.queue import LedgerEntry, open_queue
from uploader.registry.client import RegistryClient
from uploader.simulator import FakeRegistry, SimOptions


async def test_confirm_waits_for_success(make_settings: SettingsFactory) -> None:
    """With --confirm the drain returns only once every batch's processing is Success."""
    options = SimOptions(tokens=TOKENS, open_inverters=True, process_delay_s=0.3)
    async with FakeRegistry(options) as sim:
        settings = make_settings(
            sim.url,
            accounts=("acme",),
            registry={"max_records_per_request": 20},
            limits={"status_poll_share": 0.5},
        )
        records = records_for(("acme",), inverters=4, days=10)
        await enqueue(settings, records)
        async with (
            open_queue(settings.queue) as queue,
            RegistryClient.from_settings(settings) as client,
        ):
            code = await Uploader(settings, queue, client).run(drain=True, confirm=True)
            awaiting = await queue.ledger_awaiting_status("acme", 100)
        state = sim.state()
    assert code == 0
    assert awaiting == []
    assert state["processes"]["Success"] == 2
    assert held(state) == expected(records)


async def test_failed_processing_is_sent_again_then_dead(make_settings: SettingsFactory) -> None:
    """A batch whose processing Failed is sent once more; failing again, it is dead-lettered,
    counted as such (stats and metrics), and the drain exits 1."""
    options = SimOptions(tokens=TOKENS, open_inverters=True, process_fail_rate=1.0)
    async with FakeRegistry(options) as sim:
        settings = make_settings(sim.url, accounts=("acme",))
        records = records_for(("acme",), inverters=2, days=5)
        await enqueue(settings, records)
        metrics = Metrics(["acme"])
        async with (
            open_queue(settings.queue) as queue,
            RegistryClient.from_settings(settings) as client,
        ):
            uploader = Uploader(settings, queue, client, hooks=(metrics.observe,))
            code = await uploader.run(drain=True, confirm=True)
            dead = await queue.list_dead()
            counts = await queue.counts()
        state = sim.state()
    labels = {"account": "acme", "stage": "registry"}
    assert code == 1
    assert state["processes"]["Failed"] == 2
    assert len(dead) == len(records)
    assert counts.total.pending == 0
    assert uploader.stats.records_rejected["acme"] == len(records)
    assert uploader.stats.records_resent["acme"] == len(records)  # after the first Failed
    assert uploader.stats.dead_reasons == {"processing Failed twice": len(records)}
    assert metrics.registry.get_sample_value("uploader_records_rejected_total", labels) == 10
    assert (
        metrics.registry.get_sample_value(
            "uploader_batches_total", {"account": "acme", "outcome": "failed"}
        )
        == 2
    )


async def test_sigterm_exits_0_and_loses_nothing(
    make_settings: SettingsFactory, tmp_path: Path
) -> None:
    """SIGTERM mid-flight: exit 0 within the grace period; a later drain delivers the rest."""
    options = SimOptions(tokens=TOKENS, open_inverters=True, latency_ms=(300.0, 400.0))
    async with FakeRegistry(options) as sim:
        settings = make_settings(
            sim.url, registry={"max_records_per_request": 10}, worker={"shutdown_timeout_s": 3}
        )
        records = records_for(("acme", "bolt"), inverters=10, days=20)
        await enqueue(settings, records)
        config_path = tmp_path / "uploader.toml"
        config_path.write_text(
            f'queue = "{settings.queue}"\n[registry]\nbase_url = "{sim.url}"\n'
            "max_records_per_request = 10\n[worker]\nshutdown_timeout_s = 3\n"
            '[server]\nlisten = "127.0.0.1:0"\n'
            + "".join(
                f'[[accounts]]\nid = "{a}"\ntoken = "{TOKENS[a]}"\n' for a in ("acme", "bolt")
            )
        )
        process = await start_uploader(config_path, "run", env={"UPLOADER_LOG__LEVEL": "info"})
        assert process.stdout is not None
        while b'"outcome": "accepted"' not in await process.stdout.readline():
            pass
        process.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        code = await asyncio.wait_for(process.wait(), timeout=10)
        waited = time.monotonic() - stopped
        mid_way = len(held(sim.state()))
        final, _ = await drain(settings)
        state = sim.state()
    assert code == 0
    assert waited < 3 + 1.5
    assert 0 < mid_way < len(records)
    assert final == 0
    assert held(state) == expected(records)


async def test_old_ledger_rows_are_pruned(make_settings: SettingsFactory) -> None:
    """A run starts by forgetting ledger rows older than the retention setting."""
    async with FakeRegistry(SimOptions(tokens=TOKENS, open_inverters=True)) as sim:
        settings = make_settings(sim.url, accounts=("acme",), worker={"ledger_retention_days": 1})
        await enqueue(settings, records_for(("acme",), inverters=2, days=2))
        async with open_queue(settings.queue) as queue:
            claim = await queue.claim("acme", 10, 60)
            assert claim is not None
            old = LedgerEntry(
                batch_id="old",
                account="acme",
                records=4,
                sent_at=time.time() - 2 * 86400,
                http_status=200,
                process_id=7,
                endpoint="batch",
            )
            await queue.ack(claim, claim.records, old)
            assert [r.batch_id for r in await queue.ledger_awaiting_status("acme", 10)] == ["old"]
            async with RegistryClient.from_settings(settings) as client:
                uploader = Uploader(settings, queue, client)
                assert await uploader.run(drain=True) == 0
            assert await queue.ledger_awaiting_status("acme", 10) == []
