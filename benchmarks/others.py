"""Section 6: the figures of the suite's single-purpose scripts, run in the same session.

The simulator's throughput (`bench_simulator`), the limiter comparison (`bench_limiter`), and
the queue's enqueue and claim+ack figures with the `sqlite3 .import` ceiling
(`bench_enqueue`, `bench_queue`). Each script runs in its own process; its printed table goes
into the report as it is. A script that is missing or fails is reported, not hidden.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from pathlib import Path

import msgspec

from benchmarks import bench_simulator, charts
from benchmarks.common import Mode, Spread, spread

SCRIPTS = {
    "bench_limiter": "Limiter: KeyedLimiter against asyncio-throttle and aiolimiter",
    "bench_enqueue": "Queue: enqueue of a CSV file through the CLI, beside `sqlite3 .import`",
    "bench_queue": "Queue: claim + ack throughput of the SQLite and Redis backends",
}
SCRIPT_TIMEOUT_S = 420
WITH_FULL = frozenset({"bench_enqueue", "bench_queue"})  # the scripts that take --full


class ScriptRun(msgspec.Struct):
    """One script's output."""

    title: str
    command: str
    exit_code: int | None  # None: not there
    seconds: float
    output: str


class OthersResult(msgspec.Struct):
    """The simulator's records/s, and every other script's output."""

    simulator_rate: Spread
    simulator_goal: int
    scripts: list[ScriptRun]


async def measure(mode: Mode) -> OthersResult:
    """Run the simulator benchmark in this process, the others as their own processes."""
    runs, requests = (3, 100) if mode.quick else (5, 400)
    rates = await bench_simulator.bench(runs, 4, requests)
    scripts = [_script(name, title, mode) for name, title in SCRIPTS.items()]
    return OthersResult(spread(rates), bench_simulator.GOAL, scripts)


def _script(name: str, title: str, mode: Mode) -> ScriptRun:
    args = ["--quick"] if mode.quick else ["--full"] if mode.full and name in WITH_FULL else []
    command = " ".join([".venv/bin/python", "-m", f"benchmarks.{name}", *args])
    if importlib.util.find_spec(f"benchmarks.{name}") is None:
        return ScriptRun(title, command, None, 0.0, "")
    started = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-m", f"benchmarks.{name}", *args],
            capture_output=True, text=True, timeout=SCRIPT_TIMEOUT_S, check=False,
        )  # fmt: skip
        code, output = done.returncode, done.stdout + _tail(done.stderr, done.returncode)
    except subprocess.TimeoutExpired:
        code, output = -1, f"(stopped after {SCRIPT_TIMEOUT_S} s)"
    return ScriptRun(title, command, code, time.perf_counter() - started, output.strip())


def _tail(stderr: str, code: int) -> str:
    return "" if code == 0 else "\n" + "\n".join(stderr.strip().splitlines()[-10:])


def render(r: OthersResult) -> str:
    """The section's markdown: the simulator's figure, then each script's output."""
    verdict = "met" if r.simulator_rate.median >= r.simulator_goal else "**missed**"
    lines = [
        "**Simulator** (`.venv/bin/python -m benchmarks.bench_simulator`): pre-encoded "
        "3000-record batch bodies over 4 connections to `uploader simulate` in its own "
        f"process: **{r.simulator_rate.fmt()} records/s** (median of "
        f"{r.simulator_rate.runs}; goal ≥ {r.simulator_goal:,}: {verdict}).",
    ]
    for run in r.scripts:
        lines += ["", f"**{run.title}** (`{run.command}`)", ""]
        if run.exit_code is None:
            lines.append("Not run: the script is not in this checkout.")
            continue
        if run.exit_code != 0:
            lines.append(f"The script exited {run.exit_code} after {run.seconds:.0f} s:")
            lines.append("")
        lines += _as_markdown(run.output)
    return "\n".join(lines)


def _as_markdown(output: str) -> list[str]:
    """Output that is markdown already (a table, a fence) as it is; anything else as a block."""
    if any(line.startswith(("|", "```")) for line in output.splitlines()):
        return output.splitlines()
    return ["```", *output.splitlines(), "```"]


def chart(r: OthersResult, out: Path) -> list[Path]:
    """The simulator's records/s against its goal."""
    path = out / "bench-simulator.png"
    charts.bars(
        path, "Simulator: records/s accepted (median, min–max)", "records/s",
        {"simulator": r.simulator_rate}, goal=r.simulator_goal, goal_label="goal 500,000",
    )  # fmt: skip
    return [path]
