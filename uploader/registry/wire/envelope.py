"""The response envelope every registry answer shares, and its parts."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import msgspec

T = TypeVar("T")


class ErrorItem(msgspec.Struct, kw_only=True, omit_defaults=False):
    """One error of an envelope's `Errors` list.

    The registry's own error object is undocumented (its "Getting Started" page could not
    be read), so every field is optional and unknown fields are ignored. The simulator always
    fills `Code` and `Message`, and `Field` with a path such as `Devices[0].Data[3].Timestamp`.
    A refusal's errors are read by `uploader.registry.issues`, which keeps each item verbatim
    whatever its shape (the registry answers `ErrorCode`, `ErrorMessage`, `PropertyName`).
    """

    Code: str | None = None
    Message: str | None = None
    Field: str | None = None


class Pagination(msgspec.Struct, kw_only=True):
    """`Meta` of a list endpoint."""

    CurrentPage: int
    TotalPage: int
    ItemsPerPage: int
    TotalItems: int


class IdData(msgspec.Struct, kw_only=True):
    """`Data` of a 201 that created something: an uploaded file or an application."""

    Id: str


class Envelope(msgspec.Struct, Generic[T], kw_only=True):
    """`{Data, Meta, Errors, StatusCode, Message}`: the shape of every JSON answer.

    `Errors` may be `null` or a list; an item that is a bare string is kept as one.
    """

    Data: T | None = None
    Meta: Pagination | None = None
    Errors: list[ErrorItem | str] | None = None
    StatusCode: int = 200
    Message: str | None = None


def error_envelope(
    status: int, message: str, errors: list[ErrorItem | str] | None
) -> Envelope[Any]:
    """Build the envelope of an error answer."""
    return Envelope(Data=None, Meta=None, Errors=errors, StatusCode=status, Message=message)
