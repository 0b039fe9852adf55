"""Each field's presence, type, length and format, broken one at a time in the seed payload."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.documented_cases import DELETE, set_path

from .payloads import violations

D0 = "Devices[0]"
I0 = "Devices[0].Inverters[0]"
LONG = "x" * 256
SEED_ID_UPPER = "94584C27-518D-45B5-1D2B-08DC6A99C86E"

# (path set, value, malformed): the violation must be reported at exactly that path.
CASES = [
    # required fields (400)
    pytest.param("GroupedLocalName", DELETE, True, id="GroupedLocalName-missing"),
    pytest.param("GroupedEnglishName", None, True, id="GroupedEnglishName-null"),
    pytest.param("CountryCode", DELETE, True, id="CountryCode-missing"),
    pytest.param("Province", DELETE, True, id="Province-missing"),
    pytest.param("Devices", DELETE, True, id="Devices-missing"),
    pytest.param(f"{D0}.InstallationName", DELETE, True, id="InstallationName-missing"),
    pytest.param(f"{D0}.InstallationName", "  ", True, id="InstallationName-blank"),
    pytest.param(f"{D0}.Address", DELETE, True, id="Address-missing"),
    pytest.param(f"{D0}.PostalCode", DELETE, True, id="PostalCode-missing"),
    pytest.param(f"{D0}.Latitude", DELETE, True, id="Latitude-missing"),
    pytest.param(f"{D0}.Longitude", DELETE, True, id="Longitude-missing"),
    pytest.param(f"{D0}.GridConnectionDate", DELETE, True, id="GridConnectionDate-missing"),
    pytest.param(f"{D0}.OwnersDeclarationStartDate", DELETE, True, id="ODStart-missing"),
    pytest.param(f"{D0}.Domestic", DELETE, True, id="Domestic-missing"),
    pytest.param(f"{D0}.DeclarationFormFileId", DELETE, True, id="FileId-missing"),
    pytest.param(f"{D0}.Inverters", DELETE, True, id="Inverters-missing"),
    pytest.param(f"{I0}.RemoteInvId", DELETE, True, id="RemoteInvId-missing"),
    pytest.param(f"{I0}.ElectronicSerialNumber", "", True, id="Serial-empty"),
    pytest.param(f"{I0}.BrandCode", DELETE, True, id="BrandCode-missing"),
    pytest.param(f"{I0}.InstalledCapacity", DELETE, True, id="InstalledCapacity-missing"),
    # types (400)
    pytest.param("GroupedLocalName", 5, True, id="GroupedLocalName-number"),
    pytest.param(f"{D0}.PostalCode", 431231, True, id="PostalCode-number"),
    pytest.param(f"{D0}.Domestic", "yes", True, id="Domestic-string"),
    pytest.param(f"{D0}.FeedInTariff", "false", True, id="FeedInTariff-string"),
    pytest.param(f"{D0}.Latitude", "north", True, id="Latitude-text"),
    pytest.param(f"{D0}.Latitude", Decimal("NaN"), True, id="Latitude-NaN"),
    pytest.param(f"{I0}.InstalledCapacity", True, True, id="InstalledCapacity-boolean"),
    pytest.param("Devices", {}, True, id="Devices-object"),
    pytest.param(f"{D0}.Inverters", "RM1", True, id="Inverters-string"),
    pytest.param("Devices[0]", "device", True, id="Device-string"),
    pytest.param(f"{I0}", 7, True, id="Inverter-number"),
    pytest.param("GenerationDataFrequency", "Weekly", True, id="Frequency-enum"),
    pytest.param(f"{D0}.DeclarationFormFileId", "94584c27", True, id="FileId-not-uuid"),
    pytest.param(f"{D0}.GridConnectionDate", "2022/05/13", True, id="GridDate-format"),
    pytest.param(f"{D0}.GridConnectionDate", "2022-02-30", True, id="GridDate-no-such-day"),
    pytest.param(f"{D0}.OwnersDeclarationStartDate", "13-05-2022", True, id="ODStart-format"),
    pytest.param(f"{D0}.OwnersDeclarationEndDate", "2025-5-13", True, id="ODEnd-format"),
    pytest.param(f"{I0}.EffectiveStartDate", "20230110", True, id="EffStart-format"),
    pytest.param(f"{I0}.EffectiveEndDate", 20240110, True, id="EffEnd-number"),
    # empty arrays (422)
    pytest.param("Devices", [], False, id="Devices-empty"),
    pytest.param(f"{D0}.Inverters", [], False, id="Inverters-empty"),
    # lengths (422)
    pytest.param("GroupedLocalName", LONG, False, id="GroupedLocalName-256"),
    pytest.param("GroupedEnglishName", LONG, False, id="GroupedEnglishName-256"),
    pytest.param("CountryCode", "SGP", False, id="CountryCode-3"),
    pytest.param("Province", "x" * 21, False, id="Province-21"),
    pytest.param(f"{D0}.InstallationName", LONG, False, id="InstallationName-256"),
    pytest.param(f"{D0}.Address", LONG, False, id="Address-256"),
    pytest.param(f"{D0}.PostalCode", "1" * 101, False, id="PostalCode-101"),
    pytest.param(f"{I0}.RemoteInvId", "R" * 101, False, id="RemoteInvId-101"),
    pytest.param(f"{I0}.ElectronicSerialNumber", LONG, False, id="Serial-256"),
    pytest.param(f"{I0}.BrandCode", "B" * 21, False, id="BrandCode-21"),
    pytest.param(f"{I0}.OtherBrandName", LONG, False, id="OtherBrandName-256"),
    # shapes and lists (422)
    pytest.param("CountryCode", "US", False, id="CountryCode-unsupported"),
    pytest.param("CountryCode", "sg", False, id="CountryCode-lower-case"),
    pytest.param("Timezone", "GMT+8", False, id="Timezone-GMT"),
    pytest.param("Timezone", "UTC+8", False, id="Timezone-short"),
    pytest.param("Timezone", "UTC+15:00", False, id="Timezone-15h"),
]


@pytest.mark.parametrize(("path", "value", "malformed"), CASES)
def test_one_broken_field_is_reported_at_its_path(
    payload: dict[str, Any], path: str, value: Any, malformed: bool
) -> None:
    """Breaking one field of a valid payload reports that field's path, 400 or 422 as documented."""
    found = violations(set_path(payload, path, value))
    assert {v.field for v in found} == {path}, [str(v) for v in found]
    assert {v.malformed for v in found} == {malformed}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        pytest.param("Timezone", DELETE, id="Timezone-absent"),
        pytest.param("Timezone", "UTC-05:30", id="Timezone-negative"),
        pytest.param("GenerationDataFrequency", "Monthly", id="Monthly"),
        pytest.param("GenerationDataFrequency", DELETE, id="Frequency-default"),
        pytest.param(f"{D0}.FeedInTariff", DELETE, id="FeedInTariff-default"),
        pytest.param(f"{D0}.OwnersDeclarationEndDate", None, id="ODEnd-null"),
        pytest.param(f"{D0}.OwnersDeclarationEndDate", "", id="ODEnd-empty"),
        pytest.param(f"{D0}.PercentageRenewable", DELETE, id="PercentageRenewable-absent"),
        pytest.param(f"{D0}.DeclarationFormFileId", SEED_ID_UPPER, id="FileId-upper"),
        pytest.param(f"{I0}.OtherBrandName", DELETE, id="OtherBrandName-absent"),
        pytest.param(f"{I0}.EffectiveStartDate", "", id="EffStart-empty"),
        pytest.param(f"{I0}.InstalledCapacity", "10.9", id="capacity-as-string"),
        pytest.param(f"{I0}.InstalledCapacity", 10.9, id="capacity-as-float"),
        pytest.param(f"{I0}.InstalledCapacity", 250, id="capacity-250"),
        pytest.param(f"{D0}.Latitude", Decimal("1.3052780000"), id="trailing-zeros"),
    ],
)
def test_documented_variants_pass(payload: dict[str, Any], path: str, value: Any) -> None:
    """Optional fields left out, defaults, and numbers written other ways are all accepted."""
    assert violations(set_path(payload, path, value)) == []
