"""The simulator's reading of where a device stands and how it is named, beyond the cases.

The documented cases (tests/documented_cases) pin the rules on the page's example; these
tests pin the simulator's own tables: every location's box holds its far-flung towns and not
its neighbours' capitals, province codes are exact ISO 3166-2 codes of the group's country,
and the InstallationName format's edges.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from uploader.simulator.places import BOXES, PROVINCE_CODES, is_province_code

from .helpers import REGISTER, Api, file_id
from .payloads import registration

# (country, town, latitude, longitude): capitals and the towns nearest each box's edges.
TOWNS = [
    ("SG", "Raffles Place", "1.284", "103.851"),
    ("SG", "Tuas", "1.32", "103.636"),
    ("CN", "Beijing", "39.904", "116.407"),
    ("CN", "Kashgar", "39.47", "75.99"),
    ("CN", "Mohe", "52.97", "122.54"),
    ("CN", "Sanya", "18.25", "109.51"),
    ("CN", "Fuyuan", "48.36", "134.29"),
    ("VN", "Ha Noi", "21.028", "105.854"),
    ("VN", "Ca Mau", "9.177", "105.15"),
    ("VN", "Nha Trang", "12.238", "109.196"),
    ("VN", "Dien Bien Phu", "21.386", "103.023"),
    ("MY", "Kuala Lumpur", "3.139", "101.687"),
    ("MY", "Kuching", "1.553", "110.359"),
    ("MY", "Langkawi", "6.35", "99.8"),
    ("MY", "Tawau", "4.245", "117.89"),
    ("ID", "Jakarta", "-6.208", "106.846"),
    ("ID", "Banda Aceh", "5.548", "95.323"),
    ("ID", "Jayapura", "-2.533", "140.717"),
    ("ID", "Kupang", "-10.177", "123.607"),
    ("BR", "Brasilia", "-15.794", "-47.882"),
    ("BR", "Chui", "-33.69", "-53.457"),
    ("BR", "Cruzeiro do Sul", "-7.631", "-72.67"),
    ("MX", "Mexico City", "19.433", "-99.133"),
    ("MX", "Tijuana", "32.515", "-117.038"),
    ("MX", "Cancun", "21.161", "-86.851"),
    ("MX", "Tapachula", "14.905", "-92.263"),
]
# (country, a neighbour's town, latitude, longitude): no box is that coarse.
ABROAD = [
    ("SG", "Kuala Lumpur", "3.139", "101.687"),
    ("CN", "Tokyo", "35.68", "139.69"),
    ("CN", "Yakutsk", "62.03", "129.73"),
    ("VN", "Bangkok", "13.756", "100.502"),
    ("VN", "Manila", "14.6", "120.984"),
    ("MY", "Bangkok", "13.756", "100.502"),
    ("MY", "Jakarta", "-6.208", "106.846"),
    ("ID", "Manila", "14.6", "120.984"),
    ("ID", "Darwin", "-12.463", "130.845"),
    ("BR", "Montevideo", "-34.901", "-56.165"),
    ("MX", "Havana", "23.113", "-82.366"),
    ("MX", "Los Angeles", "34.052", "-118.244"),
]


@pytest.mark.parametrize(("country", "town", "lat", "lon"), TOWNS)
def test_a_countrys_box_holds_its_far_towns(country: str, town: str, lat: str, lon: str) -> None:
    """Each location's box holds its capital and the towns near its extreme points."""
    box = BOXES[country]
    assert box.has_latitude(Decimal(lat)), town
    assert box.has_longitude(Decimal(lon)), town


@pytest.mark.parametrize(("country", "town", "lat", "lon"), ABROAD)
def test_a_countrys_box_leaves_out_its_neighbours(
    country: str, town: str, lat: str, lon: str
) -> None:
    """A neighbour's town lies outside the country's box in at least one co-ordinate."""
    box = BOXES[country]
    assert not (box.has_latitude(Decimal(lat)) and box.has_longitude(Decimal(lon))), town


