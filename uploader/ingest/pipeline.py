"""Rows in, records and rejections out, then into the queue chunk by chunk.

`check_rows` is the entry point for rows that are already decoded (the HTTP ingest body);
the file readers produce the same `Chunk`s. `ingest` feeds chunks to a queue: memory stays
flat whatever the input's size, because only one chunk is alive at a time.

Every row read is counted once: `rejected`, or `accepted`, and an accepted row is `queued`
(new or changed), `unchanged` (the queue held the same values) or `superseded` (a later row
of the same input has the same account, inverter and day, and replaced it).
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

import msgspec

from uploader.ingest.history import Superseded
from uploader.ingest.validate import ACCOUNT_FIELD, Rounding, Validator, line_of
from uploader.queue.base import DeadRow, EnqueueResult, FlagCounts, Queue
from uploader.records import Flag, Record

__all__ = [
    "CHUNK_ROWS",
    "Chunk",
    "IngestSummary",
    "NotJson",
    "check_rows",
    "dead_row",
    "ingest",
    "raw_text",
    "read_json",
    "take_notes",
]

CHUNK_ROWS = 5000  # rows per chunk: one queue transaction each, a few MB of memory at most

_raw_encoder = msgspec.json.Encoder(decimal_format="number")
_json = msgspec.json.Decoder(float_hook=Decimal)  # numbers exact, never a binary float
_BEFORE = int(Flag.BEFORE_CLAIMABLE)
_FALLS = int(Flag.ACCUMULATED_FALLS)
_NOTHING = EnqueueResult(0, 0)


class Chunk(msgspec.Struct):
    """Consecutive input rows after validation; `position` is the bytes read so far.

    `rounded` lists the values these rows had rounded; `superseded` the rows of the input
    (of this chunk or an earlier one) that a row of this chunk replaced.
    """

    records: list[Record]
    dead: list[DeadRow]
    rounded: list[Rounding] = msgspec.field(default_factory=list)
    superseded: list[Superseded] = msgspec.field(default_factory=list)
    position: int | None = None

    @property
    def rows(self) -> int:
        """Input rows this chunk covers (blank lines aside)."""
        return len(self.records) + len(self.dead)


class IngestSummary(msgspec.Struct):
    """What an ingest did, row by row: `accepted` rows passed validation and are
    `queued + unchanged + superseded`; `rejected` rows became dead letters; `flagged`
    records were accepted with a warning; `rounded` values lost decimal places."""

    accepted: int = 0
    unchanged: int = 0
    superseded: int = 0
    rejected: int = 0
    flagged: int = 0
    rounded: int = 0
    flags: FlagCounts = msgspec.field(default_factory=FlagCounts)

    @property
    def rows(self) -> int:
        """Rows read."""
        return self.accepted + self.rejected

    @property
    def queued(self) -> int:
        """Accepted rows whose record the queue took as new or changed."""
        return self.accepted - self.unchanged - self.superseded

    def add(self, chunk: Chunk, unchanged: int) -> None:
        """Count a chunk that went into the queue."""
        self.accepted += len(chunk.records)
        self.unchanged += unchanged
        self.superseded += len(chunk.superseded)
        self.rejected += len(chunk.dead)
        self.rounded += len(chunk.rounded)
        flagged = [record.flags for record in chunk.records if record.flags]
        self.flagged += len(flagged)
        # Plain ints: IntFlag's operators cost microseconds, and old backfills flag every row.
        self.flags.before_claimable += sum(1 for flags in flagged if flags & _BEFORE)
        self.flags.accumulated_falls += sum(1 for flags in flagged if flags & _FALLS)


class NotJson:
    """An entry that did not decode, and why."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def read_json(data: bytes) -> Any:
    """One JSON text decoded (numbers as Decimal), or a `NotJson` saying why it is not one."""
    try:
        return _json.decode(data)
    except msgspec.DecodeError as exc:
        return NotJson(f"not JSON: {exc}")
    except UnicodeDecodeError as exc:  # msgspec checks the UTF-8 of strings as it goes
        return NotJson(f"not JSON: not UTF-8 (byte 0x{data[exc.start]:02x} at {exc.start})")
    except RecursionError:
        return NotJson("not JSON: nested too deeply")


