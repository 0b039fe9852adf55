"""`python -m benchmarks`: run the suite, write docs/benchmarks.md and its charts.

    .venv/bin/python -m benchmarks [--quick | --full] [--only SECTION[,SECTION]] [--out DIR]
    .venv/bin/python -m benchmarks --render   (the report again from benchmarks.json)

Sections: budget, push, codec, scale, day, others, failover, accounts. Results are also kept as JSON
beside the report (`benchmarks.json`), so `--only` re-runs some sections and re-renders the
whole report with the others' last figures.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import shlex
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import msgspec

from benchmarks import (
    bench_accounts,
    bench_budget,
    bench_codec,
    bench_day,
    bench_failover,
    bench_push,
    bench_scale,
    others,
    reading,
    report,
)
from benchmarks.common import Mode, quiet_logs

DOCS = Path(__file__).resolve().parent.parent / "docs"


@dataclass(frozen=True)
class Section:
    """One section of the report."""

    title: str
    module: ModuleType
    result: type[Any]


SECTIONS = {
    "budget": Section("Budget use under the registry's windows", bench_budget,
                      bench_budget.BudgetResult),
    "push": Section("Push-path efficiency with the limits lifted", bench_push,
                    bench_push.PushResult),
    "codec": Section("Codec: building and encoding bodies", bench_codec, bench_codec.CodecResult),
    "scale": Section("Scale: enqueue, drain and memory as the backlog grows", bench_scale,
                     bench_scale.ScaleResult),
    "day": Section("Drain time of realistic days at the real limits", bench_day,
                   bench_day.DayResult),
    "others": Section("The single-purpose scripts: simulator, limiter, queue", others,
                      others.OthersResult),
    "failover": Section("Failover: a fleet on Redis serving a dead replica's accounts",
                        bench_failover, bench_failover.FailoverResult),
    "accounts": Section("Many accounts: idle cost and the shared IP budget", bench_accounts,
                        bench_accounts.AccountsResult),
}  # fmt: skip


class Saved(msgspec.Struct):
    """What benchmarks.json keeps: each section's result (as JSON) and the run's header."""

    machine: report.Machine
    quick: bool
    results: dict[str, msgspec.Raw]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="CI smoke: under 2 minutes")
    size.add_argument("--full", action="store_true", help="add the largest backlogs (5 M)")
    parser.add_argument("--only", help=f"comma-separated sections of: {', '.join(SECTIONS)}")
    parser.add_argument("--out", type=Path, default=DOCS, help="report directory (docs/)")
    parser.add_argument(
        "--render", action="store_true", help="run nothing: rewrite the report from its JSON"
    )
    args = parser.parse_args(argv)
    args.sections = [] if args.render else _sections(parser, args.only)
    return args


def _sections(parser: argparse.ArgumentParser, only: str | None) -> list[str]:
    if only is None:
        return list(SECTIONS)
    chosen = [name.strip() for name in only.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    return chosen


def main(argv: list[str] | None = None) -> int:
    """Run the chosen sections, then write the report with every section's last figures."""
    args = parse_args(argv)
    quiet_logs()
    args.out.mkdir(parents=True, exist_ok=True)
    command = shlex.join(["python", "-m", "benchmarks", *(sys.argv[1:] if argv is None else argv)])
    saved = _load(args.out / "benchmarks.json") if args.sections != list(SECTIONS) else None
    results: dict[str, Any] = _decode(saved) if saved else {}
    if args.render and saved is not None:
        command, args.quick = saved.machine.command, saved.quick
    with tempfile.TemporaryDirectory(prefix="uploader-bench-") as scratch:
        mode = Mode(quick=args.quick, full=args.full, scratch=Path(scratch))
        for name in args.sections:
            results[name] = _run(name, mode)
    machine = saved.machine if args.render and saved is not None else report.machine(command)
    _save(args.out / "benchmarks.json", machine, args.quick, results)
    _write(args.out, machine, args.quick, results)
    return 0


def _run(name: str, mode: Mode) -> Any:
    started = time.perf_counter()
    print(f"[{name}] running...", file=sys.stderr, flush=True)
    outcome = SECTIONS[name].module.measure(mode)
    result = asyncio.run(outcome) if inspect.iscoroutine(outcome) else outcome
    print(f"[{name}] done in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    return result


def _load(path: Path) -> Saved | None:
    try:
        return msgspec.json.decode(path.read_bytes(), type=Saved)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return None


def _decode(saved: Saved) -> dict[str, Any]:
    results = {}
    for name, raw in saved.results.items():
        if name in SECTIONS:
            try:
                results[name] = msgspec.json.decode(raw, type=SECTIONS[name].result)
            except msgspec.ValidationError:
                continue  # a section whose shape changed since: it is simply re-run next time
    return results


def _save(path: Path, machine: report.Machine, quick: bool, results: dict[str, Any]) -> None:
    raw = {name: msgspec.Raw(msgspec.json.encode(r)) for name, r in results.items()}
    path.write_bytes(msgspec.json.format(msgspec.json.encode(Saved(machine, quick, raw))))


def _write(out: Path, machine: report.Machine, quick: bool, results: dict[str, Any]) -> None:
    parts = [report.header(machine, quick), reading.summary(results)]
    for number, (name, section) in enumerate(SECTIONS.items(), 1):
        if name not in results:
            continue
        render: Callable[[Any], str] = section.module.render
        paths = section.module.chart(results[name], out)
        command = f".venv/bin/python -m benchmarks --only {name}"
        parts.append(
            report.section(number, section.title, command, render(results[name]),
                           [p.name for p in paths])
        )  # fmt: skip
    parts.append(reading.closing(results))
    (out / "benchmarks.md").write_text("\n\n".join(p.strip() for p in parts) + "\n")
    print(f"wrote {out / 'benchmarks.md'}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
