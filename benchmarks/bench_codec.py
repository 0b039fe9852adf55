"""Section 3: building and encoding 3000-record batch bodies, four ways.

    .venv/bin/python -m benchmarks --only codec

Every way starts from what a claim hands out (`QueuedRecord`s, values as canonical decimal
text) and ends with the body's bytes; "build" makes the objects (or text), "encode" makes
bytes of them. Two shapes: a daily upload (3000 inverters x 1 day) and a backfill (10
inverters x 300 days). Each figure is the median of several timed runs.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import orjson

from benchmarks import backlog, charts
from benchmarks.common import Mode, Spread, spread
from uploader.push import batcher
from uploader.push.endpoints import ENDPOINTS
from uploader.queue import QueuedRecord
from uploader.registry.wire import BatchGenerationRequest, DailyData, InverterDailyData
from uploader.registry.wire.codec import string_encoder

SHAPES = {
    "daily: 3000 inverters × 1 day": (3000, 1),
    "backfill: 10 inverters × 300 days": (10, 300),
}

Build = Callable[[Sequence[QueuedRecord]], Any]
Encode = Callable[[Any], bytes]


class TextDaily(msgspec.Struct, gc=False):
    """A day with its values kept as the queue's text (no Decimal, no date parsing)."""

    Timestamp: str
    PeriodProductionInKWh: str
    AccumulatedEnergyInKWh: str


class TextDevice(msgspec.Struct, gc=False):
    """One inverter's days, text values."""

    RemoteInvId: str
    Data: list[TextDaily]


class TextBatch(msgspec.Struct, gc=False):
    """A batch body, text values."""

    Devices: list[TextDevice]


def _runs(records: Sequence[QueuedRecord]) -> list[list[QueuedRecord]]:
    """Each inverter's consecutive records (a claim hands them out grouped)."""
    return [list(run) for _, run in itertools.groupby(records, key=lambda r: r.remote_inv_id)]


def wire_structs(records: Sequence[QueuedRecord]) -> BatchGenerationRequest:
    """The wire types, values parsed into Decimal and date as the types declare."""
    return BatchGenerationRequest(
        Devices=[
            InverterDailyData(
                RemoteInvId=run[0].remote_inv_id,
                Data=[
                    DailyData(
                        Timestamp=dt.date.fromisoformat(r.day),
                        PeriodProductionInKWh=Decimal(r.period_kwh),
                        AccumulatedEnergyInKWh=Decimal(r.accumulated_kwh),
                    )
                    for r in run
                ],
            )
            for run in _runs(records)
        ]
    )


def text_structs(records: Sequence[QueuedRecord]) -> TextBatch:
    """Structs whose fields are the queue's text, encoded as JSON strings."""
    return TextBatch(
        [
            TextDevice(
                run[0].remote_inv_id,
                [TextDaily(r.day, r.period_kwh, r.accumulated_kwh) for r in run],
            )
            for run in _runs(records)
        ]
    )


def dicts(records: Sequence[QueuedRecord]) -> dict[str, Any]:
    """Plain dicts of text, as a script would build them."""
    return {
        "Devices": [
            {
                "RemoteInvId": run[0].remote_inv_id,
                "Data": [
                    {
                        "Timestamp": r.day,
                        "PeriodProductionInKWh": r.period_kwh,
                        "AccumulatedEnergyInKWh": r.accumulated_kwh,
                    }
                    for r in run
                ],
            }
            for run in _runs(records)
        ]
    }


def product_text(records: Sequence[QueuedRecord]) -> str:
    """What `batcher.build` does before its last step: the body as text."""
    return batcher.build(records, ENDPOINTS["batch"]).body.decode()


_text_encoder = msgspec.json.Encoder()
WAYS: dict[str, tuple[Build, Encode]] = {
    "msgspec, wire Structs (Decimal, date)": (wire_structs, string_encoder.encode),
    "msgspec, Structs of text": (text_structs, _text_encoder.encode),
    "orjson, dicts": (dicts, orjson.dumps),
    "stdlib json, dicts": (dicts, lambda d: json.dumps(d, separators=(",", ":")).encode()),
    "product: batcher.build (text, then bytes)": (product_text, str.encode),
}
SHORT = dict(
    zip(WAYS, ("msgspec wire", "msgspec text", "orjson", "stdlib json", "product"), strict=True)
)


