"""`GET metadata/inverter-brands`: a realistic, paged brand list."""

from __future__ import annotations

import pytest

from .helpers import Api

BRANDS = "/metadata/inverter-brands"


async def test_brands_default_page_holds_every_brand(api: Api) -> None:
    """The default page (100 items) holds the whole list, with the documented codes."""
    answer = await api.get(BRANDS)
    codes = {b["Code"]: b["Name"] for b in answer.body["Data"]}
    assert answer.body["Meta"]["TotalItems"] == len(codes) >= 40
    assert (codes["HW21"], codes["OT27"], codes["AB01"]) == ("Huawei", "Other", "ABB")


async def test_brands_are_paged(api: Api) -> None:
    """ItemsPerPage 10 gives pages of ten; a page past the end is empty."""
    page_4 = await api.get(BRANDS, params={"ItemsPerPage": 10, "CurrentPage": 4})
    assert len(page_4.body["Data"]) == 10
    assert page_4.body["Meta"] == {
        "CurrentPage": 4,
        "TotalPage": 4,
        "ItemsPerPage": 10,
        "TotalItems": 40,
    }
    page_5 = await api.get(BRANDS, params={"ItemsPerPage": 10, "CurrentPage": 5})
    assert page_5.body["Data"] == []


async def test_brands_filter_by_code(api: Api) -> None:
    """`Code` filters the list to that brand."""
    answer = await api.get(BRANDS, params={"Code": "OT27"})
    assert answer.body["Data"] == [{"Code": "OT27", "Name": "Other"}]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"ItemsPerPage": 9}, "ItemsPerPage"),
        ({"ItemsPerPage": 101}, "ItemsPerPage"),
        ({"CurrentPage": 0}, "CurrentPage"),
        ({"CurrentPage": "one"}, "CurrentPage"),
    ],
)
async def test_brands_refuse_bad_paging(api: Api, params: dict[str, int | str], field: str) -> None:
    """ItemsPerPage outside 10-100 and CurrentPage below 1 or not a number are 400s."""
    answer = await api.get(BRANDS, params=params)
    assert (answer.status, answer.fields) == (400, [field])
