"""The `FakeRegistry` object itself: lifecycle, exports, reconfiguration, no secret in a repr."""

from __future__ import annotations

import aiohttp

import uploader.simulator
from uploader.simulator import Credentials, FakeRegistry, SimOptions
from uploader.simulator.rates import RateSpec

from .helpers import Api, SimFactory, api_for


def test_exports_are_sorted() -> None:
    """`uploader.simulator.__all__` is sorted and every name exists."""
    names = list(uploader.simulator.__all__)
    assert names == sorted(names)
    assert all(hasattr(uploader.simulator, name) for name in names)


async def test_context_manager_starts_on_a_free_port_and_stops(
    session: aiohttp.ClientSession,
) -> None:
    """`async with FakeRegistry()` listens on 127.0.0.1 and an ephemeral port, then stops."""
    async with FakeRegistry() as sim:
        assert sim.url == f"http://127.0.0.1:{sim.port}"
        assert sim.port > 0
        async with session.get(sim.url + "/_sim/state") as response:
            assert response.status == 200
    assert "requests=0" in repr(sim)


def test_options_repr_hides_secrets() -> None:
    """Neither tokens nor credentials appear in the options' repr."""
    options = SimOptions(
        tokens={"acme": "TOKEN-XYZ"},
        credentials={"acme": Credentials("APIKEY-XYZ", "client", "CLIENTSECRET-XYZ")},
    )
    assert "XYZ" not in repr(options) + repr(options.credentials["acme"])


async def test_reconfigure_changes_faults_and_keeps_data(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    """`reconfigure` turns a fault on while running; stored data and issued tokens stay."""
    sim = await make_sim(open_inverters=True)
    api: Api = api_for(sim, session)
    body = {"RemoteInvId": "A", "Data": [{"Timestamp": "2024-01-01", "PeriodProductionInKWh": "1",
                                          "AccumulatedEnergyInKWh": "1"}]}  # fmt: skip
    assert (await api.post("/generation-datas", json=body)).status == 200
    sim.reconfigure(fail_rate=1.0, account_limit=RateSpec.parse("1/1s"))
    assert (await api.post("/generation-datas", json=body)).status == 503
    assert sim.state(summary=True)["accounts"]["acme"]["day_count"] == 1
