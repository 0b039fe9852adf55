"""Answers in the registry's envelope, and the error codes the simulator uses."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import msgspec
from aiohttp import web

from uploader.simulator.wire import (
    ENCODER,
    INVALID_VALUE,
    MALFORMED,
    Envelope,
    ErrorItem,
    Pagination,
)

JSON = "application/json"
DATE_MESSAGE = "{field} must be a date in the format YYYY-MM-DD"

MESSAGES = {
    200: "Success",
    201: "Success",
    400: "Bad Request",
    401: "The token is invalid",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    422: "Unprocessable Entity",
    429: "Rate limit exceeded",
    500: "Internal Server Error",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

_AT = re.compile(r"^(?P<what>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_NAMED_FIELD = re.compile(r"(?:unknown|required) field `(?P<name>[^`]+)`")
# msgspec's wording, said the way the registry's pages say it; the field path leads.
_SAID = (
    (re.compile(r"missing required field"), "{field} is required"),
    (re.compile(r"RFC3339 encoded date\b|Expected `date`"), DATE_MESSAGE),
    (re.compile(r"Expected `array` of length >= 1"), "{field} must not be empty"),
)


def envelope(
    status: int,
    data: Any = None,
    *,
    errors: Sequence[ErrorItem] | None = None,
    meta: Pagination | None = None,
    message: str | None = None,
) -> web.Response:
    """A JSON answer in the envelope `{Data, Meta, Errors, StatusCode, Message}`."""
    body = ENCODER.encode(
        Envelope(
            Data=data,
            Meta=meta,
            Errors=None if errors is None else list(errors),
            StatusCode=status,
            Message=message or MESSAGES.get(status, "Error"),
        )
    )
    return web.Response(body=body, status=status, content_type=JSON)


def error(status: int, code: str, message: str, field: str | None = None) -> web.Response:
    """An error answer carrying one error item."""
    return envelope(status, errors=[ErrorItem(Code=code, Message=message, Field=field)])


def rate_limited(retry_after_s: int) -> web.Response:
    """The documented 429: `Retry-After` in whole seconds and the documented body."""
    response = envelope(429)
    response.headers["Retry-After"] = str(retry_after_s)
    return response


def decode_error(exc: msgspec.DecodeError) -> ErrorItem:
    """A msgspec error as an error item whose Field is the path (`Devices[0].Data[3].X`)."""
    match = _AT.match(str(exc))
    assert match is not None  # the pattern matches any text
    what, path = match["what"], match["path"]
    field = path.lstrip(".") if path else None
    named = _NAMED_FIELD.search(what)
    if named is not None:
        field = f"{field}.{named['name']}" if field else named["name"]
    code = INVALID_VALUE if isinstance(exc, msgspec.ValidationError) else MALFORMED
    return ErrorItem(Code=code, Message=_said(what, field), Field=field)


def _said(what: str, field: str | None) -> str:
    """The registry's wording of a msgspec message, when there is one for it."""
    if field is not None:
        for pattern, wording in _SAID:
            if pattern.search(what):
                return wording.format(field=field)
    return what


def bad_body(exc: msgspec.DecodeError) -> web.Response:
    """400 for a body that is not JSON or does not have the documented shape."""
    return envelope(400, errors=[decode_error(exc)])
