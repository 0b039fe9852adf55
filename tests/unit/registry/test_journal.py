"""The limiter's memory on a patched loop clock: seeding, and the journal in a real queue.

A "process" is a limiter with its own journal; two of them on one queue (an in-memory SQLite
queue, so real storage) are a run and the run after it. The wall clock (the queue's and the
journals') and the loop clock move together, and a new process gets a loop clock of another
origin: the history must come back in wall-clock terms.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Sequence
from typing import Literal

import pytest

from tests.unit.registry.loopclock import START, TICK, Clock, Request, make_limiter, start
from uploader import config
from uploader.errors import QueueError
from uploader.queue import Queue
from uploader.registry.client import history_owners
from uploader.registry.history import FLUSH_S, SlotJournal
from uploader.registry.limiter import Key, KeyedLimiter
from uploader.testing import InMemoryQueue

ACME: Key = ("account", "acme")
IP: Key = ("ip", "default")
WALL = 1_750_000_000.0  # the wall clock's reading when the loop clock reads START
TIMEOUT_S = 4.0


class Wall:
    """The wall clock the queue and the journals read, moved with the loop clock."""

    def __init__(self, clock: Clock) -> None:
        self.loop = clock
        self.offset = WALL - START

    def __call__(self) -> float:
        return self.loop.now + self.offset

    def restart(self, loop_now: float) -> None:
        """A new process: its loop clock reads `loop_now` now, the wall clock goes on."""
        wall = self()
        self.loop.now = loop_now
        self.offset = wall - loop_now


class CountingQueue(InMemoryQueue):
    """An in-memory queue that counts the writes of slots it is asked for."""

    writes = 0

    async def _record_slots(self, rows: Sequence[tuple[str, str, str, float]], now: float) -> None:
        self.writes += 1
        await super()._record_slots(rows, now)


@pytest.fixture
def wall(clock: Clock) -> Wall:
    """The wall clock, in step with the patched loop clock."""
    return Wall(clock)


@pytest.fixture
async def queue(wall: Wall) -> AsyncIterator[CountingQueue]:
    """A real queue (SQLite in memory) on the wall clock."""
    async with CountingQueue(clock=wall) as opened:
        yield opened


def process(
    queue: Queue, wall: Wall, account: str = "1/1s", counts: Literal["any", "success"] = "any"
) -> KeyedLimiter:
    """A limiter keeping its history in `queue`, as `uploader run` does (accounts and IP)."""
    limiter = make_limiter(account, counts=counts)
    owner = {"account": "acme", "ip": "ip@here"}
    journal = SlotJournal(queue, timeout_s=TIMEOUT_S, owner_of=lambda k: owner[k[0]], clock=wall)
    limiter.attach(journal)
    return limiter


# -- seeding ---------------------------------------------------------------------------------


async def test_seeded_slots_cool_until_their_time(clock: Clock) -> None:
    """Slots another process used hold the key until exactly the times seeded."""
    limiter = make_limiter("2/1s")
    limiter.seed(ACME, [START + 0.5, START + 0.75])
    assert limiter.remaining(ACME) == 0
    first, second = await start(limiter, ACME), await start(limiter, ACME)
    await clock.to(START + 0.5 - TICK)
    assert (first.started, second.started) == (None, None)
    await clock.to(START + 0.5)
    assert (first.started, second.started) == (START + 0.5, None)
    await clock.to(START + 0.75)
    assert second.started == START + 0.75
    await first.end()
    await second.end()


async def test_seeding_keeps_the_cooling_in_order(clock: Clock) -> None:
    """A seeded slot that frees before the key's own cooling one frees first."""
    limiter = make_limiter("2/1s")
    async with limiter.slot(ACME):
        pass  # cools until START + 1
    limiter.seed(ACME, [START + 0.25])
    waiting = await start(limiter, ACME)
    await clock.to(START + 0.25)
    assert waiting.started == START + 0.25
    await waiting.end()


async def test_a_seeded_slot_outlives_the_keys_own_later_ones(clock: Clock) -> None:
    """A slot seeded to free after the key's own newer ones still counts once they have freed."""
    limiter = make_limiter("2/1s")
    limiter.seed(ACME, [START + 5])  # a send never answered: it counts long
    async with limiter.slot(ACME):
        pass  # cools until START + 1
    await clock.to(START + 1.5)
    assert (limiter.remaining(ACME), limiter.key_count) == (1, 1)
    await clock.to(START + 5)
    assert (limiter.remaining(ACME), limiter.key_count) == (2, 0)


async def test_times_already_past_seed_nothing(clock: Clock) -> None:
    """A slot that stopped counting leaves the key free and unremembered."""
    limiter = make_limiter("2/1s")
    limiter.seed(ACME, [START - 1, START])
    assert (limiter.remaining(ACME), limiter.key_count) == (2, 0)


# -- the journal in the queue ------------------------------------------------------------------


async def test_a_send_is_stored_before_the_request_leaves(
    clock: Clock, wall: Wall, queue: CountingQueue
) -> None:
    """Inside the slot the queue already counts it until the timeout and a window have passed."""
    limiter = process(queue, wall)
    async with limiter.slot(ACME, IP) as slot:
        rows = await queue.recent_slots(["acme", "ip@here"])
        assert slot.recorded_at == WALL
    assert sorted((r.owner, r.key, r.until) for r in rows) == [
        ("acme", "account:acme", WALL + TIMEOUT_S + 1.0),
        ("ip@here", "ip:default", WALL + TIMEOUT_S + 1.0),
    ]


