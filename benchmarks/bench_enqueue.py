"""Enqueue of a CSV file end to end through the CLI, beside the sqlite3 shell's `.import`.

    .venv/bin/python -m benchmarks.bench_enqueue [--quick | --full] [--scratch DIR]

A CSV of plausible records (an Account column, 250 days per inverter, three decimals) is
written once. Each run then times, side by side: `uploader enqueue FILE` in a fresh process
(reading, validation, the SQLite queue with its indexes and fsync'd commits: everything a user
waits for), and the `sqlite3` shell importing the same file into a table with the same primary
key (account, inverter, day) in WAL mode with `synchronous=FULL`: the ceiling, storage without
validation or queue bookkeeping. Peak memory and CPU time are each child's own (`wait4`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import msgspec

from benchmarks import backlog
from benchmarks.common import Mode, Spread, inverse, remove_db, spread

DAYS = 250
GOAL_RATE = 150_000  # records per second, end to end
GOAL_RSS_MB = 150

IMPORT_SCRIPT = """\
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
CREATE TABLE records (Account TEXT, RemoteInvId TEXT, Timestamp TEXT,
    PeriodProductionInKWh TEXT, AccumulatedEnergyInKWh TEXT,
    PRIMARY KEY (Account, RemoteInvId, Timestamp));
.mode csv
.import --skip 1 {csv} records
"""


class Child(msgspec.Struct, frozen=True):
    """One child process's wall time, CPU time and peak resident memory."""

    wall_s: float
    cpu_s: float
    rss_mb: float


class EnqueueResult(msgspec.Struct):
    """What this benchmark measured."""

    rows: int
    runs: int
    cores: int
    load: float  # the 1-minute load average when the runs began
    product_rate: Spread
    ceiling_rate: Spread
    ratio: Spread  # product time / ceiling time, run by run
    product_cpu_us: Spread
    ceiling_cpu_us: Spread
    product_rss_mb: float  # the highest of the runs
    ceiling_rss_mb: float


def timed(command: list[str], stdin: str | None = None) -> tuple[Child, str]:
    """Run a child to its end; its own rusage (wait4) and its stdout."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=out, stderr=err, text=True)
        assert proc.stdin is not None
        proc.stdin.write(stdin or "")
        proc.stdin.close()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise RuntimeError(f"{command[0]} failed ({proc.returncode}): {err.read()[-400:]}")
        cpu = usage.ru_utime + usage.ru_stime
        return Child(wall, cpu, usage.ru_maxrss / 1024), out.read()  # ru_maxrss: KiB on Linux


def write_config(path: Path, db: Path) -> None:
    """The uploader's configuration: the queue file and the CSV's one account."""
    (account,) = backlog.account_names(1)
    path.write_text(f'queue = "sqlite:///{db}"\n\n[[accounts]]\nid = "{account}"\ntoken = "x"\n')


def product_run(config: Path, db: Path, csv: Path, rows: int) -> Child:
    """`uploader enqueue` of the whole file into a fresh queue."""
    remove_db(db)
    command = [sys.executable, "-m", "uploader", "--config", str(config), "enqueue", str(csv)]
    child, out = timed(command)
    if f"accepted {rows:,} ({rows:,} queued" not in out:
        raise RuntimeError(f"the enqueue did not queue every row: {out.strip()}")
    return child


def ceiling_run(db: Path, csv: Path) -> Child:
    """The sqlite3 shell's `.import` of the same file into a fresh database."""
    remove_db(db)
    child, _ = timed(["sqlite3", str(db)], IMPORT_SCRIPT.format(csv=csv))
    return child


async def measure(mode: Mode) -> EnqueueResult:
    """Write the CSV, then run product and ceiling side by side, run after run."""
    rows = mode.pick(100_000, 1_000_000, 2_000_000)
    runs = mode.pick(1, 3, 5)
    csv, config = mode.scratch / "enqueue.csv", mode.scratch / "enqueue.toml"
    db, ceiling_db = mode.scratch / "enqueue.db", mode.scratch / "enqueue-import.db"
    rows = backlog.write_csv(csv, 1, rows // DAYS, DAYS)
    write_config(config, db)
    load = os.getloadavg()[0]
    product: list[Child] = []
    ceiling: list[Child] = []
    try:
        for _ in range(runs):
            product.append(product_run(config, db, csv, rows))
            ceiling.append(ceiling_run(ceiling_db, csv))
    finally:
        for path in (db, ceiling_db):
            remove_db(path)
        csv.unlink(missing_ok=True)
        config.unlink(missing_ok=True)
    return _result(rows, runs, load, product, ceiling)


def _result(
    rows: int, runs: int, load: float, product: list[Child], ceiling: list[Child]
) -> EnqueueResult:
    per_us = 1e6 / rows
    return EnqueueResult(
        rows=rows,
        runs=runs,
        cores=os.cpu_count() or 0,
        load=load,
        product_rate=inverse([c.wall_s for c in product], rows),
        ceiling_rate=inverse([c.wall_s for c in ceiling], rows),
        ratio=spread([p.wall_s / c.wall_s for p, c in zip(product, ceiling, strict=True)]),
        product_cpu_us=spread([c.cpu_s for c in product]).scaled(per_us),
        ceiling_cpu_us=spread([c.cpu_s for c in ceiling]).scaled(per_us),
        product_rss_mb=max(c.rss_mb for c in product),
        ceiling_rss_mb=max(c.rss_mb for c in ceiling),
    )


def render(r: EnqueueResult) -> str:
    """The section's markdown."""
    rate_ok = r.product_rate.median >= GOAL_RATE
    rss_ok = r.product_rss_mb < GOAL_RSS_MB
    return "\n".join(
        [
            f"A {r.rows:,}-row CSV (one account, {DAYS} days per inverter); {r.runs} runs, each "
            f"the product then the ceiling; {r.cores} cores, load average {r.load:.2f} at start.",
            "",
            "| run | records/s | CPU µs/record | peak RSS |",
            "|---|---|---|---|",
            f"| `uploader enqueue FILE` (validation, queue, fsync'd commits) "
            f"| {r.product_rate.fmt()} | {r.product_cpu_us.fmt(2)} | {r.product_rss_mb:.0f} MB |",
            f"| ceiling: `sqlite3` shell `.import`, same primary key "
            f"| {r.ceiling_rate.fmt()} | {r.ceiling_cpu_us.fmt(2)} | {r.ceiling_rss_mb:.0f} MB |",
            "",
            f"- Product time ÷ ceiling time, run by run: {r.ratio.fmt(2)}×.",
            f"- Throughput: **{r.product_rate.median:,.0f} records/s** (goal ≥ {GOAL_RATE:,}): "
            + ("met." if rate_ok else "**missed**."),
            f"- Peak memory: **{r.product_rss_mb:.0f} MB** (goal < {GOAL_RSS_MB} MB): "
            + ("met." if rss_ok else "**missed**."),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark alone and print its section."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="100,000 rows, one run")
    parser.add_argument("--full", action="store_true", help="2,000,000 rows, five runs")
    parser.add_argument("--scratch", type=Path, default=Path("/tmp"), help="where files go")
    args = parser.parse_args(argv)
    result = asyncio.run(measure(Mode(args.quick, args.full, args.scratch)))
    print(render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
