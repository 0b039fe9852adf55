"""The registry's error objects, whatever their shape: kept verbatim, read where they can be.

The registry's error object is undocumented, and it was seen answering
`{"ErrorCode": ..., "ErrorMessage": ..., "PropertyName": ...}` where the simulator answers
`{"Code", "Message", "Field"}`. So nothing here depends on one shape: every item of `Errors`
keeps its JSON text as it came (`Issue.raw`), and what can be read of it is read with the
key's case ignored:

    the path it names      Field, PropertyName, Property, Path, MemberName   (a string)
    its code               Code, ErrorCode
    its message            Message, ErrorMessage, Description, Detail
    an item that is a string is its message; any other item is kept as raw JSON only

`Errors` that is not a list is one item; `Message` that is not a string is kept as its JSON.
What a path names is the endpoint's business (`uploader.push.bodies.locate_*`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

REASON_MAX_CHARS = 2048  # a dead letter's reason, verbatim errors included
HEAD_CHARS = 200  # of a refusal that is not JSON, kept as its message

FIELD_KEYS = ("field", "propertyname", "property", "path", "membername")
CODE_KEYS = ("code", "errorcode")
MESSAGE_KEYS = ("message", "errormessage", "description", "detail")

_object = msgspec.json.Decoder(dict[str, msgspec.Raw])
_items = msgspec.json.Decoder(list[msgspec.Raw])
_value = msgspec.json.Decoder()


@dataclass(frozen=True, slots=True)
class Issue:
    """One item of a refusal's `Errors`: its JSON as sent, and what of it could be read."""

    raw: str
    field: str | None = None
    code: str | None = None
    message: str | None = None

    @property
    def line(self) -> str:
        """The item as `Field.Path: message`, like a local violation (its JSON if unreadable)."""
        text = self.message or self.code or self.raw
        return f"{self.field}: {text}" if self.field else text

    @property
    def kind(self) -> str:
        """What the item is about, without the path: for counting reasons."""
        return (self.code or self.message or self.raw)[:80]


def said(body: bytes) -> tuple[str | None, list[Issue]]:
    """The `Message` and `Errors` of an envelope; of anything else, its first bytes as text."""
    try:
        envelope = {key.lower(): value for key, value in _object.decode(body).items()}
    except msgspec.DecodeError:
        return body[:HEAD_CHARS].decode("utf-8", "replace") or None, []
    message = envelope.get("message")
    return _text(message) if message is not None else None, _issues(envelope.get("errors"))


def _text(raw: msgspec.Raw) -> str | None:
    value = _value.decode(raw)
    if value is None or isinstance(value, str):
        return value
    return bytes(raw).decode()


def _issues(errors: msgspec.Raw | None) -> list[Issue]:
    if errors is None:
        return []
    try:
        items = _items.decode(errors)
    except msgspec.ValidationError:
        items = [errors]  # one object, a string, a number: one item
    return [_issue(item) for item in items if bytes(item) != b"null"]


def _issue(raw: msgspec.Raw) -> Issue:
    text = bytes(raw).decode()
    value = _value.decode(raw)
    if isinstance(value, str):
        return Issue(text, message=value)
    if not isinstance(value, dict):
        return Issue(text)
    keys = {key.lower(): item for key, item in value.items()}
    return Issue(
        text,
        field=_first(keys, FIELD_KEYS),
        code=_first(keys, CODE_KEYS),
        message=_first(keys, MESSAGE_KEYS),
    )


def _first(keys: dict[str, Any], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = keys.get(name)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)  # a numeric code
    return None


def headline(status: int, message: str | None, issues: Sequence[Issue]) -> str:
    """A short form of a reason, the same for every record it names: for counting reasons."""
    return f"{status} {issues[0].kind if issues else message or 'no errors given'}"[:100]


def reason(status: int, message: str | None, issues: Sequence[Issue]) -> str:
    """A dead letter's reason: the status and Message, each issue's line, then the issues'
    JSON verbatim; at most `REASON_MAX_CHARS`."""
    head = f"{status} {message}" if message else str(status)
    lines = "; ".join(issue.line for issue in issues) or "no errors given"
    verbatim = f" | Errors: [{','.join(issue.raw for issue in issues)}]" if issues else ""
    text = f"{head}: {lines}{verbatim}"
    return text if len(text) <= REASON_MAX_CHARS else text[: REASON_MAX_CHARS - 3] + "..."
