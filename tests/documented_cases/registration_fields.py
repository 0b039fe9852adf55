"""Registration cases, field by field: presence, JSON type, format, length, allowed values."""

from __future__ import annotations

from decimal import Decimal

from tests.documented_cases import DELETE, ROOT, refused
from tests.documented_cases.registration import (
    D0,
    I0,
    PAGE,
    SEED_FILE_ID,
    RegistrationCase,
    bad,
    case,
    fine,
    rule,
)

REQUIRED = [
    bad(f"{path.rpartition('.')[2] or path}-{how}", path, value, f"{PAGE}: {path} (required)")
    for path, value, how in [
        ("GroupedLocalName", DELETE, "missing"),
        ("GroupedEnglishName", None, "null"),
        ("CountryCode", DELETE, "missing"),
        ("Province", DELETE, "missing"),
        ("Devices", DELETE, "missing"),
        (f"{D0}.InstallationName", DELETE, "missing"),
        (f"{D0}.InstallationName", "  ", "blank"),
        (f"{D0}.Address", DELETE, "missing"),
        (f"{D0}.PostalCode", DELETE, "missing"),
        (f"{D0}.Latitude", DELETE, "missing"),
        (f"{D0}.Longitude", DELETE, "missing"),
        (f"{D0}.GridConnectionDate", DELETE, "missing"),
        (f"{D0}.OwnersDeclarationStartDate", DELETE, "missing"),
        (f"{D0}.Domestic", DELETE, "missing"),
        (f"{D0}.DeclarationFormFileId", DELETE, "missing"),
        (f"{D0}.Inverters", DELETE, "missing"),
        (f"{I0}.RemoteInvId", DELETE, "missing"),
        (f"{I0}.ElectronicSerialNumber", "", "empty"),
        (f"{I0}.BrandCode", DELETE, "missing"),
        (f"{I0}.InstalledCapacity", DELETE, "missing"),
    ]
]

TYPES = [
    bad("GroupedLocalName-number", "GroupedLocalName", 5, f"{PAGE}: text"),
    bad("PostalCode-number", f"{D0}.PostalCode", 431231, f"{PAGE}: PostalCode text"),
    bad("Domestic-text", f"{D0}.Domestic", "yes", f"{PAGE}: Domestic boolean"),
    bad("FeedInTariff-text", f"{D0}.FeedInTariff", "false", f"{PAGE}: FeedInTariff boolean"),
    bad("Latitude-text", f"{D0}.Latitude", "north", f"{PAGE}: Latitude decimal(2,6)"),
    bad("Latitude-NaN", f"{D0}.Latitude", "NaN", f"{PAGE}: Latitude decimal(2,6)"),
    bad("capacity-boolean", f"{I0}.InstalledCapacity", True, f"{PAGE}: decimal(12,3)"),
    bad("Devices-object", "Devices", {}, f"{PAGE}: Devices array of objects"),
    bad("Inverters-text", f"{D0}.Inverters", "RM1", f"{PAGE}: Inverters array of objects"),
    bad("device-text", D0, "device", f"{PAGE}: Devices array of objects"),
    bad("inverter-number", I0, 7, f"{PAGE}: Inverters array of objects"),
    bad("Frequency-unknown", "GenerationDataFrequency", "Weekly", f"{PAGE}: enum Daily, Monthly"),
    bad("FileId-not-uuid", f"{D0}.DeclarationFormFileId", "94584c27", f"{PAGE}: uuid"),
    bad("GridDate-slashes", f"{D0}.GridConnectionDate", "2022/05/13", f"{PAGE}: date format"),
    bad("GridDate-no-such-day", f"{D0}.GridConnectionDate", "2022-02-30", f"{PAGE}: a date"),
    bad("ODStart-day-first", f"{D0}.OwnersDeclarationStartDate", "13-05-2022", f"{PAGE}: date"),
    bad("ODEnd-short", f"{D0}.OwnersDeclarationEndDate", "2025-5-13", f"{PAGE}: date format"),
    bad("EffStart-no-dashes", f"{I0}.EffectiveStartDate", "20230110", f"{PAGE}: ex: 2023-01-10"),
    bad("EffEnd-number", f"{I0}.EffectiveEndDate", 20240110, f"{PAGE}: text, ex: 2024-01-10"),
    case("body-array", ROOT, [], refused(400, ROOT), f"{PAGE}: the request is an object"),
]

