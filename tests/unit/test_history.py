"""An input's history: repeated (inverter, day) rows found with the line that lost."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from uploader.ingest import history
from uploader.ingest.history import History

Row = tuple[str, int, Decimal, int]  # inverter, day, accumulated, line


def reference(rows: list[Row]) -> tuple[list[tuple[int, int]], list[bool]]:
    """What a plain dict of every row gives: the repeats and the falling flags."""
    lines: dict[tuple[str, int], int] = {}
    previous: dict[str, tuple[int, Decimal]] = {}
    repeats, falls = [], []
    for inv, day, acc, line in rows:
        if (inv, day) in lines:
            repeats.append((lines[inv, day], line))
        lines[inv, day] = line
        last = previous.get(inv)
        falls.append(
            last is not None
            and (acc < last[1] if day > last[0] else day < last[0] and acc > last[1])
        )
        previous[inv] = (day, acc)
    return repeats, falls


def shuffled(rand: random.Random, order: str) -> list[Row]:
    """Rows of 5 inverters x 30 days in one of the orders files come in, some days repeated."""
    keys = [(f"INV{i}", 738000 + d) for i in range(5) for d in range(30) if rand.random() > 0.1]
    if order == "days first":
        keys.sort(key=lambda k: (k[1], k[0]))
    elif order == "descending":
        keys.sort(reverse=True)
    elif order == "random":
        rand.shuffle(keys)
    for _ in range(rand.randrange(0, 12)):
        at = rand.randrange(len(keys) + 1)
        keys.insert(at, rand.choice(keys))
    return [
        (inv, day, Decimal(rand.randrange(100)), line)
        for line, (inv, day) in enumerate(keys, start=2)
    ]


@pytest.mark.parametrize("order", ["inverters first", "days first", "descending", "random"])
def test_repeats_and_falls_match_a_plain_record_of_every_row(
    rand: random.Random, order: str
) -> None:
    """Whatever the order of the rows, the history finds every repeat and its losing line."""
    for _ in range(50):
        rows = shuffled(rand, order)
        seen = History()
        falls = [seen.see("acme", inv, day, acc, line) for inv, day, acc, line in rows]
        assert (seen.repeats, falls) == reference(rows)


def test_an_ordered_file_keeps_one_run_per_inverter() -> None:
    """An inverter's consecutive days, a constant number of lines apart, cost no closed run."""
    seen = History()
    for day in range(250):
        for inv in range(20):
            seen.see("acme", f"INV{inv}", 738000 + day, Decimal(day), 2 + day * 20 + inv)
    assert seen._runs == 0
    assert seen.repeats == []


def test_the_history_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past MAX_TRACKED_RUNS runs the history starts over instead of growing."""
    monkeypatch.setattr(history, "MAX_TRACKED_RUNS", 10)
    seen = History()
    for line in range(2, 100):
        seen.see("acme", "INV1", 738000 + (line * 7) % 50, Decimal(1), line)
    assert seen._runs < 10
    assert len(seen._inverters) <= 1
