"""The queue contract's fixtures: every backend, on a clock the tests move by hand."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from tests.integration.queue.helpers import FakeClock
from uploader.queue import Queue
from uploader.queue.redis import RedisQueue
from uploader.queue.sqlite import SQLiteQueue
from uploader.testing import InMemoryQueue

Factory = Callable[[pytest.FixtureRequest, Path, FakeClock], Queue]


def _redis(request: pytest.FixtureRequest, tmp: Path, clock: FakeClock) -> Queue:
    # Asked for here, not by the fixture: only the Redis cases skip when no server exists.
    url: str = request.getfixturevalue("redis_url")
    prefix: str = request.getfixturevalue("redis_prefix")
    return RedisQueue(url, prefix=prefix, durability="none", clock=clock)


# A backend is a factory of an unopened queue.
BACKENDS: dict[str, Factory] = {
    "memory": lambda request, tmp, clock: InMemoryQueue(clock=clock),
    "sqlite": lambda request, tmp, clock: SQLiteQueue(tmp / "queue.db", clock=clock),
    "redis": _redis,
}


@pytest.fixture
def clock() -> FakeClock:
    """The clock the queue under test reads."""
    return FakeClock()


@pytest.fixture(params=sorted(BACKENDS))
def unopened(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> Queue:
    """A queue of each backend, not yet open (a plain fixture: async ones cannot ask for
    further async fixtures by name, and the Redis server's are async)."""
    return BACKENDS[request.param](request, tmp_path, clock)


@pytest.fixture
async def queue(unopened: Queue) -> AsyncIterator[Queue]:
    """An open queue of each backend, empty."""
    async with unopened as opened:
        yield opened
