"""Grouped-device registration (the simulator's own rules) and an application's devices."""

from __future__ import annotations

from typing import Any

import pytest

from uploader.simulator import FakeRegistry

from .helpers import REGISTER, Api, file_id, registered
from .payloads import OTHER_TOKEN, batch, day, registration

RID = "RM1000020003386274014"  # the seed's inverter: 10.9 kW, grid connection 2022-05-13


async def test_seed_registration_is_created_and_lists_its_devices(api: Api) -> None:
    """The seed's payload registers (201 + Id); its devices list the inverter with an int Id."""
    app_id = await registered(api)
    answer = await api.get(f"/device-applications/{app_id}/devices")
    assert answer.status == 200
    [device] = answer.body["Data"]
    [inverter] = device["Inverters"]
    assert device["InstallationName"] == "ChinaSolarDeveloper-AnhuiSheng-000001"
    assert device["Timezone"] == "UTC+08:00"
    assert isinstance(inverter["Id"], int)
    assert (inverter["RemoteInvId"], inverter["InstalledCapacity"]) == (RID, "10.9")


async def test_registered_inverters_become_known_with_their_rules(api: Api) -> None:
    """After registration the inverter takes data, within grid connection and 10.9 kW x 24 h."""
    await registered(api)
    body = batch((RID, [day("2024-01-01", "261.600")]))
    posted = await api.post("/generation-datas/batches", json=body)
    assert posted.status == 200
    refused = await api.post(
        "/generation-datas/batches",
        json=batch((RID, [day("2022-05-12"), day("2024-01-02", "261.601")])),
    )
    assert refused.status == 422
    assert refused.codes == ["BeforeEffectiveStart", "AboveCapacity"]


INVERTER = "Devices.0.Inverters.0."
UNKNOWN_FILE = "94584c27-518d-45b5-1d2b-08dc6a99c86e"  # the seed's id, never uploaded here


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"CountryCode": "US"}, 422, "CountryCode"),
        (
            {INVERTER + "InstalledCapacity": 250.001},
            422,
            "Devices[0].Inverters[0].InstalledCapacity",
        ),
        ({INVERTER + "BrandCode": "OT27"}, 422, "Devices[0].Inverters[0].OtherBrandName"),
        (
            {"Devices.0.DeclarationFormFileId": UNKNOWN_FILE},
            422,
            "Devices[0].DeclarationFormFileId",
        ),
        ({"GroupedLocalName": None}, 400, "GroupedLocalName"),
    ],
)
async def test_refused_rules_name_their_field(
    api: Api, sim: FakeRegistry, change: dict[str, Any], status: int, field: str
) -> None:
    """A broken rule is a 422 (a malformed field a 400) at its path; nothing is registered."""
    payload = registration(await file_id(api))
    for path, value in change.items():
        *parents, last = path.split(".")
        node: Any = payload
        for step in parents:
            node = node[int(step)] if step.isdigit() else node[step]
        node[last] = value
    answer = await api.post(REGISTER, json=payload)
    assert answer.status == status
    assert field in answer.fields
    posted = await api.post("/generation-datas/batches", json=batch((RID, [day("2024-01-01")])))
    assert posted.status == 422  # the inverter stayed unknown


async def test_registration_that_is_not_json_is_400(api: Api) -> None:
    """A registration body that is not JSON is a 400."""
    answer = await api.post(REGISTER, data=b"{", headers={"Content-Type": "application/json"})
    assert answer.status == 400


async def test_another_accounts_application_is_403(api: Api) -> None:
    """Another account may not read an application's devices (403); an unknown id is 404."""
    app_id = await registered(api)
    other = await api.as_token(OTHER_TOKEN).get(f"/device-applications/{app_id}/devices")
    assert other.status == 403
    assert (await api.get("/device-applications/nope/devices")).status == 404