def raw_text(text: str) -> str:
    """Input text safe to store: undecodable bytes shown as \\x escapes."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def dead_row(text: str, source: str, reason: str, account: object, v: Validator) -> DeadRow:
    """A refused row as a dead letter keeps it: its text, source, reason, known account."""
    known = account if isinstance(account, str) and account in v.accounts else None
    return DeadRow(raw=raw_text(text.rstrip("\r\n")), source=source, reason=reason, account=known)


def take_notes(validator: Validator, name: str) -> tuple[list[Rounding], list[Superseded]]:
    """The roundings and repeats the validator noted since it was last asked."""
    rounded, validator.roundings = validator.roundings, []
    repeats, validator.history.repeats = validator.history.repeats, []
    return rounded, [Superseded(name, lost, by) for lost, by in repeats]


def check_rows(
    rows: Iterable[tuple[int, Mapping[str, object]]], validator: Validator, source: str
) -> Chunk:
    """Validate decoded rows numbered by line; each gets the source `"{source}:{line}"`."""
    records: list[Record] = []
    dead: list[DeadRow] = []
    for line, row in rows:
        where = f"{source}:{line}"
        result = validator.row(row, where, line)
        if isinstance(result, str):
            account = row.get(ACCOUNT_FIELD) or validator.default_account
            text = _raw_encoder.encode(row).decode()
            dead.append(dead_row(text, where, result, account, validator))
        else:
            records.append(result)
    return Chunk(records, dead, *take_notes(validator, source))


async def ingest(
    chunks: Iterator[Chunk],
    queue: Queue,
    summary: IngestSummary | None = None,
    on_chunk: Callable[[Chunk, IngestSummary], None] | None = None,
) -> IngestSummary:
    """Queue every chunk of one input: records upserted, rejections kept as dead letters.

    A row superseded within its chunk never reaches the queue; rows replacing a row of an
    earlier chunk go in a call of their own, so the queue's verdict on them is known apart.
    Reading (and validating) runs in a thread so the event loop stays free. It does not
    overlap the queue's writes on purpose: measured, the two threads fighting for the GIL
    were slower than taking turns.
    """
    summary = summary if summary is not None else IngestSummary()
    verdicts = _Verdicts()
    while (chunk := await asyncio.to_thread(next, chunks, None)) is not None:
        first, repeats, earlier = _split(chunk)
        result = await queue.enqueue(first)
        again = await queue.enqueue(repeats) if repeats else _NOTHING
        await queue.dead_letter_rows(chunk.dead)
        taken = verdicts.settle(earlier, again)
        verdicts.note(chunk, result)
        summary.add(chunk, result.unchanged + again.unchanged - taken)
        if on_chunk is not None:
            on_chunk(chunk, summary)
    return summary


def _split(chunk: Chunk) -> tuple[list[Record], list[Record], list[tuple[int, int]]]:
    """(records to queue, records replacing an earlier chunk's row, (that row, its
    replacement's line) of each).

    Records superseded within the chunk are left out: a record's last row in the chunk
    stands for it.
    """
    if not chunk.superseded:
        return chunk.records, [], []
    here = {record.source for record in chunk.records}
    lost: set[str] = set()
    chains: dict[int, int] = {}  # the line of a chain's current last row -> its earlier row
    for row in chunk.superseded:
        if row.source in here:
            lost.add(row.source)
            if row.line in chains:
                chains[row.by] = chains.pop(row.line)
        else:
            chains[row.by] = row.line
    kept = [r for r in chunk.records if r.source not in lost]
    repeats = [r for r in kept if line_of(r.source or "") in chains]
    first = [r for r in kept if line_of(r.source or "") not in chains]
    return first, repeats, [(earlier, by) for by, earlier in chains.items()]


class _Verdicts:
    """What the queue said of each chunk of one input, for rows a later chunk supersedes.

    A superseded row was counted queued or unchanged when its chunk went in, and now counts
    as superseded; its record stays queued if any of its rows changed the queue, unchanged if
    none did. So a row superseded by a change leaves `queued` when an earlier row of its
    record had changed the queue too, and in every other case it leaves `unchanged`.

    The queue answers each call with counts, not row by row: whether a row changed the
    queue is known when its call was unanimous, and otherwise taken to be what its
    replacement did. That is exact for a file sent anew (every first row changed the queue)
    and for a file sent again (a row differs from the queue exactly when it differs from the
    row that replaced it last time), and an estimate only when both calls were mixed.
    """

    def __init__(self) -> None:
        self._ends: list[int] = []  # the last line of each chunk
        self._firsts: list[bool | None] = []  # each chunk's first call: all changed? (None: mixed)
        self._changed: dict[int, bool | None] = {}  # lines that replaced a row: record changed?

    def settle(self, earlier: list[tuple[int, int]], again: EnqueueResult) -> int:
        """How many of the rows superseded from earlier chunks leave the unchanged count.

        `earlier` pairs each such row's line with its replacement's; `again` is the verdict
        on the replacements.
        """
        states = [self._state(line) for line, _ in earlier]
        never_changed = sum(1 for state in states if state is False)  # they leave `unchanged`
        from_queued = min(again.changed, len(earlier) - never_changed)
        replaced = _all_changed(again)
        for (_, by), state in zip(earlier, states, strict=True):
            self._changed[by] = True if state else replaced
        return len(earlier) - from_queued

    def note(self, chunk: Chunk, result: EnqueueResult) -> None:
        """Remember a chunk's first call and where it ends (a few bytes a chunk)."""
        last = max(line_of(rows[-1].source or "") for rows in (chunk.records, chunk.dead) if rows)
        self._ends.append(last)
        self._firsts.append(_all_changed(result))

    def _state(self, line: int) -> bool | None:
        """Whether the record of the row on `line` had changed the queue (None: unknown)."""
        if line in self._changed:
            return self._changed.pop(line)
        index = min(bisect.bisect_left(self._ends, line), len(self._firsts) - 1)
        return self._firsts[index]


def _all_changed(result: EnqueueResult) -> bool | None:
    """True when every record of a call changed the queue, False when none did, else None."""
    if result.unchanged == 0:
        return True
    return False if result.changed == 0 else None
