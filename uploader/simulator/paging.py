"""Query-string reading and pagination shared by the list endpoints."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import TypeVar

from aiohttp import web

from uploader.simulator.wire import Pagination

T = TypeVar("T")
MIN_PER_PAGE, MAX_PER_PAGE, DEFAULT_PER_PAGE = 10, 100, 100  # the brand page's documented range


class BadQuery(Exception):
    """A query parameter is missing or invalid; carries the parameter's name."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def int_param(request: web.Request, name: str, default: int | None = None) -> int:
    """An integer query parameter."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        if default is None:
            raise BadQuery(name, f"{name} is required")
        return default
    try:
        return int(raw)
    except ValueError:
        raise BadQuery(name, f"{name} {raw!r} is not an integer") from None


def date_param(request: web.Request, name: str) -> dt.date:
    """A required `YYYY-MM-DD` query parameter."""
    raw = request.query.get(name)
    if not raw:
        raise BadQuery(name, f"{name} is required")
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise BadQuery(name, f"{name} {raw!r} is not a date (YYYY-MM-DD)") from None


def page_params(request: web.Request) -> tuple[int, int]:
    """`CurrentPage` (>= 1, default 1) and `ItemsPerPage` (10-100, default 100)."""
    page = int_param(request, "CurrentPage", 1)
    if page < 1:
        raise BadQuery("CurrentPage", "CurrentPage must be at least 1")
    per_page = int_param(request, "ItemsPerPage", DEFAULT_PER_PAGE)
    if not MIN_PER_PAGE <= per_page <= MAX_PER_PAGE:
        message = f"ItemsPerPage must be between {MIN_PER_PAGE} and {MAX_PER_PAGE}"
        raise BadQuery("ItemsPerPage", message)
    return page, per_page


def paginate(items: Sequence[T], page: int, per_page: int) -> tuple[list[T], Pagination]:
    """One page of the items and its `Meta`."""
    start = (page - 1) * per_page
    meta = Pagination(
        CurrentPage=page,
        TotalPage=max(1, math.ceil(len(items) / per_page)),
        ItemsPerPage=per_page,
        TotalItems=len(items),
    )
    return list(items[start : start + per_page]), meta
