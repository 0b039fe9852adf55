"""What every section of the suite shares: run modes, medians with their spread, the simulator.

Every figure of the suite is a `Spread`: the median of several runs with their minimum and
maximum. Comparisons are ratios of figures measured in the same run, side by side.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import statistics
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import msgspec
import structlog

SIM_READY = "simulator listening on "
SIM_START_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Mode:
    """How much work a run does: `quick` (CI smoke), default, or `full` (adds the largest)."""

    quick: bool = False
    full: bool = False
    scratch: Path = Path("/tmp")  # where backlogs, databases and CSV files go

    def pick(self, quick: int, default: int, full: int | None = None) -> int:
        """The size (or repeat count) for this mode."""
        if self.quick:
            return quick
        if self.full and full is not None:
            return full
        return default


class Spread(msgspec.Struct, frozen=True):
    """The median of several runs, with the least and the greatest."""

    median: float
    low: float
    high: float
    runs: int

    def scaled(self, factor: float) -> Spread:
        """The same spread in other units (µs from s, records/s from s per record...)."""
        values = sorted((self.low * factor, self.high * factor))
        return Spread(self.median * factor, values[0], values[1], self.runs)

    def fmt(self, digits: int = 0, unit: str = "") -> str:
        """`1,234 (1,100-1,300)`: the median, then the range in brackets."""
        f = f"{{:,.{digits}f}}"
        return f"{f.format(self.median)}{unit} ({f.format(self.low)}–{f.format(self.high)})"


def spread(values: Sequence[float]) -> Spread:
    """The spread of some runs' values."""
    if not values:
        raise ValueError("no runs")
    return Spread(statistics.median(values), min(values), max(values), len(values))


def inverse(values: Sequence[float], numerator: float) -> Spread:
    """The spread of `numerator / value` (a rate from durations); min and max swap places."""
    return spread([numerator / v for v in values])


def quiet_logs() -> None:
    """The product logs one line per batch at INFO; the benchmark keeps only warnings."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat(5))
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass
class Simulator:
    """`uploader simulate` in its own process (its own core and GIL), on 127.0.0.1:0."""

    proc: subprocess.Popen[str]
    url: str

    @property
    def cpu_s(self) -> float:
        """CPU seconds the simulator has used so far."""
        return process_cpu_s(self.proc.pid)


@contextlib.contextmanager
def simulator(*flags: str) -> Iterator[Simulator]:
    """Start the simulator with limits lifted (unless `flags` set them), open auth."""
    lifted = ["--account-limit", "100000000/1s", "--ip-limit", "100000000/1s"]
    command = [sys.executable, "-m", "uploader", "simulate", "--port", "0", "--open-inverters"]
    command += ["--keep-bodies", "0", *lifted, *flags]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith(SIM_READY):
            raise RuntimeError(f"the simulator did not start: {line!r}")
        yield Simulator(proc, line.removeprefix(SIM_READY).strip())
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=SIM_START_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def remove_db(path: Path) -> None:
    """Delete an SQLite file with its WAL and shared-memory companions."""
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
