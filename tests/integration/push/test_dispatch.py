"""One dispatcher reads the queue for every account: an idle service's cost does not grow with
its accounts, and records enqueued by another process still go out."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any

from tests.integration.push import conftest
from tests.integration.push.conftest import SettingsFactory, enqueue, expected, held, records_for
from uploader.push.service import Uploader
from uploader.queue import open_queue
from uploader.queue.base import Queue
from uploader.registry.client import RegistryClient
from uploader.simulator import FakeRegistry

ACCOUNTS = tuple(f"a{n:02d}" for n in range(40))
SENDING = conftest.ACCOUNTS  # the simulator knows their tokens
READS = ("claim", "due_in", "drained", "ledger_awaiting_status", "known_days", "counts")


def count_reads(queue: Queue) -> Counter[str]:
    """Count the calls of the queue's reads from now on."""
    calls: Counter[str] = Counter()

    def counted(name: str, method: Callable[..., Coroutine[Any, Any, Any]]) -> Any:
        async def call(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            return await method(*args, **kwargs)

        return call

    for name in READS:
        setattr(queue, name, counted(name, getattr(queue, name)))
    return calls


async def test_an_idle_service_reads_the_queue_once_a_round_whatever_its_accounts(
    sim: FakeRegistry, make_settings: SettingsFactory
) -> None:
    """With 40 accounts of four lanes and statuses polled, an idle service's only queue reads
    are the dispatcher's, one a round: no lane and no status poller polls on its own."""
    settings = make_settings(sim.url, accounts=ACCOUNTS, worker={"lanes_per_account": 4})
    async with (
        open_queue(settings.queue) as queue,
        RegistryClient.from_settings(settings) as client,
    ):
        calls = count_reads(queue)
        uploader = Uploader(settings, queue, client)
        serving = asyncio.create_task(uploader.run())
        await asyncio.sleep(0.5)  # every lane's first claim and every poller's first read
        assert calls["claim"] >= 4 * len(ACCOUNTS)
        calls.clear()
        rounds = uploader.dispatcher.rounds
        await asyncio.sleep(1.0)  # 20 rounds of idle_poll_s = 0.05
        rounds = uploader.dispatcher.rounds - rounds
        uploader.stop()
        assert await serving == 0
    assert rounds >= 5
    assert set(calls) == {"due_in"}
    assert calls["due_in"] <= rounds + 1


async def test_records_another_process_enqueues_go_out_without_a_wake(
    sim: FakeRegistry, make_settings: SettingsFactory
) -> None:
    """Records put in the queue by another process (nobody calls `wake`) are found by the
    dispatcher's next round and delivered, for each account that got some."""
    settings = make_settings(sim.url, accounts=(*SENDING, *ACCOUNTS[:7]))
    records = records_for(SENDING, inverters=2, days=3)
    delivered = asyncio.Event()
    async with (
        open_queue(settings.queue) as queue,
        RegistryClient.from_settings(settings) as client,
    ):

        def watch(_: object) -> None:
            if sum(uploader.stats.records_sent.values()) == len(records):
                delivered.set()

        uploader = Uploader(settings, queue, client, hooks=[watch])
        serving = asyncio.create_task(uploader.run())
        await asyncio.sleep(0.3)  # every lane found nothing and waits
        await enqueue(settings, records)  # another handle, as `uploader enqueue` would
        await asyncio.wait_for(delivered.wait(), timeout=10)
        uploader.stop()
        assert await serving == 0
    assert held(sim.state()) == expected(records)
