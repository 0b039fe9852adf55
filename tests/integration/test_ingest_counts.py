"""An input's counts against a real SQLite queue: accepted = queued + unchanged + superseded."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from uploader.ingest.pipeline import Chunk, IngestSummary, check_rows, ingest
from uploader.ingest.validate import Validator
from uploader.queue import Queue, open_queue

TODAY = dt.date(2025, 3, 10)
Row = tuple[str, str, str]  # inverter, day, period


def rows_of(rand: random.Random, most: int) -> list[Row]:
    """About 60 rows of 4 inverters; some keys have up to `most` rows, far apart or not."""
    keys = [(f"INV{i}", f"2024-05-{d:02d}") for i in range(4) for d in range(1, 13)]
    extra = [key for key in rand.sample(keys, 12) for _ in range(rand.randrange(most))]
    keys += extra
    rand.shuffle(keys)
    return [(inv, day, str(rand.randrange(3))) for inv, day in keys]


def edited(rand: random.Random, rows: list[Row]) -> list[Row]:
    """The same rows with about a tenth of the values changed."""
    return [(inv, day, str(rand.randrange(3)) if rand.random() < 0.1 else period)
            for inv, day, period in rows]  # fmt: skip


def chunks(rows: list[Row], size: int) -> Iterator[Chunk]:
    """The rows as an input of `size`-row chunks, one validator across them."""
    validator = Validator({"acme"}, today=TODAY, default_account="acme")
    numbered = [
        (line, {"RemoteInvId": inv, "Timestamp": day, "PeriodProductionInKWh": period,
                "AccumulatedEnergyInKWh": "1"})
        for line, (inv, day, period) in enumerate(rows, start=1)
    ]  # fmt: skip
    for start in range(0, len(numbered), size):
        yield check_rows(numbered[start : start + size], validator, "in")


def truth(rows: list[Row], size: int, held: dict[tuple[str, str], str]) -> tuple[int, int, int]:
    """(queued, unchanged, superseded) by replaying the rows on what the queue held.

    A chunk's rows reach the queue last one first for each key (the others never do); a
    record is queued when a row that reached it changed it, unchanged when none did.
    """
    changed: dict[tuple[str, str], bool] = {}
    for start in range(0, len(rows), size):
        last = {(inv, day): period for inv, day, period in rows[start : start + size]}
        for key, period in last.items():
            changed[key] = changed.get(key, False) or held.get(key) != period
            held[key] = period
    queued = sum(changed.values())
    return queued, len(changed) - queued, len(rows) - len(changed)


async def counted(queue: Queue, rows: list[Row], size: int) -> tuple[int, int, int]:
    summary: IngestSummary = await ingest(chunks(rows, size), queue)
    assert summary.accepted == summary.queued + summary.unchanged + summary.superseded
    return summary.queued, summary.unchanged, summary.superseded


@pytest.mark.parametrize("size", [5, 17, 1000])
async def test_a_file_sent_anew_and_again_is_counted_exactly(
    tmp_path: Path, rand: random.Random, size: int
) -> None:
    """Rows repeated once, sent anew then again: the counts are what the queue went through."""
    async with open_queue(f"sqlite:///{tmp_path / 'q.db'}") as queue:
        held: dict[tuple[str, str], str] = {}
        rows = rows_of(rand, most=2)
        for _ in range(2):
            assert await counted(queue, rows, size) == truth(rows, size, held)
        pending = (await queue.counts()).total.pending
        assert pending == len({(inv, day) for inv, day, _ in rows})


@pytest.mark.parametrize("size", [5, 17])
async def test_any_input_is_counted_within_its_repeated_records(
    tmp_path: Path, rand: random.Random, size: int
) -> None:
    """Rows repeated many times and edited between runs: queued and unchanged are exact
    sent anew, and otherwise off by at most the number of records with repeated rows."""
    async with open_queue(f"sqlite:///{tmp_path / 'q.db'}") as queue:
        held: dict[tuple[str, str], str] = {}
        rows = rows_of(rand, most=4)
        repeated = len(rows) - len({(inv, day) for inv, day, _ in rows})
        assert await counted(queue, rows, size) == truth(rows, size, held)
        for attempt in (rows, edited(rand, rows), edited(rand, rows)):
            queued, _, superseded = await counted(queue, attempt, size)
            expected = truth(attempt, size, held)
            assert superseded == expected[2]
            assert abs(queued - expected[0]) <= repeated


async def test_superseded_rows_never_reach_the_queue_twice(
    tmp_path: Path, rand: random.Random
) -> None:
    """Whatever the repeats, the queue holds one record per key, with the last row's value."""
    async with open_queue(f"sqlite:///{tmp_path / 'q.db'}") as queue:
        rows = rows_of(rand, most=4)
        await counted(queue, rows, 7)
        claim = await queue.claim("acme", 1000, 30.0)
        assert claim is not None
        last = {(inv, day): period for inv, day, period in rows}
        got = {(r.remote_inv_id, r.day): r.period_kwh for r in claim.records}
        assert got == last
