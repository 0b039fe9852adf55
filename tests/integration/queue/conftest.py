"""The queue contract's fixtures: every backend, on a clock the tests move by hand."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from tests.integration.queue.helpers import FakeClock
from uploader.queue import Queue
from uploader.queue.sqlite import SQLiteQueue
from uploader.testing import InMemoryQueue

# A backend is a factory of an unopened queue; a Redis backend adds one line here.
BACKENDS: dict[str, Callable[[Path, FakeClock], Queue]] = {
    "memory": lambda tmp, clock: InMemoryQueue(clock=clock),
    "sqlite": lambda tmp, clock: SQLiteQueue(tmp / "queue.db", clock=clock),
}


@pytest.fixture
def clock() -> FakeClock:
    """The clock the queue under test reads."""
    return FakeClock()


@pytest.fixture(params=sorted(BACKENDS))
async def queue(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[Queue]:
    """An open queue of each backend, empty."""
    async with BACKENDS[request.param](tmp_path, clock) as opened:
        yield opened
