"""Every 400 and 422 of the generation endpoints, each with its field path, all at once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from uploader.simulator import FakeRegistry

from .helpers import Api, SimFactory, api_for
from .payloads import ACME, SEED_LEGACY, SEED_RID, batch, day, days, single

BATCHES = "/generation-datas/batches"


@pytest.fixture
def inverter(sim: FakeRegistry) -> str:
    """A 10 kW inverter of acme, connected 2023-01-01, effective 2023-02-01 to 2024-03-31."""
    sim.add_inverter(
        ACME,
        "INV-1",
        capacity_kw="10",
        grid_connection=dt.date(2023, 1, 1),
        effective_start=dt.date(2023, 2, 1),
        effective_end=dt.date(2024, 3, 31),
    )
    return "INV-1"


async def test_malformed_json_is_400(api: Api) -> None:
    """A body that is not JSON answers 400 in the envelope."""
    headers = {"Content-Type": "application/json"}
    answer = await api.post(BATCHES, data=b'{"Devices": [', headers=headers)
    assert answer.status == 400
    assert answer.body["StatusCode"] == 400
    assert answer.codes == ["Malformed"]


@pytest.mark.parametrize(
    ("record", "field"),
    [
        (
            {"PeriodProductionInKWh": "1", "AccumulatedEnergyInKWh": "1"},
            "Devices[0].Data[0].Timestamp",
        ),
        (day("2024-13-01"), "Devices[0].Data[0].Timestamp"),
        (day("2024-01-01", True), "Devices[0].Data[0].PeriodProductionInKWh"),
        (day("2024-01-01", "1", None), "Devices[0].Data[0].AccumulatedEnergyInKWh"),
    ],
)
async def test_missing_or_mistyped_field_is_400_with_its_path(
    api: Api, inverter: str, record: dict[str, Any], field: str
) -> None:
    """A missing or mistyped field answers 400 naming the field's path."""
    answer = await api.post(BATCHES, json=batch((inverter, [record])))
    assert answer.status == 400
    assert answer.fields == [field]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            batch(("INV-1", [{"Timestamp": "2024-01-01", "PeriodProductionInKWh": "1",
                              "AccumulatedPowerInKWh": "2"}])),
            "Devices[0].Data[0].AccumulatedPowerInKWh",
        ),
        ({"Devices": [{"RemoteId": "INV-1", "Data": []}]}, "Devices[0].RemoteId"),
    ],
)  # fmt: skip
async def test_old_field_names_are_400_on_grouped_endpoints(
    api: Api, inverter: str, body: dict[str, Any], field: str
) -> None:
    """`AccumulatedPowerInKWh` and `RemoteId` are unknown fields on the batch endpoint."""
    answer = await api.post(BATCHES, json=body)
    assert answer.status == 400
    assert answer.fields == [field]


async def test_non_finite_values_are_400(api: Api, inverter: str) -> None:
    """NaN and Infinity are refused with 400 at their fields."""
    data = [day("2024-01-01", "NaN"), day("2024-01-02", "1", "Infinity")]
    answer = await api.post(BATCHES, json=batch((inverter, data)))
    assert answer.status == 400
    assert answer.fields == [
        "Devices[0].Data[0].PeriodProductionInKWh",
        "Devices[0].Data[1].AccumulatedEnergyInKWh",
    ]
    assert set(answer.codes) == {"NotFinite"}


async def test_more_than_3000_records_across_devices_is_400(api: Api, sim: FakeRegistry) -> None:
    """3001 records over two devices answer 400 at `Devices`, and nothing is stored."""
    for rid in ("A", "B"):
        sim.add_inverter(ACME, rid)
    body = batch(("A", days(dt.date(2018, 1, 1), 1500)), ("B", days(dt.date(2018, 1, 1), 1501)))
    answer = await api.post(BATCHES, json=body)
    assert answer.status == 400
    assert (answer.codes, answer.fields) == (["TooManyRecords"], ["Devices"])
    assert sim.state()["accounts"][ACME]["inverters"] == {}


async def test_more_than_3000_records_on_single_endpoint_is_400(
    api: Api, sim: FakeRegistry
) -> None:
    """The single-inverter endpoint has the same limit, reported at `Data`."""
    sim.add_inverter(ACME, "INV-2")
    answer = await api.post(
        "/generation-datas", json=single("INV-2", days(dt.date(2010, 1, 1), 3001))
    )
    assert answer.status == 400
    assert answer.fields == ["Data"]


async def test_duplicate_day_in_one_body_is_400(api: Api, inverter: str) -> None:
    """The same (RemoteInvId, day) twice, even in two Devices entries, is a 400 at the repeat."""
    body = batch(
        (inverter, [day("2024-01-01"), day("2024-01-02"), day("2024-01-01")]),
        (inverter, [day("2024-01-02")]),
    )
    answer = await api.post(BATCHES, json=body)
    assert answer.status == 400
    assert answer.fields == [
        "Devices[0].Data[2].Timestamp",
        "Devices[1].RemoteInvId",
        "Devices[1].Data[0].Timestamp",
    ]
    assert answer.codes == ["Duplicate", "DuplicateInverter", "Duplicate"]


async def test_unknown_inverter_is_422(api: Api) -> None:
    """An inverter the account never registered answers 422 at its RemoteInvId."""
    answer = await api.post(BATCHES, json=batch(("NOPE", [day("2024-01-01")])))
    assert answer.status == 422
    assert (answer.codes, answer.fields) == (["UnknownInverter"], ["Devices[0].RemoteInvId"])


