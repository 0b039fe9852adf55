"""An ingest request body as one validated chunk: NDJSON, or one JSON array of records.

The shape is decided up front: a body starting with `[` must be one JSON array; otherwise it
is NDJSON, whose first line must be a JSON object. Anything else is refused whole (400).
After that, every entry is a record or a rejection of its own line, and never spoils the
others: an entry that is not UTF-8, nests too deeply or is not JSON is rejected like an
invalid record. Every entry is checked before anything is queued, so the answer covers the
whole body. Entries are decoded a slice at a time (the array as raw slices first), so the
decoded rows of a large body are never all alive at once; only its records are. JSON
numbers become `Decimal` from their text, never a binary float. Validation is the file
ingest's own (`check_rows`).
"""

from __future__ import annotations

from typing import Any

import msgspec

from uploader.ingest.pipeline import (
    CHUNK_ROWS,
    Chunk,
    NotJson,
    check_rows,
    raw_text,
    read_json,
)
from uploader.ingest.validate import ACCOUNT_FIELD, Validator
from uploader.queue.base import DeadRow

BOM = b"\xef\xbb\xbf"
_array = msgspec.json.Decoder(list[msgspec.Raw])


class BodyError(ValueError):
    """The body is neither NDJSON nor a JSON array of records."""


def split_body(body: bytes) -> list[tuple[int, bytes]]:
    """`(line, JSON text)` of each entry; BodyError when the body has neither shape.

    NDJSON entries are numbered by their line in the body (blank lines are skipped but
    counted); the entries of a JSON array by their position in it, from 1.
    """
    text = body.removeprefix(BOM).strip()
    if text.startswith(b"["):
        try:
            return [(n, bytes(raw)) for n, raw in enumerate(_array.decode(text), start=1)]
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            raise BodyError(f"not a JSON array: {exc}") from None
        except RecursionError:
            raise BodyError("not a JSON array: nested too deeply") from None
    lines = [(n, raw) for n, raw in enumerate(body.removeprefix(BOM).split(b"\n"), 1)]
    entries = [(n, raw) for n, raw in lines if raw.strip()]
    if not entries:
        raise BodyError("the body is empty: send NDJSON or a JSON array of records")
    if not isinstance(read_json(entries[0][1]), dict):
        raise BodyError("the body is neither NDJSON (one JSON object per line) nor a JSON array")
    return entries


def check_body(
    entries: list[tuple[int, bytes]], validator: Validator, source: str, account: str
) -> Chunk:
    """Every entry validated: the body's records, dead rows, roundings and repeats."""
    body = Chunk([], [])
    for start in range(0, len(entries), CHUNK_ROWS):
        part = _check(entries[start : start + CHUNK_ROWS], validator, source, account)
        body.records += part.records
        body.dead += part.dead
        body.rounded += part.rounded
        body.superseded += part.superseded
    return body


def _check(
    entries: list[tuple[int, bytes]], validator: Validator, source: str, account: str
) -> Chunk:
    rows: list[tuple[int, dict[str, Any]]] = []
    refused: list[DeadRow] = []
    for line, text in entries:
        value = read_json(text)
        reason = _refusal(value, account)
        if reason is None:
            rows.append((line, value))
        else:
            raw = raw_text(text.decode("utf-8", "surrogateescape").strip())
            refused.append(
                DeadRow(raw=raw, source=f"{source}:{line}", reason=reason, account=account)
            )
    chunk = check_rows(rows, validator, source)
    chunk.dead += refused
    return chunk


def _refusal(value: Any, account: str) -> str | None:
    if isinstance(value, NotJson):
        return value.reason
    if not isinstance(value, dict):
        return "not a JSON object"
    named = value.get(ACCOUNT_FIELD, account)
    if named != account:
        return f"Account {named!r} is not the request's account {account!r}"
    return None
