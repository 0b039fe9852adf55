"""The validator as a whole: the seed passes, everything wrong is reported at once."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from uploader.registration import ValidationContext, Violation, validate

from .payloads import SEED_FILE_ID, TODAY, device, inverter, violations


def test_seed_example_passes_with_the_registry_lists(payload: dict[str, Any]) -> None:
    """The seed page's example device and inverter pass, brands and file ids checked."""
    ctx = ValidationContext(
        today=TODAY, brands=frozenset({"HW21", "OT27"}), file_ids=frozenset({SEED_FILE_ID})
    )
    assert validate(payload, ctx) == []


def test_every_violation_is_reported_at_once(payload: dict[str, Any]) -> None:
    """A payload breaking rules at every level reports each of them, with its path."""
    del payload["GroupedLocalName"]
    payload["CountryCode"] = "US"
    payload["Devices"][0]["Latitude"] = Decimal("1.1234567")
    payload["Devices"][0]["GridConnectionDate"] = "2030-01-01"
    payload["Devices"].append(
        device(inverter(1, ElectronicSerialNumber="HW2343243244414", InstalledCapacity=300))
    )
    assert [str(v) for v in violations(payload)] == [
        "GroupedLocalName: required",
        "CountryCode: US is not supported (CN, ID, MY, SG, VN)",
        "Devices[0].Latitude: at most 6 decimal places (1.1234567)",
        "Devices[0].GridConnectionDate: in the future (today is 2025-01-15)",
        "Devices[1].Inverters[0].InstalledCapacity: must be between 0 and 250 (300)",
        "Devices[1].Inverters[0].ElectronicSerialNumber: "
        "duplicate serial HW2343243244414 for brand HW21",
    ]


def test_a_payload_that_is_not_an_object_is_malformed() -> None:
    """A JSON array or string where the object belongs is one malformed violation at $."""
    assert violations([]) == [Violation("$", "must be a JSON object, not array", True)]


def test_countries_are_configurable(payload: dict[str, Any]) -> None:
    """A country added to the context's list (a later page adds BR) is accepted."""
    payload["CountryCode"] = "BR"
    payload["Devices"][0] |= {"Latitude": Decimal("-23.55052"), "Longitude": Decimal("-46.633309")}
    ctx = ValidationContext(today=TODAY, countries=frozenset({"SG", "BR"}))
    assert validate(payload, ctx) == []
    assert [v.field for v in validate(payload, ValidationContext(today=TODAY))] == ["CountryCode"]


def test_violation_prints_as_field_colon_message() -> None:
    """str(Violation) is the `Field.Path: message` line the CLI prints."""
    assert str(Violation("Devices[0].Address", "required", True)) == "Devices[0].Address: required"


def test_package_exports_exactly_the_validator_interface() -> None:
    """uploader.registration exports Violation, ValidationContext, validate and advice."""
    import uploader.registration as package

    assert package.__all__ == ["ValidationContext", "Violation", "advice", "validate"]
