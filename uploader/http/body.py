"""An ingest request body as validated chunks: NDJSON, or one JSON array of records.

The shape is decided up front: a body starting with `[` must be one JSON array; otherwise it
is NDJSON, whose first line must be a JSON object. Anything else is refused whole (400).
After that, every entry is a record or a rejection of its own line, and never spoils the
others. Entries are decoded chunk by chunk (the array as raw slices first), so the decoded
rows of a large body are never all alive at once. JSON numbers become `Decimal` from their
text, never a binary float. Validation is the file ingest's own (`check_rows`).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import msgspec

from uploader.ingest.pipeline import CHUNK_ROWS, Chunk, check_rows, raw_text
from uploader.ingest.validate import ACCOUNT_FIELD, Validator
from uploader.queue.base import DeadRow

BOM = b"\xef\xbb\xbf"
_decoder = msgspec.json.Decoder(float_hook=Decimal)
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
        except msgspec.DecodeError as exc:
            raise BodyError(f"not a JSON array: {exc}") from None
    lines = [(n, raw) for n, raw in enumerate(body.removeprefix(BOM).split(b"\n"), 1)]
    entries = [(n, raw) for n, raw in lines if raw.strip()]
    if not entries:
        raise BodyError("the body is empty: send NDJSON or a JSON array of records")
    if not isinstance(_decode(entries[0][1]), dict):
        raise BodyError("the body is neither NDJSON (one JSON object per line) nor a JSON array")
    return entries


class BodyChunks:
    """Iterates the validated chunks of one body, noting each rejection's line and reason."""

    def __init__(
        self, entries: list[tuple[int, bytes]], validator: Validator, source: str, account: str
    ) -> None:
        self._entries = entries
        self._validator = validator
        self._source = source
        self._account = account
        self.rejected: list[tuple[int, str]] = []

    def __iter__(self) -> Iterator[Chunk]:
        for start in range(0, len(self._entries), CHUNK_ROWS):
            yield self._chunk(self._entries[start : start + CHUNK_ROWS])

    def _chunk(self, entries: list[tuple[int, bytes]]) -> Chunk:
        rows: list[tuple[int, dict[str, Any]]] = []
        refused: list[tuple[int, bytes, str]] = []
        for line, text in entries:
            value = _decode(text)
            reason = self._refusal(value)
            if reason is None:
                rows.append((line, value))
            else:
                refused.append((line, text, reason))
        chunk = check_rows(rows, self._validator, self._source)
        chunk.dead.extend(self._dead(line, text, reason) for line, text, reason in refused)
        self.rejected += [(_line(dead.source), dead.reason) for dead in chunk.dead]
        return chunk

    def _refusal(self, value: Any) -> str | None:
        if isinstance(value, _NotJson):
            return f"not JSON: {value.error}"
        if not isinstance(value, dict):
            return "not a JSON object"
        named = value.get(ACCOUNT_FIELD, self._account)
        if named != self._account:
            return f"Account {named!r} is not the request's account {self._account!r}"
        return None

    def _dead(self, line: int, text: bytes, reason: str) -> DeadRow:
        raw = raw_text(text.decode("utf-8", "surrogateescape").strip())
        return DeadRow(
            raw=raw, source=f"{self._source}:{line}", reason=reason, account=self._account
        )


class _NotJson:
    """An entry that did not decode."""

    __slots__ = ("error",)

    def __init__(self, error: str) -> None:
        self.error = error


def _decode(text: bytes) -> Any:
    try:
        return _decoder.decode(text)
    except msgspec.DecodeError as exc:
        return _NotJson(str(exc))


def _line(source: str) -> int:
    return int(source.rpartition(":")[2])
