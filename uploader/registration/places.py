"""Where a grouped device may be: each supported country's coarse bounds and province codes.

The registration page says the coordinates "must belong in the country/province identified
previously" and that China, Vietnam and Malaysia write `Province` as a code from its
"Reference Province Codes" list, which could not be read. So:

- `BOUNDS` is a coarse box (latitude and longitude ranges) around each country the
  registry lists, islands included, rounded outwards. A box is not a border: a point in a
  neighbour's corner of the box passes. It catches swapped coordinates, a wrong sign, or a
  device in another country, which is what a local check can promise. Provinces have no
  box. A country without a box (one added by `registration.countries`) is not checked.
- `PROVINCES` lists the ISO 3166-2 subdivision codes of those three countries (CN: the
  letter codes of 2017; VN: the 63 provinces and cities before the 2025 merger; MY: the 13
  states and 3 federal territories). `Province` may be written with or without the country
  prefix (`AH` or `CN-AH`). Other countries write the province's name, as the page says.
"""

from __future__ import annotations

from decimal import Decimal

__all__ = ["BOUNDS", "PROVINCES", "province_code"]

# country -> (south, north, west, east), degrees
BOUNDS: dict[str, tuple[Decimal, Decimal, Decimal, Decimal]] = {
    code: (Decimal(south), Decimal(north), Decimal(west), Decimal(east))
    for code, (south, north, west, east) in {
        "SG": ("1.1", "1.5", "103.5", "104.5"),
        "MY": ("0.8", "7.5", "99.5", "119.5"),
        "ID": ("-11.2", "6.2", "94.7", "141.2"),
        "VN": ("8.2", "23.5", "102.1", "109.7"),
        "CN": ("18.0", "53.6", "73.4", "135.1"),
        "BR": ("-33.8", "5.3", "-74.0", "-28.8"),
        "MX": ("14.5", "32.8", "-118.5", "-86.7"),
    }.items()
}

_CN = (
    "AH BJ CQ FJ GD GS GX GZ HA HB HE HI HK HL HN JL JS JX LN MO NM NX QH SC SD SH SN SX TJ "
    "TW XJ XZ YN ZJ"
)
_VN = (
    "01 02 03 04 05 06 07 09 13 14 18 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 "
    "39 40 41 43 44 45 46 47 49 50 51 52 53 54 55 56 57 58 59 61 63 66 67 68 69 70 71 72 73 "
    "CT DN HN HP SG"
)
_MY = "01 02 03 04 05 06 07 08 09 10 11 12 13 14 15 16"

# country -> its province codes, without the "XX-" prefix
PROVINCES: dict[str, frozenset[str]] = {
    "CN": frozenset(_CN.split()),
    "VN": frozenset(_VN.split()),
    "MY": frozenset(_MY.split()),
}


def province_code(country: str, province: str) -> str | None:
    """The code `province` stands for in `country` (written `AH` or `CN-AH`), or None."""
    codes = PROVINCES.get(country)
    if codes is None:
        return None
    code = province.removeprefix(f"{country}-")
    return code if code in codes else None
