"""Streaming readers for CSV and JSON Lines files (or stdin), yielding validated chunks.

A file is opened and its header checked before any row is read (`open_source`), so a file
that cannot be used is a usage error, not a stream of rejections. After that, a bad row is
a dead letter naming its file and line, and never stops the rows after it.

CSV is read line by line: a line without quotes is split on commas (the fast path), a line
with quotes goes through the csv module. Quoted fields spanning lines are not supported on
purpose: an unbalanced quote then spoils one line instead of swallowing the rest of the file.
Undecodable bytes survive as escapes in the dead letter's raw text.
"""

from __future__ import annotations

import abc
import csv
import io
import operator
import os
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, Literal

from uploader.errors import ConfigError
from uploader.ingest.pipeline import (
    CHUNK_ROWS,
    Chunk,
    NotJson,
    dead_row,
    raw_text,
    read_json,
    take_notes,
)
from uploader.ingest.validate import ACCOUNT_FIELD, FIELDS, Validator
from uploader.queue.base import DeadRow
from uploader.records import Record

__all__ = ["FORMATS", "Format", "Source", "open_source"]

Format = Literal["csv", "jsonl"]
FORMATS: dict[str, Format] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
BOM = b"\xef\xbb\xbf"

# The CSV fast path's fields: text without quotes or line ends, and a plain decimal (digits,
# no sign or exponent, at most 15 before the point and 3 after it).
_TEXT = r'([^,"\r\n]*)'
_OTHER = r'[^,"\r\n]*'
_PLAIN = r"((?:0|[1-9][0-9]{0,14})(?:\.[0-9]{1,3})?)"
_NEVER = re.compile(r"(?!)").fullmatch
Match = Callable[[str], "re.Match[str] | None"]
Pick = Callable[[tuple[Any, ...]], Any]


class Source(abc.ABC):
    """An opened input: its name for sources ("file.csv", "stdin") and its rows."""

    def __init__(self, name: str, stream: IO[bytes], size: int | None) -> None:
        self.name = name
        self.stream = stream
        self.size = size  # bytes, when known: the progress bar's 100 %

    def position(self) -> int | None:
        """Bytes read so far, when the stream can tell."""
        try:
            return self.stream.tell()
        except (OSError, ValueError):
            return None

    def close(self) -> None:
        """Close the file (never stdin)."""
        if self.stream is not sys.stdin.buffer:
            self.stream.close()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def chunks(self, validator: Validator, size: int = CHUNK_ROWS) -> Iterator[Chunk]:
        """Validated rows, `size` at a time (bad rows count too: memory stays bounded)."""
        records: list[Record] = []
        dead: list[DeadRow] = []
        for result in self.results(validator):
            if isinstance(result, Record):
                records.append(result)
            else:
                dead.append(result)
            if len(records) + len(dead) == size:
                yield self._chunk(records, dead, validator)
                records, dead = [], []
        if records or dead:
            yield self._chunk(records, dead, validator)

    def _chunk(self, records: list[Record], dead: list[DeadRow], validator: Validator) -> Chunk:
        rounded, superseded = take_notes(validator, self.name)
        return Chunk(records, dead, rounded, superseded, self.position())

    @abc.abstractmethod
    def results(self, validator: Validator) -> Iterator[Record | DeadRow]:
        """Each row's record or dead row, in file order."""


class CsvSource(Source):
    """A CSV file whose header names the columns (any order, any case)."""

    def __init__(self, name: str, stream: IO[bytes], size: int | None) -> None:
        super().__init__(name, stream, size)
        self.text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape")
        first = self.text.readline().rstrip("\r\n")
        header = first.split(",") if '"' not in first else _quoted(first)
        names = [column.strip().casefold() for column in header]
        missing = [f for f in FIELDS if f.casefold() not in names]
        if missing and header != [""]:
            raise ConfigError(f"{name}: the header has no column {', '.join(missing)}")
        self.empty = header == [""]
        self.width = len(header)
        self.columns = [names.index(f.casefold()) for f in FIELDS] if not self.empty else []
        account = ACCOUNT_FIELD.casefold()
        self.account_column = names.index(account) if account in names else -1
        self.match: Match = _NEVER
        self.pick: Pick = operator.itemgetter(0)
        if not self.empty:
            self.match, self.pick = _line_pattern(self.width, self.columns, self.account_column)

    def close(self) -> None:
        """Close the file (never stdin: the text layer lets go of it)."""
        if self.stream is sys.stdin.buffer:
            self.text.detach()
        else:
            self.text.close()

    def results(self, validator: Validator) -> Iterator[Record | DeadRow]:
        """Each row's record or dead row, in file order."""
        if self.empty:
            return
        check, plain, default = validator.fields, validator.plain, validator.default_account
        inv, ts, period, acc = self.columns
        account_column, width, name = self.account_column, self.width, self.name
        match, pick = self.match, self.pick
        for line, text in enumerate(self.text, start=2):
            if (found := match(text)) is not None:
                a, i, t, p, c = pick(found.groups())
                record = plain(a or default, i, t, p, c, f"{name}:{line}", line)
                if record is not None:
                    yield record
                    continue
            fields = text.split(",") if '"' not in text else _quoted(text)
            if len(fields) != width:
                if text.strip():
                    yield self._misfit(text, fields, f"{name}:{line}", default)
                continue
            fields[-1] = fields[-1].rstrip("\r\n")
            account = (fields[account_column] or default) if account_column >= 0 else default
            source = f"{name}:{line}"
            result = check(
                account, fields[inv], fields[ts], fields[period], fields[acc], source, line
            )
            if isinstance(result, str):
                yield dead_row(text, source, result, account, validator)
            else:
                yield result

    def _misfit(self, text: str, fields: list[str], source: str, account: str | None) -> DeadRow:
        reason = f"expected {self.width} fields as in the header, found {len(fields)}"
        raw = raw_text(text.rstrip("\r\n"))
        return DeadRow(raw=raw, source=source, reason=reason, account=account)


