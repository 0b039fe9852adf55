"""Where a grouped device may stand: each location's coarse box, and its province codes.

The registration page says a device's co-ordinates "must belong in the country/province
identified previously", and that China, Vietnam and Malaysia name their `Province` by the
page's "Reference Province Codes", which no stored page shows. The codes here are those
countries' ISO 3166-2 subdivision codes, written bare (`AH`) or with the country (`CN-AH`);
every other location names its province in words. The boxes are rectangles a little wider
than each country's extreme points (outlying islands included, disputed reefs not): a point
outside one is surely not in the country, a point inside may still be a neighbour's.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Box:
    """Latitudes from `south` to `north` and longitudes from `west` to `east`, ends included."""

    south: Decimal
    north: Decimal
    west: Decimal
    east: Decimal

    def has_latitude(self, latitude: Decimal) -> bool:
        """Whether the latitude crosses the box."""
        return self.south <= latitude <= self.north

    def has_longitude(self, longitude: Decimal) -> bool:
        """Whether the longitude crosses the box."""
        return self.west <= longitude <= self.east


def _box(south: str, north: str, west: str, east: str) -> Box:
    return Box(Decimal(south), Decimal(north), Decimal(west), Decimal(east))


BOXES = {
    "SG": _box("1.1", "1.5", "103.5", "104.5"),  # Pedra Branca at 104.41 E
    "CN": _box("18.0", "53.6", "73.4", "135.1"),  # Hainan's south cape to the Amur
    "VN": _box("8.3", "23.5", "102.1", "109.5"),  # Hon Khoai to Lung Cu
    "MY": _box("0.8", "7.5", "99.5", "119.3"),  # Langkawi to the Dent peninsula
    "ID": _box("-11.1", "6.1", "94.9", "141.1"),  # Rote to Weh and Miangas
    "BR": _box("-33.8", "5.3", "-74.0", "-28.8"),  # Martin Vaz at 28.85 W
    "MX": _box("14.5", "32.8", "-118.5", "-86.7"),  # Guadalupe Island at 118.4 W
}

_CN = (
    "AH BJ CQ FJ GD GS GX GZ HA HB HE HI HK HL HN JL JS JX LN MO NM NX QH SC SD SH SN SX TJ TW"
    " XJ XZ YN ZJ"
)
_VN = (
    "01 02 03 04 05 06 07 09 13 14 18 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37"
    " 39 40 41 43 44 45 46 47 49 50 51 52 53 54 55 56 57 58 59 61 63 66 67 68 69 70 71 72 73"
    " CT DN HN HP SG"
)
_MY = "01 02 03 04 05 06 07 08 09 10 11 12 13 14 15 16"
PROVINCE_CODES = {
    country: frozenset(codes.split()) for country, codes in (("CN", _CN), ("VN", _VN), ("MY", _MY))
}


def is_province_code(country: str, province: str) -> bool:
    """Whether `province` is one of the country's codes, bare or after `CC-`; written exactly
    (upper case, no spaces), as the standard writes them."""
    prefix, dash, code = province.rpartition("-")
    if dash and prefix != country:
        return False
    return code in PROVINCE_CODES.get(country, frozenset())
