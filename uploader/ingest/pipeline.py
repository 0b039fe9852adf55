"""Rows in, records and rejections out, then into the queue chunk by chunk.

`check_rows` is the entry point for rows that are already decoded (the HTTP ingest body);
the file readers produce the same `Chunk`s. `ingest` feeds chunks to a queue: memory stays
flat whatever the input's size, because only one chunk is alive at a time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator, Mapping

import msgspec

from uploader.ingest.validate import ACCOUNT_FIELD, Validator
from uploader.queue.base import DeadRow, FlagCounts, Queue
from uploader.records import Flag, Record

__all__ = [
    "CHUNK_ROWS",
    "Chunk",
    "IngestSummary",
    "check_rows",
    "dead_row",
    "ingest",
    "raw_text",
]

CHUNK_ROWS = 5000  # rows per chunk: one queue transaction each, a few MB of memory at most

_raw_encoder = msgspec.json.Encoder(decimal_format="number")
_BEFORE = int(Flag.BEFORE_CLAIMABLE)
_FALLS = int(Flag.ACCUMULATED_FALLS)


class Chunk(msgspec.Struct):
    """Consecutive input rows after validation; `position` is the bytes read so far."""

    records: list[Record]
    dead: list[DeadRow]
    rounded: int = 0
    position: int | None = None

    @property
    def rows(self) -> int:
        """Input rows this chunk covers (blank lines aside)."""
        return len(self.records) + len(self.dead)


class IngestSummary(msgspec.Struct):
    """What an ingest did: `accepted` rows passed validation (`unchanged` of them were
    already queued with the same values), `rejected` rows became dead letters, `flagged`
    records were accepted with a warning, `rounded` values lost decimal places."""

    accepted: int = 0
    unchanged: int = 0
    rejected: int = 0
    flagged: int = 0
    rounded: int = 0
    flags: FlagCounts = msgspec.field(default_factory=FlagCounts)

    @property
    def rows(self) -> int:
        """Rows read."""
        return self.accepted + self.rejected

    def add(self, chunk: Chunk, unchanged: int) -> None:
        """Count a chunk that went into the queue."""
        self.accepted += len(chunk.records)
        self.unchanged += unchanged
        self.rejected += len(chunk.dead)
        self.rounded += chunk.rounded
        flagged = [record.flags for record in chunk.records if record.flags]
        self.flagged += len(flagged)
        # Plain ints: IntFlag's operators cost microseconds, and old backfills flag every row.
        self.flags.before_claimable += sum(1 for flags in flagged if flags & _BEFORE)
        self.flags.accumulated_falls += sum(1 for flags in flagged if flags & _FALLS)


def raw_text(text: str) -> str:
    """Input text safe to store: undecodable bytes shown as \\x escapes."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def dead_row(text: str, source: str, reason: str, account: object, v: Validator) -> DeadRow:
    """A refused row as a dead letter keeps it: its text, source, reason, known account."""
    known = account if isinstance(account, str) and account in v.accounts else None
    return DeadRow(raw=raw_text(text.rstrip("\r\n")), source=source, reason=reason, account=known)


def check_rows(
    rows: Iterable[tuple[int, Mapping[str, object]]], validator: Validator, source: str
) -> Chunk:
    """Validate decoded rows numbered by line; each gets the source `"{source}:{line}"`."""
    records: list[Record] = []
    dead: list[DeadRow] = []
    rounded = validator.rounded
    for line, row in rows:
        where = f"{source}:{line}"
        result = validator.row(row, where)
        if isinstance(result, str):
            account = row.get(ACCOUNT_FIELD) or validator.default_account
            text = _raw_encoder.encode(row).decode()
            dead.append(dead_row(text, where, result, account, validator))
        else:
            records.append(result)
    return Chunk(records, dead, validator.rounded - rounded)


async def ingest(
    chunks: Iterator[Chunk],
    queue: Queue,
    summary: IngestSummary | None = None,
    on_chunk: Callable[[Chunk, IngestSummary], None] | None = None,
) -> IngestSummary:
    """Queue every chunk: records upserted, rejections kept as dead letters.

    Reading (and validating) runs in a thread so the event loop stays free. It does not
    overlap the queue's writes on purpose: measured, the two threads fighting for the GIL
    were slower than taking turns.
    """
    summary = summary if summary is not None else IngestSummary()
    while (chunk := await asyncio.to_thread(next, chunks, None)) is not None:
        result = await queue.enqueue(chunk.records)
        await queue.dead_letter_rows(chunk.dead)
        summary.add(chunk, result.unchanged)
        if on_chunk is not None:
            on_chunk(chunk, summary)
    return summary