class CodecRow(msgspec.Struct):
    """One way on one shape: records per second of build, encode and both."""

    build: Spread
    encode: Spread
    total: Spread


class CodecResult(msgspec.Struct):
    """What section 3 measured: shape -> way -> rates."""

    runs: int
    bodies: int
    rows: dict[str, dict[str, CodecRow]]
    product_build_us: float  # the product's whole `batcher.build`, µs per record (daily shape)


def measure(mode: Mode) -> CodecResult:
    """Time every way on both shapes; equal bodies are checked first."""
    runs, bodies = mode.pick(3, 7, 9), mode.pick(3, 10, 10)
    rows: dict[str, dict[str, CodecRow]] = {}
    for shape, (inverters, days) in SHAPES.items():
        records = backlog.as_queued(backlog.fleet_records(1, inverters, days))
        _check_equal(records)
        rows[shape] = {way: _time_way(records, *fns, runs, bodies) for way, fns in WAYS.items()}
    daily = backlog.as_queued(backlog.fleet_records(1, 3000, 1))
    whole = _best(lambda: batcher.build(daily, ENDPOINTS["batch"]), runs, bodies)
    return CodecResult(runs, bodies, rows, whole / len(daily) * 1e6)


def _check_equal(records: Sequence[QueuedRecord]) -> None:
    """Every way must produce the same JSON document as the product."""
    expected = json.loads(batcher.build(records, ENDPOINTS["batch"]).body)
    for way, (build, encode) in WAYS.items():
        if json.loads(encode(build(records))) != expected:
            raise AssertionError(f"{way} builds another body than the product")


def _time_way(
    records: Sequence[QueuedRecord], build: Build, encode: Encode, runs: int, bodies: int
) -> CodecRow:
    built, encoded = [], []
    for _ in range(runs):
        started = time.perf_counter()
        objects = [build(records) for _ in range(bodies)]
        middle = time.perf_counter()
        for obj in objects:
            encode(obj)
        built.append(middle - started)
        encoded.append(time.perf_counter() - middle)
    n = len(records) * bodies
    return CodecRow(
        build=spread([n / t for t in built]),
        encode=spread([n / t for t in encoded]),
        total=spread([n / (a + b) for a, b in zip(built, encoded, strict=True)]),
    )


def _best(fn: Callable[[], object], runs: int, bodies: int) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        for _ in range(bodies):
            fn()
        best = min(best, (time.perf_counter() - started) / bodies)
    return best


def render(r: CodecResult) -> str:
    """The section's markdown: one table per shape."""
    lines = [
        f"Median of {r.runs} runs of {r.bodies} bodies each (min–max); records per second, "
        "higher is better. Each way was first checked to produce the product's JSON document.",
    ]
    for shape, ways in r.rows.items():
        lines += ["", f"**{shape}**", "", "| way | build | encode | build + encode |"]
        lines.append("|---|---|---|---|")
        for way, row in ways.items():
            lines.append(f"| {way} | {row.build.fmt()} | {row.encode.fmt()} | {row.total.fmt()} |")
    lines += [
        "",
        f"The product's whole `batcher.build` (daily shape, best run): "
        f"{r.product_build_us:.3f} µs per record.",
    ]
    return "\n".join(lines)


def chart(r: CodecResult, out: Path) -> list[Path]:
    """Build + encode records/s, grouped by shape."""
    path = out / "bench-codec.png"
    groups = {
        shape.split(":")[0]: {SHORT[way]: row.total for way, row in ways.items()}
        for shape, ways in r.rows.items()
    }
    charts.grouped_bars(path, "Build + encode 3000-record bodies (records/s)", "records/s", groups)
    return [path]
