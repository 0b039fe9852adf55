"""Registration cases, rule by rule: dates, number ranges and places, and rules across the body."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from tests.documented_cases import DELETE, TODAY, TOMORROW, refused
from tests.documented_cases.registration import (
    CREATED,
    D0,
    EXAMPLE_INVERTER,
    I0,
    I1,
    OTHER_FILE_ID,
    PAGE,
    RegistrationCase,
    device,
    fine,
    fleet,
    inverter,
    rule,
)

GUIDE = "effective period guideline"
GRID = f"{D0}.GridConnectionDate"  # 2022-05-13 in the example
OD_END = f"{D0}.OwnersDeclarationEndDate"  # the start is 2022-05-13 too
START, END = f"{I0}.EffectiveStartDate", f"{I0}.EffectiveEndDate"


def dates(name: str, changes: dict[str, str], path: str | None, source: str) -> RegistrationCase:
    """Dates changed together; a 422 at `path`, or created when it is None."""
    verdict = CREATED if path is None else refused(422, path)
    return RegistrationCase(name, changes, verdict, source)


DATES = [
    dates("grid-future", {GRID: TOMORROW}, GRID, f"{PAGE}: grid connection not in the future"),
    dates("od-end-at-start", {OD_END: "2022-05-13"}, OD_END, "contract: ODEnd after the start"),
    dates("od-end-before-start", {OD_END: "2021-01-01"}, OD_END, "contract: after the start"),
    dates("start-before-grid", {START: "2022-05-12"}, START, f"{GUIDE}: start >= grid date"),
    dates("start-future", {START: TOMORROW}, START, f"{GUIDE}: start not in the future"),
    dates("end-at-start", {START: "2023-01-10", END: "2023-01-10"}, END, f"{GUIDE}: end after"),
    dates("end-before-start", {START: "2023-01-10", END: "2022-12-31"}, END, f"{GUIDE}: after"),
    dates("end-before-grid", {END: "2022-05-01"}, END, f"{GUIDE}: end >= grid connection date"),
    dates("end-future", {END: TOMORROW}, END, f"{GUIDE}: end not in the future"),
    dates(
        "today-is-not-future",
        {START: "2024-01-01", END: TODAY.isoformat()},
        None,
        f"{GUIDE}: only later days are in the future",
    ),
    RegistrationCase(
        "replacement-example",
        {
            "Devices": [
                device(
                    inverter(
                        1,
                        EffectiveStartDate="2022-05-13",
                        EffectiveEndDate="2024-02-01",
                        ReplacedByRemoteInvId="NewRM1",
                    ),
                    inverter(2, RemoteInvId="NewRM1", EffectiveStartDate="2024-02-02"),
                )
            ]
        },
        CREATED,
        f"{GUIDE}: the faulty inverter and its replacement in one request",
    ),
]

LAT, LON, PCT = f"{D0}.Latitude", f"{D0}.Longitude", f"{D0}.PercentageRenewable"
CAP = f"{I0}.InstalledCapacity"
NUMBERS = [
    *(
        rule(name, path, Decimal(value), f"{PAGE}: {what}")
        for name, path, value, what in [
            ("lat-over-90", LAT, "90.000001", "Latitude must be in range"),
            ("lat-under-minus-90", LAT, "-90.5", "Latitude must be in range"),
            ("lat-7-places", LAT, "1.3052781", "Latitude decimal(2,6)"),
            ("lat-3-digits", LAT, "100", "Latitude decimal(2,6), in range"),
            ("lon-over-180", LON, "180.000001", "Longitude must be in range"),
            ("lon-under-minus-180", LON, "-181", "Longitude must be in range"),
            ("lon-7-places", LON, "103.9086101", "Longitude decimal(3,6)"),
            ("cap-over-250kW", CAP, "250.001", "each inverter at most 0.25MW"),
            ("cap-zero", CAP, "0", "InstalledCapacity in kW (an inverter has some)"),
            ("cap-negative", CAP, "-1", "InstalledCapacity in kW"),
            ("cap-4-places", CAP, "10.9001", "InstalledCapacity decimal(12,3)"),
            ("pct-over-100", PCT, "100.5", "PercentageRenewable 0 <= value <= 100"),
            ("pct-negative", PCT, "-0.1", "PercentageRenewable 0 <= value <= 100"),
            ("pct-7-places", PCT, "50.1234567", "PercentageRenewable decimal(3,6)"),
        ]
    ),
    *(
        fine(f"bound-{path.rpartition('.')[2]}-{value}", path, Decimal(value), f"{PAGE}: {what}")
        for path, value, what in [
            (PCT, "0", "0 <= value <= 100"),
            (PCT, "99.999999", "decimal(3,6)"),
            (CAP, "0.001", "decimal(12,3)"),
            (CAP, "250.000", "at most 0.25MW"),
        ]
    ),
    # The ends of the coordinate ranges are in range, but in no supported country: the
    # example's Singapore refuses them (the ranges' own ends: tests/unit/registration).
    *(
        rule(
            f"bound-{path.rpartition('.')[2]}-{value}-outside-SG",
            path,
            Decimal(value),
            f"{PAGE}: co-ordinates must belong in the country",
        )
        for path, value in [
            (LAT, "90"),
            (LAT, "-90"),
            (LAT, "-89.999999"),
            (LON, "180"),
            (LON, "-180"),
        ]
    ),
]


def devices(name: str, items: Sequence[object], *fields: str, source: str) -> RegistrationCase:
    """`Devices` replaced; a 422 naming `fields`, or created when there are none."""
    verdict = refused(422, *fields) if fields else CREATED
    return RegistrationCase(name, {"Devices": items}, verdict, source)


SERIAL = "ElectronicSerialNumber"
NO_TARIFF = {"FeedInTariff": DELETE}
OT27 = {"BrandCode": "OT27", SERIAL: "S1"}
CROSS = [
    devices("tariff-differs", [device(inverter(1)), device(inverter(2), FeedInTariff=True)],
            "Devices[1].FeedInTariff", source=f"{PAGE}: FeedInTariff the same among devices"),
    devices("tariff-absent-is-false",
            [device(inverter(1), **NO_TARIFF), device(inverter(2), FeedInTariff=True)],
            "Devices[1].FeedInTariff", source=f"{PAGE}: FeedInTariff default (false)"),
    devices("tariff-absent-and-false",
            [device(inverter(1), **NO_TARIFF), device(inverter(2), FeedInTariff=False)],
            source=f"{PAGE}: FeedInTariff default (false)"),
    devices("remote-id-twice", [device(inverter(1)), device(inverter(2, RemoteInvId="rm000001"))],
            "Devices[1].Inverters[0].RemoteInvId", source=f"{PAGE}: no duplicate RemoteInvId"),
    devices("serial-twice-one-brand",
            [device(inverter(1, **{SERIAL: "S1"})), device(inverter(2, **{SERIAL: "S1"}))],
            f"Devices[1].Inverters[0].{SERIAL}", source=f"{PAGE}: serials unique per brand"),
    devices("serial-twice-two-brands",
            [device(inverter(1, **{SERIAL: "S1"}), inverter(2, **{SERIAL: "S1"}, BrandCode="AB01"),
                    inverter(3, **OT27, OtherBrandName="Panasonic"))],
            source=f"{PAGE}: serials unique per brand only"),
    devices("serial-twice-other-brand",
            [device(inverter(1, **OT27, OtherBrandName="Panasonic"),
                    inverter(2, **OT27, OtherBrandName="Fronius"),
                    inverter(3, **OT27, OtherBrandName="Panasonic"))],
            f"Devices[0].Inverters[2].{SERIAL}", source=f"{PAGE}: brand = Other Brand Name"),
    *(
        RegistrationCase(f"OT27-name-{label}", {f"{I0}.BrandCode": "OT27",
                         f"{I0}.OtherBrandName": name}, refused(422, f"{I0}.OtherBrandName"),
                         f"{PAGE}: OT27, and input the brand in OtherBrandName")
        for label, name in [("null", None), ("empty", ""), ("blank", "   ")]
    ),
    rule("brand-not-listed", f"{I0}.BrandCode", "XX99", f"{PAGE}: BrandCode from the brand list"),
    fine("brand-listed", f"{I0}.BrandCode", "AB01", f"{PAGE}: BrandCode from the brand list"),
    rule("file-not-uploaded", f"{D0}.DeclarationFormFileId", OTHER_FILE_ID,
         f"{PAGE}: the file ID retrieved using the upload API"),
    devices("500-inverters-125MW", fleet(500, 250), source=f"{PAGE}: max 500 inverters, 125MW"),
    devices("501-inverters", fleet(501, 250), "Devices", source=f"{PAGE}: max 500, 125MW"),
    *(
        devices(f"{name}-self-and-nowhere",
                [device(inverter(1, **{name: "RM000001"}), inverter(2, **{name: "RM-nowhere"}))],
                f"{I0}.{name}", f"{I1}.{name}", source=f"{GUIDE}: names the replacement")
        for name in ("ReplacedRemoteInvId", "ReplacedByRemoteInvId")
    ),
    *(
        devices(f"{name}-names-another",
                [device(inverter(1, **{name: "RM000002"}), inverter(2))],
                source=f"{GUIDE}: names the replacement")
        for name in ("ReplacedRemoteInvId", "ReplacedByRemoteInvId")
    ),
    RegistrationCase(
        "everything-at-once",
        {"Devices": [device(EXAMPLE_INVERTER), device(inverter(1, **{SERIAL: "HW2343243244414"},
                                                              InstalledCapacity=Decimal(300)))],
         "GroupedLocalName": DELETE, "CountryCode": "US", LAT: Decimal("1.1234567"),
         GRID: "2030-01-01"},
        refused(400, "GroupedLocalName", "CountryCode", LAT, GRID,
                "Devices[1].Inverters[0].InstalledCapacity", f"Devices[1].Inverters[0].{SERIAL}"),
        "contract: every violation at once, each at its path",
    ),
]  # fmt: skip

RULE_CASES: list[RegistrationCase] = [*DATES, *NUMBERS, *CROSS]
