"""One measured step of the scale section, in a process of its own (so its peak RSS is its own).

    python -m benchmarks.scale_child enqueue FILE.csv QUEUE.db ACCOUNTS
    python -m benchmarks.scale_child drain QUEUE.db URL ACCOUNTS

Prints one JSON line: seconds, CPU seconds and records of the step, and the process's peak
RSS in bytes (VmHWM), imports and all.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import resource
import sys
import time
from pathlib import Path

import msgspec

from benchmarks import backlog, product
from benchmarks.common import quiet_logs
from uploader.ingest.pipeline import ingest
from uploader.ingest.readers import open_source
from uploader.ingest.validate import Validator
from uploader.queue import open_queue


class StepResult(msgspec.Struct):
    """What one step measured."""

    seconds: float
    cpu_s: float
    records: int
    peak_rss: int


async def enqueue(csv: str, db: str, accounts: int) -> StepResult:
    """Read, validate and queue a CSV file, as `uploader enqueue` does."""
    validator = Validator(backlog.account_names(accounts), today=dt.date.today())
    source = open_source(csv)
    try:
        async with open_queue(f"sqlite:///{db}") as queue:
            cpu, started = time.process_time(), time.perf_counter()
            summary = await ingest(source.chunks(validator), queue)
            seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu
    finally:
        source.close()
    if summary.rejected:
        raise RuntimeError(f"{summary.rejected} rows were rejected")
    return StepResult(seconds, cpu_s, summary.accepted, _peak_rss())


async def drain(db: str, url: str, accounts: int) -> StepResult:
    """Drain the queue into the simulator with the limits lifted."""
    records = backlog.pending_count(Path(db))
    names = backlog.account_names(accounts)
    timing = await product.drain(product.settings_for(Path(db), url, names))
    if backlog.pending_count(Path(db)):
        raise RuntimeError("the drain left records pending")
    return StepResult(timing.wall_s, timing.cpu_s, records, _peak_rss())


def _peak_rss() -> int:
    """This process image's peak RSS in bytes.

    Not `ru_maxrss`: Linux carries the parent's peak across fork and exec into it, so a
    child of a large parent would report the parent's size.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main(argv: list[str]) -> None:
    """Run one step and print its result."""
    quiet_logs()
    step, a, b, accounts = argv
    coroutine = enqueue(a, b, int(accounts)) if step == "enqueue" else drain(a, b, int(accounts))
    print(msgspec.json.encode(asyncio.run(coroutine)).decode(), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
