"""`uploader enqueue`: validate CSV or JSON Lines files and queue their records.

Exit 0 when every row was accepted, 1 when some were rejected (each is a dead letter naming
its file, line and reason; every good row is queued all the same), 2 for usage errors: a
file that cannot be read or lacks a column, an unknown --account, a bad configuration.

The summary counts rows: accepted = queued (new or changed) + unchanged (the queue held the
same values) + superseded (a later row of the same file has the same inverter and day, and
wins). The first rejections, superseded rows and rounded values are listed on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys

from uploader import commands
from uploader.commands import Subparsers
from uploader.config import Settings
from uploader.errors import ConfigError
from uploader.ingest.pipeline import Chunk, IngestSummary, ingest
from uploader.ingest.readers import CsvSource, Source, open_source
from uploader.ingest.validate import Validator
from uploader.observe.progress import Progress
from uploader.queue import Queue, open_queue

SHOWN_NOTES = 10  # rejections (and as many superseded rows, rounded values) shown on stderr


def add_parser(subparsers: Subparsers) -> None:
    """Register the command."""
    parser = subparsers.add_parser(
        "enqueue",
        help="validate files of daily records and queue them",
        description=(
            "Read CSV (header RemoteInvId,Timestamp,PeriodProductionInKWh,\n"
            "AccumulatedEnergyInKWh, optionally Account) or JSON Lines with the same keys,\n"
            "validate every row and queue the good ones. Rejected rows become dead letters."
        ),
        epilog=(
            "The summary counts rows: accepted = queued (new or changed) + unchanged + superseded\n"
            "(an earlier row of the same file with the same RemoteInvId and Timestamp: the later\n"
            "row wins). The first rejections, superseded rows and rounded values go to stderr.\n\n"
            "exit codes: 0 all accepted; 1 some rows rejected; 2 usage or configuration."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="input file; - reads stdin")
    parser.add_argument(
        "--account", metavar="ID", help="the account of rows without an Account value"
    )
    parser.add_argument(
        "--format", choices=("csv", "jsonl"), help="input format (default: by file extension)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Queue every file; the exit code says whether rows were rejected."""
    settings = commands.settings(args)
    if args.account is not None:
        settings.account(args.account)  # ConfigError naming the configured accounts
    sources = _open_all(args.files, args.format, args.account)
    try:
        summary = asyncio.run(_enqueue(settings, sources, args.account))
    except OSError as exc:  # a file that fails mid-read
        print(f"uploader: error: {exc}", file=sys.stderr)
        return 2
    finally:
        for source in sources:
            source.close()
    print(_summary_line(summary, len(sources)))
    return 1 if summary.rejected else 0


def _open_all(files: list[str], fmt: str | None, account: str | None) -> list[Source]:
    """Open every file before reading any, so a usage error queues nothing."""
    sources: list[Source] = []
    try:
        for path in files:
            source = open_source(path, fmt)
            sources.append(source)
            if isinstance(source, CsvSource) and source.account_column < 0 and account is None:
                raise ConfigError(f"{path}: no Account column; give --account ID")
    except BaseException:
        for source in sources:
            source.close()
        raise
    return sources


async def _enqueue(settings: Settings, sources: list[Source], account: str | None) -> IngestSummary:
    summary = IngestSummary()
    today = dt.date.today()
    async with open_queue(settings.queue) as queue:
        for source in sources:
            validator = Validator(
                settings.account_ids,
                today=today,
                decimals=settings.ingest.decimals,
                default_account=account,
            )
            await _one(source, validator, queue, summary)
    return summary


async def _one(source: Source, validator: Validator, queue: Queue, summary: IngestSummary) -> None:
    """Ingest one source, with a progress bar when stderr is a terminal."""
    progress = Progress(sys.stderr, source.size, source.name) if sys.stderr.isatty() else None
    start_rows = summary.rows
    notes = _Notes()

    def on_chunk(chunk: Chunk, total: IngestSummary) -> None:
        if progress is not None:
            progress.update(total.rows - start_rows, chunk.position)
        notes.show(chunk)

    try:
        await ingest(source.chunks(validator), queue, summary, on_chunk)
    finally:
        if progress is not None:
            progress.close()


class _Notes:
    """The first rejections, superseded rows and rounded values on stderr, then where the
    rest are (rejections: the dead letters; the others: counted in the summary)."""

    def __init__(self) -> None:
        self.shown = {"rejections": 0, "superseded rows": 0, "rounded values": 0}

    def show(self, chunk: Chunk) -> None:
        self._lines("rejections", [f"{row.source}: {row.reason}" for row in chunk.dead])
        self._lines(
            "superseded rows",
            [
                f"{row.source}: superseded by line {row.by} (same RemoteInvId and Timestamp)"
                for row in chunk.superseded
            ],
        )
        self._lines(
            "rounded values",
            [f"{r.source}: {r.field} {r.given} rounded to {r.kept}" for r in chunk.rounded],
        )

    def _lines(self, kind: str, lines: list[str]) -> None:
        for line in lines:
            if self.shown[kind] < SHOWN_NOTES:
                print(line, file=sys.stderr)
            elif self.shown[kind] == SHOWN_NOTES:
                where = "uploader dead-letter list" if kind == "rejections" else "in the summary"
                print(f"... more {kind}: {where}", file=sys.stderr)
            else:
                break
            self.shown[kind] += 1


def _summary_line(summary: IngestSummary, files: int) -> str:
    return (
        f"{summary.rows:,} rows from {files} file{'s' if files != 1 else ''}: "
        f"accepted {summary.accepted:,} ({summary.queued:,} queued, {summary.unchanged:,} "
        f"unchanged, {summary.superseded:,} superseded), "
        f"rejected {summary.rejected:,}, flagged {summary.flagged:,} "
        f"({summary.flags.before_claimable:,} before the earliest claimable date, "
        f"{summary.flags.accumulated_falls:,} with a falling accumulated value), "
        f"rounded {summary.rounded:,}"
    )