class JsonLinesSource(Source):
    """One JSON object per line, with the CSV header's names as keys."""

    def results(self, validator: Validator) -> Iterator[Record | DeadRow]:
        """Each line's record or dead row, in file order (blank lines skipped)."""
        for line, data in enumerate(self.stream, start=1):
            if data.strip():
                source = f"{self.name}:{line}"
                entry = data.removeprefix(BOM) if line == 1 else data
                yield self._check(entry, source, line, validator)

    @staticmethod
    def _check(data: bytes, source: str, line: int, validator: Validator) -> Record | DeadRow:
        row = read_json(data)
        if isinstance(row, NotJson):
            reason = row.reason
        elif isinstance(row, dict):
            result = validator.row(row, source, line)
            if isinstance(result, Record):
                return result
            reason = result
        else:
            reason = "not a JSON object"
        account = row.get(ACCOUNT_FIELD) if isinstance(row, dict) else None
        text = data.decode("utf-8", "backslashreplace")
        return dead_row(text, source, reason, account or validator.default_account, validator)


def _line_pattern(width: int, columns: list[int], account_column: int) -> tuple[Match, Pick]:
    """The fast path's matcher: a line without quotes whose two values are plain decimals.

    One regex call splits the line and vets both values' text (the validator's costliest
    checks); `pick` orders its groups as (account, inverter, timestamp, period,
    accumulated), the account "" when the file has no such column.
    """
    inv, ts, period, acc = columns
    parts = [_OTHER] * width
    for column in (inv, ts, account_column):
        if column >= 0:
            parts[column] = _TEXT
    parts[period] = parts[acc] = _PLAIN
    captured = sorted(c for c in (account_column, *columns) if c >= 0)
    shift = 1 if account_column < 0 else 0  # the empty group standing for the account
    slots = [captured.index(c) + shift if c >= 0 else 0 for c in (account_column, *columns)]
    pattern = re.compile(("()" if shift else "") + ",".join(parts) + r"\r?\n?")
    return pattern.fullmatch, operator.itemgetter(*slots)


def _quoted(text: str) -> list[str]:
    return next(csv.reader([text]), [])


def detect_format(path: str, given: str | None) -> Format:
    """The format named by `--format`, else by the file's extension."""
    if given is not None:
        if given not in ("csv", "jsonl"):
            raise ConfigError(f"--format: {given!r} is not csv or jsonl")
        return "jsonl" if given == "jsonl" else "csv"
    if path == "-":
        raise ConfigError("reading stdin (-) needs --format csv or --format jsonl")
    found = FORMATS.get(Path(path).suffix.lower())
    if found is None:
        raise ConfigError(f"{path}: cannot tell the format from the name; give --format")
    return found


def open_source(path: str, fmt: str | None = None) -> Source:
    """Open a file (or `-`, stdin) and check its header; ConfigError when it cannot be used."""
    kind = detect_format(path, fmt)
    if path == "-":
        stream, name, size = sys.stdin.buffer, "stdin", None
    else:
        try:
            stream, name = open(path, "rb"), path  # noqa: SIM115  (closed by Source.close)
            size = os.fstat(stream.fileno()).st_size
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    kinds = {"csv": CsvSource, "jsonl": JsonLinesSource}
    try:
        return kinds[kind](name, stream, size)
    except BaseException:
        if path != "-":
            stream.close()
        raise
