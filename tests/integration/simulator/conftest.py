"""Fixtures of the simulator's tests: a FakeRegistry on 127.0.0.1:0 under a manual clock,
and a small HTTP helper that speaks to it through a real aiohttp session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from uploader.simulator import FakeRegistry, ManualClock, SimOptions

from .helpers import Api, SimFactory
from .payloads import ACME, ACME_TOKEN, OTHER, OTHER_TOKEN, T0


@pytest.fixture
def clock() -> ManualClock:
    """The simulator's clock, at 2024-06-15T00:00:00Z until a test moves it."""
    return ManualClock(T0)


@pytest.fixture
async def make_sim(clock: ManualClock) -> AsyncIterator[SimFactory]:
    """Start FakeRegistries with accounts acme and other, a fixed window phase and the clock."""
    started: list[FakeRegistry] = []

    async def make(**changes: Any) -> FakeRegistry:
        """A started simulator; `changes` override the default options."""
        options: dict[str, Any] = {
            "tokens": {ACME: ACME_TOKEN, OTHER: OTHER_TOKEN},
            "window_phase_s": 0.0,
            "seed": 7,
        }
        sim = FakeRegistry(SimOptions(**(options | changes)), clock=clock)
        await sim.start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        await sim.stop()


@pytest.fixture
async def sim(make_sim: SimFactory) -> FakeRegistry:
    """A simulator with the default options (and the accounts of `make_sim`)."""
    return await make_sim()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """A real aiohttp client session."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def api(sim: FakeRegistry, session: aiohttp.ClientSession) -> Api:
    """Requests to `sim` as account acme."""
    return Api(session, sim.url, ACME_TOKEN)