async def test_another_accounts_inverter_is_unknown(api: Api, sim: FakeRegistry) -> None:
    """An inverter registered by another account is unknown to this one (422)."""
    sim.add_inverter("other", "THEIRS")
    answer = await api.post(BATCHES, json=batch(("THEIRS", [day("2024-01-01")])))
    assert answer.status == 422


async def test_open_inverters_accepts_any_inverter(make_sim: SimFactory, session: Any) -> None:
    """With open_inverters, an unregistered RemoteInvId is accepted."""
    sim = await make_sim(open_inverters=True)
    answer = await api_for(sim, session).post(BATCHES, json=batch(("ANY", [day("2024-01-01")])))
    assert answer.status == 200


@pytest.mark.parametrize(
    ("when", "code"),
    [
        ("2022-12-31", "BeforeEffectiveStart"),  # before grid connection
        ("2023-01-15", "BeforeEffectiveStart"),  # after grid connection, before effective start
        ("2024-04-01", "AfterEffectiveEnd"),
    ],
)
async def test_day_outside_the_effective_period_is_422(
    api: Api, inverter: str, when: str, code: str
) -> None:
    """A day before grid connection or the effective start, or after its end, is a 422."""
    answer = await api.post(BATCHES, json=batch((inverter, [day(when)])))
    assert answer.status == 422
    assert (answer.codes, answer.fields) == ([code], ["Devices[0].Data[0].Timestamp"])


async def test_future_day_is_422(api: Api, sim: FakeRegistry) -> None:
    """A day after today (2024-06-15 under the test clock) is a 422."""
    sim.add_inverter(ACME, "INV-2")
    answer = await api.post(BATCHES, json=batch(("INV-2", [day("2024-06-16")])))
    assert answer.status == 422
    assert answer.codes == ["FutureDate"]


@pytest.mark.parametrize(
    ("produced", "accumulated", "code", "field"),
    [
        ("-0.001", "1", "Negative", "PeriodProductionInKWh"),
        ("1", "-5", "Negative", "AccumulatedEnergyInKWh"),
        ("1.2345", "1", "TooManyDecimals", "PeriodProductionInKWh"),
        ("1", "1E-4", "TooManyDecimals", "AccumulatedEnergyInKWh"),
        ("240.001", "1", "AboveCapacity", "PeriodProductionInKWh"),
    ],
)
async def test_value_rules_are_422(
    api: Api, inverter: str, produced: str, accumulated: str, code: str, field: str
) -> None:
    """Negative values, more than 3 decimals and production above capacity x 24 h are 422s."""
    body = batch((inverter, [day("2024-01-01", produced, accumulated)]))
    answer = await api.post(BATCHES, json=body)
    assert answer.status == 422
    assert (answer.codes, answer.fields) == ([code], [f"Devices[0].Data[0].{field}"])


async def test_trailing_zeros_do_not_count_as_decimals(api: Api, inverter: str) -> None:
    """`1.5000` has one decimal place by value, so it passes the 3-decimal rule."""
    answer = await api.post(BATCHES, json=batch((inverter, [day("2024-01-01", "1.5000")])))
    assert answer.status == 200


async def test_legacy_allows_4_decimals_but_not_5(api: Api, sim: FakeRegistry) -> None:
    """The legacy endpoint takes the seed's 4 decimals and refuses 5 at its own field name."""
    sim.add_inverter(ACME, SEED_RID)
    body = dict(SEED_LEGACY)
    body["Data"] = [
        {
            "Timestamp": "2023-05-01",
            "PeriodProductionInKWh": "0.1",
            "AccumulatedPowerInKWh": "5.12345",
        }
    ]
    answer = await api.post("/generation-data", json=body)
    assert answer.status == 422
    assert answer.fields == ["Data[0].AccumulatedPowerInKWh"]


async def test_legacy_refuses_other_frequencies(api: Api, sim: FakeRegistry) -> None:
    """The legacy endpoint supports only FrequencyType Daily (400 otherwise)."""
    sim.add_inverter(ACME, SEED_RID)
    answer = await api.post("/generation-data", json=SEED_LEGACY | {"FrequencyType": "Weekly"})
    assert (answer.status, answer.fields) == (400, ["FrequencyType"])


async def test_every_violation_is_reported_and_nothing_is_stored(
    api: Api, inverter: str, sim: FakeRegistry
) -> None:
    """A body with several violations lists them all, answers the 400, and stores nothing."""
    data = [
        day("2024-01-01"),  # valid, but the body is all-or-nothing
        day("2024-01-02", "-1"),
        day("2024-01-02"),
        day("2025-01-01", "1.0001"),
    ]
    answer = await api.post(BATCHES, json=batch((inverter, data), ("NOPE", [day("2024-01-01")])))
    assert answer.status == 400
    assert list(zip(answer.codes, answer.fields, strict=True)) == [
        ("Negative", "Devices[0].Data[1].PeriodProductionInKWh"),
        ("Duplicate", "Devices[0].Data[2].Timestamp"),
        ("FutureDate", "Devices[0].Data[3].Timestamp"),
        ("AfterEffectiveEnd", "Devices[0].Data[3].Timestamp"),
        ("TooManyDecimals", "Devices[0].Data[3].PeriodProductionInKWh"),
        ("UnknownInverter", "Devices[1].RemoteInvId"),
    ]
    assert sim.state()["accounts"][ACME]["inverters"] == {}
    assert sim.accepted(ACME) == []