LIMITS = [
    rule("Devices-empty", "Devices", [], f"{PAGE}: Devices (required) array"),
    rule("Inverters-empty", f"{D0}.Inverters", [], f"{PAGE}: Inverters (required) array"),
    rule("GroupedLocalName-256", "GroupedLocalName", "x" * 256, f"{PAGE}: max length (255)"),
    rule("GroupedEnglishName-256", "GroupedEnglishName", "x" * 256, f"{PAGE}: max length 255"),
    rule("CountryCode-3", "CountryCode", "SGP", f"{PAGE}: CountryCode max length (2)"),
    rule("Province-21", "Province", "x" * 21, f"{PAGE}: Province max length (20)"),
    rule("InstallationName-256", f"{D0}.InstallationName", "x" * 256, f"{PAGE}: max 255"),
    rule("Address-256", f"{D0}.Address", "x" * 256, f"{PAGE}: Address max length (255)"),
    rule("PostalCode-101", f"{D0}.PostalCode", "1" * 101, f"{PAGE}: PostalCode max (100)"),
    rule("RemoteInvId-101", f"{I0}.RemoteInvId", "R" * 101, f"{PAGE}: RemoteInvId max (100)"),
    rule("Serial-256", f"{I0}.ElectronicSerialNumber", "S" * 256, f"{PAGE}: serial max 255"),
    rule("BrandCode-21", f"{I0}.BrandCode", "B" * 21, f"{PAGE}: BrandCode max length (20)"),
    rule("OtherBrandName-256", f"{I0}.OtherBrandName", "x" * 256, f"{PAGE}: max length 255"),
    rule("CountryCode-US", "CountryCode", "US", f"{PAGE}: locations SG, CN, VN, MY, ID"),
    rule("CountryCode-lower-case", "CountryCode", "sg", f"{PAGE}: ISO-3166 alpha code"),
    rule("Timezone-GMT", "Timezone", "GMT+8", f"{PAGE}: Timezone, sample UTC+08:00"),
    rule("Timezone-short", "Timezone", "UTC+8", f"{PAGE}: Timezone, sample UTC+08:00"),
    rule("Timezone-15h", "Timezone", "UTC+15:00", f"{PAGE}: Timezone (no zone is 15 h off)"),
]

VARIANTS = [
    fine("Timezone-absent", "Timezone", DELETE, f"{PAGE}: Timezone (optional)"),
    fine("Timezone-negative", "Timezone", "UTC-05:30", f"{PAGE}: Timezone offset"),
    fine("Monthly", "GenerationDataFrequency", "Monthly", f"{PAGE}: enum (Daily, Monthly)"),
    fine("Frequency-default", "GenerationDataFrequency", DELETE, f"{PAGE}: default is Daily"),
    fine("FeedInTariff-default", f"{D0}.FeedInTariff", DELETE, f"{PAGE}: default (false)"),
    fine("ODEnd-null", f"{D0}.OwnersDeclarationEndDate", None, f"{PAGE}: ODEnd (optional)"),
    fine("ODEnd-empty", f"{D0}.OwnersDeclarationEndDate", "", f"{PAGE}: ODEnd (optional)"),
    fine("Renewable-absent", f"{D0}.PercentageRenewable", DELETE, f"{PAGE}: (optional)"),
    fine("FileId-upper", f"{D0}.DeclarationFormFileId", SEED_FILE_ID.upper(), f"{PAGE}: uuid"),
    fine("OtherBrand-absent", f"{I0}.OtherBrandName", DELETE, f"{PAGE}: OtherBrandName optional"),
    fine("EffStart-empty", f"{I0}.EffectiveStartDate", "", f"{PAGE}: EffectiveStartDate optional"),
    fine("capacity-text", f"{I0}.InstalledCapacity", "10.9", f"{PAGE}: decimal, written as text"),
    fine("capacity-250", f"{I0}.InstalledCapacity", Decimal(250), f"{PAGE}: at most 0.25MW"),
    fine("trailing-zeros", f"{D0}.Latitude", Decimal("1.3052780000"), f"{PAGE}: decimal(2,6)"),
]

FIELD_CASES: list[RegistrationCase] = [*REQUIRED, *TYPES, *LIMITS, *VARIANTS]
