"""Registration cases of the seed page's rules on text, places and names: English text,
coordinates in the declared country, province codes, the InstallationName format, and an
owner's declaration that has started."""

from __future__ import annotations

from decimal import Decimal

from tests.documented_cases import TODAY, TOMORROW, refused
from tests.documented_cases.registration import (
    CREATED,
    D0,
    PAGE,
    RegistrationCase,
    fine,
    rule,
)

LAT, LON = f"{D0}.Latitude", f"{D0}.Longitude"
ADDRESS, NAME = f"{D0}.Address", f"{D0}.InstallationName"
LOCAL = "海电能源-新加坡-20240516001"  # the page's Chinese example name


def place(
    name: str, country: str, province: str, at: tuple[str, str], *fields: str
) -> RegistrationCase:
    """The group moved to `country` and `province`, its device to `at` (lat, lon); a 422
    naming `fields`, or created when none."""
    changes = {"CountryCode": country, "Province": province,
               LAT: Decimal(at[0]), LON: Decimal(at[1])}  # fmt: skip
    if not fields:
        return RegistrationCase(name, changes, CREATED, f"{PAGE}: {country} {province}")
    source = f"{PAGE}: " + ("Reference Province Codes" if fields == ("Province",)
                            else "co-ordinates must belong in the country")  # fmt: skip
    return RegistrationCase(name, changes, refused(422, *fields), source)


SINGAPORE = ("1.305278", "103.90861")
HEFEI, SHAH_ALAM = ("31.86119", "117.28565"), ("3.0738", "101.5183")
SAIGON, BANDUNG = ("10.776889", "106.700806"), ("-6.914744", "107.60981")

TEXT = [
    rule("Address-chinese", ADDRESS, "安徽省合肥市蜀山区", f"{PAGE}: Address must be in English"),
    rule("Address-accented", ADDRESS, "12 Đường Lê Lợi, Quận 1",
         f"{PAGE}: Address must be in English"),
    rule("Address-tab", ADDRESS, "1 Jago Close\tSingapore", f"{PAGE}: Address in English"),
    fine("Address-punctuation", ADDRESS, "Blk 62, #05-12 Jago Close (S)431231",
         f"{PAGE}: Address must be in English"),
    rule("GroupedEnglishName-chinese", "GroupedEnglishName", LOCAL,
         f"{PAGE}: A Grouped Device's Name in English"),
    fine("GroupedLocalName-chinese", "GroupedLocalName", LOCAL,
         f"{PAGE}: A Grouped Device's Name in Local Language"),
]  # fmt: skip

PLACES = [
    place("coordinates-of-beijing-in-SG", "SG", "Singapore", ("39.904211", "116.407395"),
          LAT, LON),
    place("longitude-of-kuching-in-SG", "SG", "Singapore", ("1.305278", "110.35"), LON),
    # Latitude 103.9 is out of its own range first; the longitude 1.3 is not Singapore's.
    place("coordinates-swapped", "SG", "Singapore", SINGAPORE[::-1], LAT, LON),
    place("hefei-in-CN-AH", "CN", "AH", HEFEI),
    place("hefei-in-CN-prefixed", "CN", "CN-AH", HEFEI),
    place("hefei-in-CN-by-name", "CN", "Anhui", HEFEI, "Province"),
    place("shah-alam-in-MY-10", "MY", "MY-10", SHAH_ALAM),
    place("shah-alam-in-MY-by-name", "MY", "Selangor", SHAH_ALAM, "Province"),
    place("saigon-in-VN-SG", "VN", "SG", SAIGON),
    place("saigon-in-VN-by-name", "VN", "Ho Chi Minh", SAIGON, "Province"),
    place("bandung-in-ID-by-name", "ID", "Jawa Barat", BANDUNG),
    place("hefei-in-SG", "SG", "Singapore", HEFEI, LAT, LON),
]  # fmt: skip

NAMES = [
    rule("InstallationName-free-text", NAME, "Rooftop at Jago Close",
         f"{PAGE}: InstallationName format"),
    rule("InstallationName-counter-zero", NAME, "SEASolar-Singapore-000000",
         f"{PAGE}: a 6-digit string starting with 1"),
    rule("InstallationName-short-counter", NAME, "SEASolar-Singapore-1",
         f"{PAGE}: a 6-digit string"),
    fine("InstallationName-hyphenated-company", NAME, "SEA-Solar-Singapore-000123",
         f"{PAGE}: InstallationName format"),
    rule("InstallationName-blank-parts", NAME, " - -000001",
         f"{PAGE}: InstallationName format (a company and a province)"),
    rule("InstallationName-line-break", NAME, "SEASolar-Sing\napore-000001",
         f"{PAGE}: InstallationName format"),
    rule("InstallationName-arabic-digits", NAME, "SEASolar-Singapore-" + "\u0660" * 5 + "\u0661",
         f"{PAGE}: a 6-digit string starting with 1"),
    rule("ODStart-future", f"{D0}.OwnersDeclarationStartDate", TOMORROW,
         f"{PAGE}: OwnersDeclarationStartDate on or before the issuance request date"),
    fine("ODStart-today", f"{D0}.OwnersDeclarationStartDate", TODAY.isoformat(),
         f"{PAGE}: OwnersDeclarationStartDate on or before the issuance request date"),
]  # fmt: skip

SEED_CASES: list[RegistrationCase] = [*TEXT, *PLACES, *NAMES]
