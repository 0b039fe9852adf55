"""The state dump: `GET /_sim/state`, its summary, and `FakeRegistry.state()`."""

from __future__ import annotations

from uploader.simulator import FakeRegistry

from .helpers import Api
from .payloads import ACME, batch, day


async def test_state_endpoint_holds_every_day_and_the_counters(api: Api, sim: FakeRegistry) -> None:
    """The dump has each account's days as exact strings and request counts by status."""
    sim.add_inverter(ACME, "A")
    await api.post("/generation-datas/batches", json=batch(("A", [day("2024-01-01", 1.25, "7")])))
    await api.post("/generation-datas/batches", json=batch(("NOPE", [day("2024-01-01")])))
    await api.as_token("bad").get("/metadata/inverter-brands")
    state = (await api.as_token(None).get("/_sim/state")).body
    assert state["accounts"][ACME]["inverters"] == {
        "A": {"2024-01-01": {"PeriodProductionInKWh": "1.25", "AccumulatedEnergyInKWh": "7"}}
    }
    assert state["requests"] == {
        "by_status": {"200": 1, "401": 1, "422": 1},
        "by_account": {ACME: {"200": 1, "422": 1}},
        "total": 3,
    }
    assert (state["records_accepted"], state["rate_limited"]) == (1, 0)
    assert state["processes"] == {"New": 0, "Processing": 0, "Success": 1, "Failed": 0}
    assert state == sim.state()


async def test_summary_omits_the_days(api: Api, sim: FakeRegistry) -> None:
    """`?summary=1` gives counts per account instead of the per-day data."""
    sim.add_inverter(ACME, "A")
    body = batch(("A", [day("2024-01-01"), day("2024-01-02")]))
    await api.post("/generation-datas/batches", json=body)
    summary = (await api.get("/_sim/state", params={"summary": "1"})).body
    assert summary["accounts"][ACME] == {"inverter_count": 1, "day_count": 2, "monthly_count": 0}
    assert summary == sim.state(summary=True)


async def test_state_requests_are_not_counted(api: Api, sim: FakeRegistry) -> None:
    """Reading /_sim/state is not a registry request: it counts nowhere."""
    await api.get("/_sim/state")
    assert sim.state()["requests"]["total"] == 0
