"""Injected faults (latency, 503, resets, stalls) and scripted answers."""

from __future__ import annotations

import time

import aiohttp
import pytest

from uploader.simulator import FakeRegistry

from .helpers import Api, SimFactory, api_for
from .payloads import ACME, OTHER_TOKEN, batch, day

BATCHES = "/generation-datas/batches"
BODY = batch(("A", [day("2024-01-01")]))


async def _faulty(make_sim: SimFactory, **changes: object) -> FakeRegistry:
    return await make_sim(open_inverters=True, **changes)


def _stored(sim: FakeRegistry) -> int:
    count: int = sim.state(summary=True)["records_stored"]
    return count


async def test_latency_delays_the_answer(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    """With 50-60 ms of latency, an answer takes at least about 50 ms and still succeeds."""
    sim = await _faulty(make_sim, latency_ms=(50.0, 60.0))
    started = time.perf_counter()
    answer = await api_for(sim, session).post(BATCHES, json=BODY)
    assert answer.status == 200
    assert time.perf_counter() - started >= 0.045  # a lower bound only: sleeps never end early


async def test_fail_rate_answers_503_and_stores_nothing(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    """With fail_rate 1 every request is a 503 envelope and nothing is stored."""
    sim = await _faulty(make_sim, fail_rate=1.0)
    answer = await api_for(sim, session).post(BATCHES, json=BODY)
    assert (answer.status, answer.body["StatusCode"]) == (503, 503)
    state = sim.state()
    assert (state["records_stored"], state["faults"]) == (0, {"503": 1})


async def test_reset_rate_drops_the_connection(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    """With reset_rate 1 the connection closes without an answer and nothing is stored."""
    sim = await _faulty(make_sim, reset_rate=1.0)
    with pytest.raises(aiohttp.ClientConnectionError):
        await api_for(sim, session).post(BATCHES, json=BODY)
    assert _stored(sim) == 0
    assert sim.state()["faults"]["reset"] >= 1


async def test_timeout_rate_stalls_past_the_client_timeout(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    """With timeout_rate 1 the answer stalls beyond a 0.2 s client timeout; nothing is stored."""
    sim = await _faulty(make_sim, timeout_rate=1.0, stall_s=60.0)
    with pytest.raises(TimeoutError):
        await api_for(sim, session).post(
            BATCHES, json=BODY, timeout=aiohttp.ClientTimeout(total=0.2)
        )
    assert _stored(sim) == 0
    assert sim.state()["faults"] == {"stall": 1}


async def test_faults_never_touch_the_state_endpoint(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    """/_sim/state answers 200 even when every registry request fails."""
    sim = await _faulty(make_sim, fail_rate=1.0, reset_rate=0.0)
    assert (await api_for(sim, session).get("/_sim/state")).status == 200


async def test_seeded_faults_repeat(make_sim: SimFactory, session: aiohttp.ClientSession) -> None:
    """The same seed gives the same sequence of 200s and 503s."""
    runs = []
    for _ in range(2):
        api = api_for(await _faulty(make_sim, fail_rate=0.5, seed=11), session)
        runs.append([(await api.post(BATCHES, json=BODY)).status for _ in range(12)])
    assert runs[0] == runs[1]
    assert set(runs[0]) == {200, 503}


async def test_script_answers_an_accounts_next_requests(api: Api, sim: FakeRegistry) -> None:
    """A script [503, 429, 200, reset] plays in order for that account only, then normal."""
    sim.add_inverter(ACME, "A")
    sim.script(ACME, [503, 429, 200, "reset"], retry_after_s=7)
    assert (await api.as_token(OTHER_TOKEN).get("/metadata/inverter-brands")).status == 200
    first, second = await api.post(BATCHES, json=BODY), await api.post(BATCHES, json=BODY)
    assert (first.status, second.status, second.headers["Retry-After"]) == (503, 429, "7")
    assert _stored(sim) == 0
    assert (await api.post(BATCHES, json=BODY)).status == 200
    assert _stored(sim) == 1
    with pytest.raises(aiohttp.ClientConnectionError):
        await api.post(BATCHES, json=BODY)
    assert (await api.post(BATCHES, json=BODY)).status == 200
