"""Section 4: enqueue and drain as the backlog grows, and the memory each takes.

    .venv/bin/python -m benchmarks --only scale   (add --full for 5 M records)

For each size a CSV file (5 accounts, 100 days per inverter) is read, validated and queued
by the ingest path `uploader enqueue` uses, into a fresh SQLite queue; then the product
drains that queue into a fresh simulator process with the limits lifted. Each step runs
in a process of its own (`benchmarks.scale_child`), so its peak RSS is its own.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import msgspec

from benchmarks import backlog, charts
from benchmarks.common import Mode, Spread, remove_db, simulator, spread
from benchmarks.scale_child import StepResult

ACCOUNTS = 5
DAYS = 100
MIB = 1024 * 1024
CHILD_TIMEOUT_S = 900


class SizeRow(msgspec.Struct):
    """One backlog size: spreads over the rounds."""

    records: int
    enqueue_rate: Spread
    drain_rate: Spread
    enqueue_rss_mib: Spread
    drain_rss_mib: Spread


class ScaleResult(msgspec.Struct):
    """What section 4 measured, smallest backlog first."""

    rows: list[SizeRow]


def sizes(mode: Mode) -> list[tuple[int, int]]:
    """(records, rounds) for this mode."""
    if mode.quick:
        return [(10_000, 2), (100_000, 2)]
    chosen = [(10_000, 3), (100_000, 3), (1_000_000, 3)]
    return [*chosen, (5_000_000, 2)] if mode.full else chosen


def measure(mode: Mode) -> ScaleResult:
    """Every size, round after round: enqueue then drain."""
    rows = []
    for records, rounds in sizes(mode):
        csv = mode.scratch / f"scale-{records}.csv"
        inverters = records // (ACCOUNTS * DAYS)
        backlog.write_csv(csv, ACCOUNTS, inverters, DAYS)
        steps = [_round(mode, csv) for _ in range(rounds)]
        csv.unlink()
        rows.append(_row(records, steps))
    return ScaleResult(rows)


def _round(mode: Mode, csv: Path) -> tuple[StepResult, StepResult]:
    db = mode.scratch / "scale.db"
    remove_db(db)
    enqueued = _child("enqueue", str(csv), str(db), str(ACCOUNTS))
    with simulator() as sim:  # a fresh one: what it stores grows with the backlog
        drained = _child("drain", str(db), sim.url, str(ACCOUNTS))
    remove_db(db)
    return enqueued, drained


def _child(*args: str) -> StepResult:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.scale_child", *args],
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"scale_child {args[0]} failed: {done.stderr[-2000:]}")
    return msgspec.json.decode(done.stdout.strip().splitlines()[-1], type=StepResult)


def _row(records: int, steps: list[tuple[StepResult, StepResult]]) -> SizeRow:
    return SizeRow(
        records=records,
        enqueue_rate=spread([e.records / e.seconds for e, _ in steps]),
        drain_rate=spread([d.records / d.seconds for _, d in steps]),
        enqueue_rss_mib=spread([e.peak_rss / MIB for e, _ in steps]),
        drain_rss_mib=spread([d.peak_rss / MIB for _, d in steps]),
    )


def render(r: ScaleResult) -> str:
    """The section's markdown."""
    lines = [
        f"{ACCOUNTS} accounts, {DAYS} days per inverter; enqueue = read + validate + queue a "
        "CSV file (the ingest path of `uploader enqueue`); drain = `Uploader.run(drain=True)` "
        "into a fresh simulator process, limits lifted. Peak RSS is each step's whole "
        "process (the interpreter and its imports included). Median (min–max).",
        "",
        "| records | enqueue records/s | drain records/s | enqueue peak RSS MiB"
        " | drain peak RSS MiB | rounds |",
        "|---|---|---|---|---|---|",
    ]
    for row in r.rows:
        lines.append(
            f"| {row.records:,} | {row.enqueue_rate.fmt()} | {row.drain_rate.fmt()} | "
            f"{row.enqueue_rss_mib.fmt()} | {row.drain_rss_mib.fmt()} | "
            f"{row.enqueue_rate.runs} |"
        )
    return "\n".join(lines)


def chart(r: ScaleResult, out: Path) -> list[Path]:
    """Records/s and peak RSS against the backlog's size."""
    path = out / "bench-scale.png"
    xs = [float(row.records) for row in r.rows]
    charts.lines(
        path,
        "Scale: rates and peak memory as the backlog grows (median, min–max)",
        xs,
        {
            "records/s": {
                "enqueue": [row.enqueue_rate for row in r.rows],
                "drain": [row.drain_rate for row in r.rows],
            },
            "peak RSS (MiB)": {
                "enqueue": [row.enqueue_rss_mib for row in r.rows],
                "drain": [row.drain_rss_mib for row in r.rows],
            },
        },
    )
    return [path]
