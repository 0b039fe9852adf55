"""Rules across devices and inverters: uniform tariff, unique ids and serials, brands, sizes."""

from __future__ import annotations

from typing import Any

import pytest

from .payloads import SEED_FILE_ID, context, device, fields, inverter, violations

I0 = "Devices[0].Inverters[0]"


def test_feed_in_tariff_must_be_uniform(payload: dict[str, Any]) -> None:
    """A device whose FeedInTariff differs from the first device's is reported."""
    payload["Devices"] = [device(inverter(1)), device(inverter(2), FeedInTariff=True)]
    found = violations(payload)
    assert [str(v) for v in found] == [
        "Devices[1].FeedInTariff: must be the same for every device (Devices[0]: false)"
    ]


def test_absent_feed_in_tariff_counts_as_false(payload: dict[str, Any]) -> None:
    """FeedInTariff defaults to false, so an absent one conflicts with true."""
    first = device(inverter(1))
    del first["FeedInTariff"]
    payload["Devices"] = [first, device(inverter(2), FeedInTariff=False), device(inverter(3))]
    assert violations(payload) == []
    payload["Devices"][2]["FeedInTariff"] = True
    assert fields(payload) == {"Devices[2].FeedInTariff"}


def test_remote_inv_id_is_unique_across_devices(payload: dict[str, Any]) -> None:
    """A RemoteInvId used twice in one request is reported at its second use."""
    payload["Devices"] = [device(inverter(1)), device(inverter(2, RemoteInvId="rm000001"))]
    found = violations(payload)
    assert [str(v) for v in found] == [
        "Devices[1].Inverters[0].RemoteInvId: duplicate RemoteInvId rm000001"
    ]


def test_serial_is_unique_per_brand(payload: dict[str, Any]) -> None:
    """The same serial twice for one brand code is reported with the issue's exact wording."""
    serial = {"ElectronicSerialNumber": "HW2343243244414"}
    payload["Devices"] = [device(inverter(1, **serial)), device(inverter(2, **serial))]
    assert [str(v) for v in violations(payload)] == [
        "Devices[1].Inverters[0].ElectronicSerialNumber: "
        "duplicate serial HW2343243244414 for brand HW21"
    ]


def test_same_serial_of_different_brands_is_fine(payload: dict[str, Any]) -> None:
    """Serials are unique per brand only: two brands may share one."""
    inverters = [
        inverter(1, ElectronicSerialNumber="S1"),
        inverter(2, ElectronicSerialNumber="S1", BrandCode="SG05"),
        inverter(3, ElectronicSerialNumber="S1", BrandCode="OT27", OtherBrandName="Panasonic"),
    ]
    payload["Devices"] = [device(*inverters)]
    assert violations(payload) == []


def test_other_brand_name_identifies_the_brand_with_OT27(payload: dict[str, Any]) -> None:
    """With OT27 the OtherBrandName is the brand: a serial repeats only within the same name."""
    other = {"ElectronicSerialNumber": "S1", "BrandCode": "OT27"}
    payload["Devices"] = [
        device(
            inverter(1, **other, OtherBrandName="Panasonic"),
            inverter(2, **other, OtherBrandName="Fronius"),
            inverter(3, **other, OtherBrandName="Panasonic"),
        )
    ]
    assert [str(v) for v in violations(payload)] == [
        "Devices[0].Inverters[2].ElectronicSerialNumber: duplicate serial S1 for brand Panasonic"
    ]


@pytest.mark.parametrize("name", [None, "", "   "])
def test_OT27_requires_other_brand_name(payload: dict[str, Any], name: str | None) -> None:
    """BrandCode OT27 without a non-empty OtherBrandName is reported at OtherBrandName."""
    payload["Devices"][0]["Inverters"][0] |= {"BrandCode": "OT27", "OtherBrandName": name}
    found = violations(payload)
    assert [(v.field, v.malformed) for v in found] == [(f"{I0}.OtherBrandName", False)]


def test_brand_code_must_be_known_when_the_list_is_given(payload: dict[str, Any]) -> None:
    """A brand code missing from the registry's list is reported; OT27 is always allowed."""
    ctx = context(brands=frozenset({"SG05"}))
    assert fields(payload, ctx) == {f"{I0}.BrandCode"}
    assert violations(payload, context(brands=frozenset({"HW21"}))) == []
    payload["Devices"][0]["Inverters"][0] |= {"BrandCode": "OT27", "OtherBrandName": "Panasonic"}
    assert violations(payload, ctx) == []


def test_file_id_must_be_an_uploaded_one_when_the_list_is_given(payload: dict[str, Any]) -> None:
    """A well-formed file id that no upload returned is a 422 when the known ids are given."""
    other = "be8728c0-e7f6-4ed2-845f-63bf31a39c76"
    found = violations(payload, context(file_ids=frozenset({other})))
    assert [(v.field, v.malformed) for v in found] == [("Devices[0].DeclarationFormFileId", False)]
    assert violations(payload, context(file_ids=frozenset({SEED_FILE_ID.upper()}))) == []


def _fleet(count: int, capacity: int) -> list[dict[str, Any]]:
    """`count` inverters of `capacity` kW spread over devices of 100."""
    inverters = [inverter(n, InstalledCapacity=capacity) for n in range(count)]
    return [device(*inverters[at : at + 100]) for at in range(0, count, 100)]


def test_500_inverters_of_250_kW_is_the_largest_group(payload: dict[str, Any]) -> None:
    """Exactly 500 inverters and exactly 125 MW are both within the limits."""
    payload["Devices"] = _fleet(500, 250)
    assert violations(payload) == []


def test_501st_inverter_breaks_count_and_total(payload: dict[str, Any]) -> None:
    """A 501st inverter of 250 kW exceeds both 500 inverters and 125 MW, reported on Devices."""
    payload["Devices"] = _fleet(501, 250)
    assert [str(v) for v in violations(payload)] == [
        "Devices: 501 inverters in total; a grouped device holds at most 500",
        "Devices: total installed capacity 125250 kW exceeds 125 MW (125000 kW)",
    ]


@pytest.mark.parametrize("field", ["ReplacedRemoteInvId", "ReplacedByRemoteInvId"])
def test_replacement_must_name_another_inverter_of_the_request(
    payload: dict[str, Any], field: str
) -> None:
    """A replacement reference to itself or to an inverter not in the request is reported."""
    payload["Devices"] = [device(inverter(1, **{field: "RM000002"}), inverter(2))]
    assert violations(payload) == []
    payload["Devices"][0]["Inverters"][0][field] = "RM000001"
    payload["Devices"][0]["Inverters"][1][field] = "RM-nowhere"
    assert [str(v) for v in violations(payload)] == [
        f"Devices[0].Inverters[0].{field}: names the inverter itself",
        f"Devices[0].Inverters[1].{field}: names no inverter of this request (RM-nowhere)",
    ]
