"""`GET metadata/inverter-brands`: the brand list registration draws `BrandCode` from."""

from __future__ import annotations

from aiohttp import web

from uploader.simulator import responses as r
from uploader.simulator import wire
from uploader.simulator.paging import BadQuery, page_params, paginate
from uploader.simulator.wire import Brand

OTHER_BRAND = "OT27"  # "use OT27 and fill OtherBrandName" when a brand is not listed

# Codes follow the registry's pattern (two letters and a number): its pages show AB01 (ABB),
# HW21 (Huawei) and OT27 (Other); the others are plausible stand-ins.
BRANDS = tuple(
    Brand(Code=code, Name=name)
    for code, name in (
        ("AB01", "ABB"),
        ("AP02", "APsystems"),
        ("AF03", "Afore"),
        ("AS04", "Aiswei"),
        ("CS05", "Canadian Solar"),
        ("CP06", "Chint Power"),
        ("DE07", "Delta"),
        ("DY08", "Deye"),
        ("EN09", "Enphase"),
        ("FR10", "Fronius"),
        ("FX11", "FoxESS"),
        ("FI12", "Fimer"),
        ("GW13", "GoodWe"),
        ("GL14", "Ginlong"),
        ("GR15", "Growatt"),
        ("HM16", "Hoymiles"),
        ("HP17", "Hopewind"),
        ("HY18", "Hypontech"),
        ("IG19", "Ingeteam"),
        ("JS20", "Jinko Solar"),
        ("HW21", "Huawei"),
        ("KS22", "KSTAR"),
        ("KC23", "KACO new energy"),
        ("LV24", "Livoltek"),
        ("MU25", "Must"),
        ("NE26", "Neovolt"),
        ("OT27", "Other"),
        ("PE28", "Power Electronics"),
        ("RN29", "Renac Power"),
        ("SM30", "SMA"),
        ("SE31", "SolarEdge"),
        ("SG32", "Sungrow"),
        ("SF33", "Sofar Solar"),
        ("SN34", "Sineng"),
        ("SL35", "Solis"),
        ("SC36", "Schneider Electric"),
        ("TB37", "TBEA"),
        ("TM38", "TMEIC"),
        ("SX39", "Sinexcel"),
        ("ZV40", "Zeversolar"),
    )
)
BRAND_CODES = frozenset(b.Code for b in BRANDS)


async def get_brands(request: web.Request) -> web.Response:
    """Brands, optionally filtered by `Code`, paged (`CurrentPage`, `ItemsPerPage` 10-100)."""
    try:
        page, per_page = page_params(request)
    except BadQuery as exc:
        return r.error(400, wire.INVALID_VALUE, exc.message, exc.field)
    code = request.query.get("Code", "").strip().upper()
    brands = [b for b in BRANDS if b.Code == code] if code else list(BRANDS)
    items, meta = paginate(brands, page, per_page)
    return r.envelope(200, items, meta=meta)
