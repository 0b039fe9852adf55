"""Pushes to every generation endpoint, the registry's own example bodies first."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from uploader.simulator import FakeRegistry
from uploader.simulator.bodies import BatchBody
from uploader.simulator.wire import DailyData

from .helpers import Api
from .payloads import ACME, SEED_BATCH, SEED_LEGACY, SEED_RID, SEED_SINGLE, batch, day, single

BATCHES = "/generation-datas/batches"


def stored(sim: FakeRegistry, rid: str = SEED_RID) -> dict[str, Any]:
    """The days the simulator holds for one of acme's inverters."""
    days: dict[str, Any] = sim.state()["accounts"][ACME]["inverters"][rid]
    return days


async def test_seed_legacy_example_is_accepted_with_empty_data(api: Api, sim: FakeRegistry) -> None:
    """The seed's legacy body (4 decimals, AccumulatedPowerInKWh) answers 200 `Data: {}`."""
    sim.add_inverter(ACME, SEED_RID)
    answer = await api.post("/generation-data", json=SEED_LEGACY)
    assert (answer.status, answer.body["Data"], answer.body["Message"]) == (200, {}, "Success")
    assert stored(sim)["2023-05-03"] == {
        "PeriodProductionInKWh": "0.4567",
        "AccumulatedEnergyInKWh": "5.8146",
    }


async def test_legacy_accepts_the_seed_tables_RemoteId(api: Api, sim: FakeRegistry) -> None:
    """The legacy endpoint also takes `RemoteId`, the name in the seed's field table."""
    sim.add_inverter(ACME, SEED_RID)
    body = {k: v for k, v in SEED_LEGACY.items() if k != "RemoteInvId"} | {"RemoteId": SEED_RID}
    answer = await api.post("/generation-data", json=body)
    assert answer.status == 200
    assert len(stored(sim)) == 3


async def test_seed_single_example_gets_a_process_id(api: Api, sim: FakeRegistry) -> None:
    """Part 2's grouped single-inverter example answers 200 with a ProcessId, and is stored."""
    sim.add_inverter(ACME, SEED_RID)
    answer = await api.post("/generation-datas", json=SEED_SINGLE)
    assert answer.status == 200
    assert isinstance(answer.body["Data"]["ProcessId"], int)
    assert stored(sim) == {
        "2023-05-01": {"PeriodProductionInKWh": "0.123", "AccumulatedEnergyInKWh": "5.123"}
    }


async def test_seed_batch_example_is_stored_exactly(api: Api, sim: FakeRegistry) -> None:
    """Part 2's batch example is stored with its exact decimal strings."""
    sim.add_inverter(ACME, SEED_RID)
    answer = await api.post(BATCHES, json=SEED_BATCH)
    assert answer.status == 200
    assert stored(sim)["2023-05-02"] == {
        "PeriodProductionInKWh": "0.234",
        "AccumulatedEnergyInKWh": "5.357",
    }


async def test_numbers_as_json_numbers_are_accepted_exactly(api: Api, sim: FakeRegistry) -> None:
    """Energy values sent as JSON numbers are kept exactly, never through a float."""
    sim.add_inverter(ACME, "INV-1")
    body = batch(("INV-1", [day("2024-01-01", 0.1, 123456789.987)]))
    answer = await api.post(BATCHES, json=body)
    assert answer.status == 200
    assert stored(sim, "INV-1")["2024-01-01"]["AccumulatedEnergyInKWh"] == "123456789.987"


async def test_resent_day_overwrites(api: Api, sim: FakeRegistry) -> None:
    """Sending a day again replaces the value the registry holds."""
    sim.add_inverter(ACME, "INV-1")
    await api.post(BATCHES, json=batch(("INV-1", [day("2024-01-01", "1.000", "10.000")])))
    await api.post("/generation-datas", json=single("INV-1", [day("2024-01-01", "2.500", "11.5")]))
    assert stored(sim, "INV-1")["2024-01-01"] == {
        "PeriodProductionInKWh": "2.500",
        "AccumulatedEnergyInKWh": "11.5",
    }


async def test_falling_accumulated_value_is_accepted(api: Api, sim: FakeRegistry) -> None:
    """No invented rule: an accumulated meter value that falls is accepted."""
    sim.add_inverter(ACME, "INV-1")
    data = [day("2024-01-01", "1", "500.000"), day("2024-01-02", "1", "10.000")]
    assert (await api.post(BATCHES, json=batch(("INV-1", data)))).status == 200


async def test_batch_of_3000_records_across_devices_is_accepted(
    api: Api, sim: FakeRegistry
) -> None:
    """Exactly 3000 records over 100 inverters pass; the simulator remembers the body."""
    start = dt.date(2024, 1, 1)
    devices = []
    for n in range(100):
        sim.add_inverter(ACME, f"INV-{n}")
        devices.append((f"INV-{n}", [day(start + dt.timedelta(days=d)) for d in range(30)]))
    answer = await api.post(BATCHES, json=batch(*devices))
    assert answer.status == 200
    assert sim.state(summary=True)["accounts"][ACME]["day_count"] == 3000
    [body] = sim.accepted(ACME)
    assert isinstance(body, BatchBody)
    assert isinstance(body.Devices[0].Data[0], DailyData)
    assert body.Devices[99].Data[29].AccumulatedEnergyInKWh == Decimal("100.000")


async def test_today_is_not_the_future(api: Api, sim: FakeRegistry) -> None:
    """The current day may be reported (only later days are in the future)."""
    sim.add_inverter(ACME, "INV-1")
    answer = await api.post(BATCHES, json=batch(("INV-1", [day("2024-06-15")])))
    assert answer.status == 200


async def test_registered_capacity_allows_up_to_24_hours(api: Api, sim: FakeRegistry) -> None:
    """A 10 kW inverter may report exactly 240 kWh in a day."""
    sim.add_inverter(ACME, "INV-1", capacity_kw="10", grid_connection=dt.date(2023, 1, 1))
    answer = await api.post(BATCHES, json=batch(("INV-1", [day("2024-01-01", "240.000")])))
    assert answer.status == 200


async def test_strings_and_numbers_store_the_same_values(api: Api, sim: FakeRegistry) -> None:
    """Canonical strings (the fast lane) and JSON numbers (the precise path) store alike."""
    sim.add_inverter(ACME, "S")
    sim.add_inverter(ACME, "N")
    await api.post(BATCHES, json=batch(("S", [day("2024-01-01", "0.5", "1234.125")])))
    await api.post(BATCHES, json=batch(("N", [day("2024-01-01", 0.5, 1234.125)])))
    assert stored(sim, "S") == stored(sim, "N")
