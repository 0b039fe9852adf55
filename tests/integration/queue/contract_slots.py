"""The queue contract, third part: the limiter's slots (its history across processes)."""

from __future__ import annotations

from tests.integration.queue.helpers import START, FakeClock
from uploader.queue import Queue
from uploader.queue.slots import SlotRow


def row(owner: str, key: str, slot: str, until: float) -> SlotRow:
    """A slot row."""
    return SlotRow(owner, key, slot, until)


class SlotsContract:
    """What the queue keeps of the limiter's slots."""

    async def test_slots_come_back_by_owner_with_exact_times(self, queue: Queue) -> None:
        """Each owner reads back its own slots, times exact, and nobody else's."""
        rows = [row("acme", "account:acme", "p.1", START + 0.1),
                row("acme", "account:acme:batch", "p.2", START + 61.000001),
                row("bolt", "account:bolt", "p.3", START + 5),
                row("ip@h", "ip:default", "p.1", START + 300.25)]  # fmt: skip
        await queue.record_slots(rows)
        assert sorted(await queue.recent_slots(["acme", "ip@h"])) == sorted(
            [rows[0], rows[1], rows[3]]
        )
        assert await queue.recent_slots(["cera"]) == []
        assert await queue.recent_slots([]) == []

    async def test_a_slot_recorded_again_takes_its_new_time(self, queue: Queue) -> None:
        """The answer's time replaces the send's bound; a slot never sent is forgotten."""
        await queue.record_slots([row("acme", "account:acme", "p.1", START + 95),
                                  row("acme", "account:acme", "p.2", START + 95)])  # fmt: skip
        await queue.record_slots([row("acme", "account:acme", "p.1", START + 60.5),
                                  row("acme", "account:acme", "p.2", START)])  # fmt: skip
        assert await queue.recent_slots(["acme"]) == [
            row("acme", "account:acme", "p.1", START + 60.5)
        ]

    async def test_slots_stop_counting_at_their_time(self, queue: Queue, clock: FakeClock) -> None:
        """A slot is read back until its `until`, never at or after it."""
        await queue.record_slots([row("acme", "account:acme", "p.1", START + 10),
                                  row("acme", "account:acme", "p.2", START + 20)])  # fmt: skip
        clock.advance(10)
        assert [r.slot for r in await queue.recent_slots(["acme"])] == ["p.2"]
        await queue.record_slots([row("bolt", "account:bolt", "p.3", START + 30)])
        clock.advance(10)
        assert await queue.recent_slots(["acme"]) == []
        assert [r.slot for r in await queue.recent_slots(["bolt"])] == ["p.3"]