async def test_a_restart_waits_for_what_the_last_run_sent(
    clock: Clock, wall: Wall, queue: CountingQueue
) -> None:
    """The next process, whatever its loop clock, waits until one window after the answer."""
    first = process(queue, wall)
    request = await start(first, ACME)
    await request.entered.wait()
    await clock.by(0.25)
    await request.end()  # answered at WALL + 0.25: counts until WALL + 1.25
    await first.flush()
    wall.restart(loop_now=5000.0)
    second = process(queue, wall)
    assert await second.restore(["acme"]) == 1
    waiting = await start(second, ACME)
    await clock.to(5001.0 - TICK)
    assert second.waiting(ACME) == 1
    await clock.to(5001.0)
    await waiting.entered.wait()
    assert waiting.started == 5001.0
    await waiting.end()


async def test_a_limiter_restoring_its_own_slots_counts_them_once(
    clock: Clock, wall: Wall, queue: CountingQueue
) -> None:
    """Taking an account back, a process skips the rows of its own requests: it has them."""
    limiter = process(queue, wall, account="2/1s")
    async with limiter.slot(ACME):
        pass
    await limiter.flush()
    assert await limiter.restore(["acme"]) == 0
    assert limiter.remaining(ACME) == 1


async def test_a_send_never_answered_counts_until_the_timeout_and_a_window(
    clock: Clock, wall: Wall, queue: CountingQueue
) -> None:
    """A request in flight when its process died holds the next process back that long."""
    dead = process(queue, wall)
    in_flight = await start(dead, ACME)  # sent at WALL, never answered
    await in_flight.entered.wait()
    assert in_flight.started == START
    await clock.by(0.5)
    wall.restart(loop_now=100.0)
    second = process(queue, wall)
    await second.restore(["acme"])
    waiting = await start(second, ACME)
    await clock.to(100.0 + TIMEOUT_S + 1.0 - 0.5 - TICK)
    assert second.waiting(ACME) == 1
    await clock.to(100.0 + TIMEOUT_S + 1.0 - 0.5)
    await waiting.entered.wait()
    assert waiting.started == 100.0 + TIMEOUT_S + 0.5
    await waiting.end()
    in_flight.task.cancel()


async def test_answers_are_written_after_a_pause_or_a_flush(
    clock: Clock, wall: Wall, queue: CountingQueue
) -> None:
    """An answer is buffered (the send's longer bound stands) until the flush timer fires."""
    limiter = process(queue, wall)
    async with limiter.slot(ACME):
        pass
    assert repr(limiter.journal) == "<SlotJournal sends=0 answers=1>"
    await clock.by(FLUSH_S)
    assert repr(limiter.journal) == "<SlotJournal sends=0 answers=0>"  # taken by the writer
    await limiter.flush()
    assert [r.until for r in await queue.recent_slots(["acme"])] == [WALL + 1.0]
    assert queue.writes == 2


async def test_concurrent_sends_share_one_write(
    clock: Clock, wall: Wall, queue: CountingQueue
) -> None:
    """Requests that start together wait for one write of all their slots (group commit)."""
    limiter = process(queue, wall, account="10/1s")
    requests = [Request(limiter, ACME) for _ in range(5)]
    for request in requests:
        await request.entered.wait()  # the write happens on the queue's thread
    assert queue.writes == 1
    assert len(await queue.recent_slots(["acme"])) == 5
    for request in requests:
        await request.end()


async def test_a_refunded_request_is_forgotten(
    clock: Clock, wall: Wall, queue: CountingQueue
) -> None:
    """A refusal the registry did not count (success mode) leaves nothing in the history."""
    limiter = process(queue, wall, counts="success")
    async with limiter.slot(ACME) as slot:
        slot.refund()
    await limiter.flush()
    assert await queue.recent_slots(["acme"]) == []


async def test_a_request_whose_send_cannot_be_stored_does_not_leave(
    clock: Clock, wall: Wall
) -> None:
    """The queue is out of reach: the request fails before it leaves, its slot free again."""
    limiter = process(InMemoryQueue(clock=wall), wall)  # never opened
    with pytest.raises(QueueError, match="not open"):
        async with limiter.slot(ACME):
            raise AssertionError("the request must not leave")
    assert limiter.remaining(ACME) == 1


def test_a_process_restores_its_accounts_and_its_ip_budget() -> None:
    """History owners: the accounts, and the IP budget unless replicas share it; a replica's
    own IP budget is its host's."""
    local = config.from_dict({"queue": "sqlite:q.db"})
    replica = config.from_dict({"queue": "redis://h:6379/0"})
    shared = config.from_dict({"queue": "redis://h:6379/0", "limits": {"ip_shared": True}})
    assert history_owners(local, ["acme", "bolt"]) == ["acme", "bolt", "ip"]
    assert history_owners(replica, ["acme"]) == ["acme", f"ip@{socket.gethostname()}"]
    assert history_owners(shared, ["acme"]) == ["acme"]