def test_the_province_code_tables_are_iso_3166_2() -> None:
    """CN has 34 codes, VN 63 (58 provinces, 5 cities), MY 16, each of ISO's shape."""
    assert {c: len(codes) for c, codes in PROVINCE_CODES.items()} == {"CN": 34, "VN": 63, "MY": 16}
    assert all(len(code) == 2 and code.isalpha() for code in PROVINCE_CODES["CN"])
    assert {"01", "73", "SG", "HN"} <= PROVINCE_CODES["VN"]
    assert "08" not in PROVINCE_CODES["VN"]  # a number ISO never gave a province


@pytest.mark.parametrize(
    ("country", "province", "known"),
    [
        ("CN", "ZJ", True),
        ("CN", "CN-XZ", True),
        ("VN", "VN-SG", True),
        ("MY", "16", True),
        ("CN", "cn-ah", False),  # the standard writes them in capitals
        ("CN", "VN-AH", False),  # another country's prefix
        ("CN", "CN-", False),
        ("CN", "-AH", False),
        ("CN", "34", False),  # Anhui's number before 2017
        ("VN", "VN-08", False),
        ("MY", "MY-17", False),
        ("MY", " MY-10", False),
    ],
)
def test_province_codes_are_the_countrys_own(country: str, province: str, known: bool) -> None:
    """A code is the country's own, bare or after its own prefix, written exactly."""
    assert is_province_code(country, province) is known


async def _register(
    api: Api, group: dict[str, Any], device: dict[str, Any]
) -> tuple[int, set[str]]:
    """Register the seed's payload with these changes; the status and the fields named."""
    payload = registration(await file_id(api))
    payload |= group
    payload["Devices"][0] |= device
    answer = await api.post(REGISTER, json=payload)
    return answer.status, set(answer.fields)


@pytest.mark.parametrize(
    ("name", "taken"),
    [
        ("SEASolar-Singapore-999999", True),
        ("SEA Solar Pte Ltd-West Coast-000010", True),
        ("SEASolar-Singapore-000000", False),
        ("-Singapore-000001", False),
        ("SEASolar--000001", False),
        ("SEASolar-Singapore-0000001", False),  # seven digits
        ("SEASolar-Singapore-00000a", False),
        ("SEASolar-Singapore-٠٠٠٠٠١", False),  # Arabic-Indic digits are no counter
        ("SEASolar-000001", False),
    ],
)
async def test_installation_name_edges(api: Api, name: str, taken: bool) -> None:
    """InstallationName is company, province and a six-digit counter from 000001."""
    status, fields = await _register(api, {}, {"InstallationName": name})
    assert (status, fields) == ((201, set()) if taken else (422, {"Devices[0].InstallationName"}))


async def test_an_unsupported_country_is_reported_alone(api: Api) -> None:
    """An unsupported country is refused as that alone: its province and place go unjudged."""
    status, fields = await _register(api, {"CountryCode": "TH", "Province": "Bangkok"}, {})
    assert (status, fields) == (422, {"CountryCode"})


async def test_every_place_and_text_rule_at_once(api: Api) -> None:
    """Each broken rule of text, place and name is reported in one 422, at its own field."""
    group = {"CountryCode": "CN", "Province": "Anhui", "GroupedEnglishName": "海电能源"}
    device = {
        "InstallationName": "Rooftop",
        "Address": "Jago Close\n",
        "Latitude": 1.305278,
        "Longitude": 103.90861,
        "OwnersDeclarationStartDate": "2024-06-16",  # the day after the simulator's today
    }
    status, fields = await _register(api, group, device)
    expected = {"Province", "GroupedEnglishName"} | {
        f"Devices[0].{name}" for name in device if name != "Longitude"
    }
    assert (status, fields) == (422, expected)
