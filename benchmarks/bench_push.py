"""Section 2: the push path with the limits lifted, against its two ceilings, side by side.

    .venv/bin/python -m benchmarks --only push

One backlog (4 accounts, a plausible fleet) is enqueued once into a template queue file.
Each round then runs, against one simulator process with its limits lifted: the storage
ceiling (a bare sqlite3 loop reading and deleting a copy's rows in 3000-row batches), the
HTTP ceiling (a bare aiohttp client posting the product's own 3000-record bodies over the
product's 8 connections) and the product (`Uploader.run(drain=True)` on another copy). A last,
instrumented drain splits the product's CPU time by stage.
"""

from __future__ import annotations

import time
from pathlib import Path

import msgspec

from benchmarks import backlog, ceilings, charts, product
from benchmarks.common import Mode, Simulator, Spread, inverse, simulator, spread

ACCOUNTS = 4
DAYS = 250
GOAL_RATE = 300_000  # records per second, never under
GOAL_RATIO, AIM_RATIO = 3.0, 1.5  # product time / (storage + HTTP ceiling times)


class PushResult(msgspec.Struct):
    """What section 2 measured."""

    records: int
    batches: int
    rounds: int
    product_s: Spread
    sqlite_s: Spread
    http_s: Spread
    ratio: Spread  # product / (sqlite + http), round by round
    product_rate: Spread
    sqlite_rate: Spread
    http_rate: Spread
    product_cpu_us: Spread  # the uploader process, all threads, per record
    sqlite_cpu_us: Spread
    http_cpu_us: Spread  # the bare client's process
    server_cpu_us: Spread  # the simulator's process while the product drained
    stages_us: dict[str, float]  # per record, from the instrumented drain
    encode_us: float


async def measure(mode: Mode) -> PushResult:
    """Rounds of storage ceiling, HTTP ceiling and product, then the instrumented drain."""
    inverters = mode.pick(60, 300, 600)  # x 4 accounts x 250 days: 60k, 300k, 600k records
    rounds = mode.pick(2, 5, 7)
    records = backlog.fleet_records(ACCOUNTS, inverters, DAYS)
    template = mode.scratch / "push-template.db"
    await backlog.fill_queue(template, records)
    bodies = backlog.batch_bodies(records)
    accounts = backlog.account_names(ACCOUNTS)
    runs: dict[str, list[float]] = {}
    with simulator() as sim:
        await ceilings.post_all(sim.url, bodies[: len(bodies) // 4 + 1])  # warm-up
        for _ in range(rounds):
            _round(runs, await _one_round(mode, template, sim, bodies, accounts, len(records)))
        db = backlog.copy_db(template, mode.scratch / "push-run.db")
        _, spent = await product.drain_instrumented(product.settings_for(db, sim.url, accounts))
    return _result(len(records), len(bodies), rounds, runs, spent, _encode_us(bodies))


def _round(runs: dict[str, list[float]], values: dict[str, float]) -> None:
    for key, value in values.items():
        runs.setdefault(key, []).append(value)


async def _one_round(
    mode: Mode, template: Path, sim: Simulator, bodies: list[tuple[str, bytes]],
    accounts: list[str], n: int,
) -> dict[str, float]:  # fmt: skip
    storage, rows = ceilings.read_and_delete(
        backlog.copy_db(template, mode.scratch / "push-ceil.db")
    )
    if rows != n:
        raise RuntimeError(f"the storage ceiling read {rows} rows, not {n}")
    http = await ceilings.post_all(sim.url, bodies)
    db = backlog.copy_db(template, mode.scratch / "push-run.db")
    server_cpu = sim.cpu_s
    pushed = await product.drain(product.settings_for(db, sim.url, accounts))
    server_cpu = sim.cpu_s - server_cpu
    if backlog.pending_count(db):
        raise RuntimeError("the product's drain left records pending")
    return {
        "product": pushed.wall_s, "sqlite": storage.wall_s, "http": http.wall_s,
        "ratio": pushed.wall_s / (storage.wall_s + http.wall_s),
        "product_cpu": pushed.cpu_s, "sqlite_cpu": storage.cpu_s, "http_cpu": http.cpu_s,
        "server_cpu": server_cpu,
    }  # fmt: skip


def _encode_us(bodies: list[tuple[str, bytes]]) -> float:
    """µs per record of the one step that turns the product's body text into bytes."""
    text = bodies[0][1].decode()
    best = float("inf")
    for _ in range(7):
        started = time.perf_counter()
        for _ in range(20):
            text.encode()
        best = min(best, (time.perf_counter() - started) / 20)
    return best / 3000 * 1e6


def _result(
    n: int, batches: int, rounds: int, runs: dict[str, list[float]],
    spent: dict[str, float], encode_us: float,
) -> PushResult:  # fmt: skip
    per_us = 1e6 / n
    return PushResult(
        records=n,
        batches=batches,
        rounds=rounds,
        product_s=spread(runs["product"]),
        sqlite_s=spread(runs["sqlite"]),
        http_s=spread(runs["http"]),
        ratio=spread(runs["ratio"]),
        product_rate=inverse(runs["product"], n),
        sqlite_rate=inverse(runs["sqlite"], n),
        http_rate=inverse(runs["http"], n),
        product_cpu_us=spread(runs["product_cpu"]).scaled(per_us),
        sqlite_cpu_us=spread(runs["sqlite_cpu"]).scaled(per_us),
        http_cpu_us=spread(runs["http_cpu"]).scaled(per_us),
        server_cpu_us=spread(runs["server_cpu"]).scaled(per_us),
        stages_us=_stages(spent, per_us, encode_us),
        encode_us=encode_us,
    )


def _stages(spent: dict[str, float], per_us: float, encode_us: float) -> dict[str, float]:
    """Per-record CPU µs by stage: read, build, encode, post (the loop's rest), ack, other."""
    build = spent.get("build", 0.0) * per_us
    other_queue = (
        sum(v for k, v in spent.items() if k.startswith("queue."))
        - spent.get("queue.claim", 0.0)
        - spent.get("queue.ack", 0.0)
    )
    return {
        "read (claim)": spent.get("queue.claim", 0.0) * per_us,
        "build": max(build - encode_us, 0.0),
        "encode": min(encode_us, build),
        "post (loop: aiohttp, limiter, worker)": (spent["loop"] * per_us) - build,
        "ack": spent.get("queue.ack", 0.0) * per_us,
        "other queue calls": other_queue * per_us,
    }


def render(r: PushResult) -> str:
    """The section's markdown."""
    ceiling = r.sqlite_s.median + r.http_s.median
    lines = [
        f"Backlog: {r.records:,} records ({ACCOUNTS} accounts, {DAYS} days per inverter) in "
        f"{r.batches} bodies of ≤ 3000 records; {r.rounds} rounds, each running the three "
        "side by side against one simulator process (limits lifted).",
        "",
        "| run | seconds | records/s | CPU µs/record (this process) |",
        "|---|---|---|---|",
        f"| product: queue → batch → post → ack | {r.product_s.fmt(3)} | {r.product_rate.fmt()}"
        f" | {r.product_cpu_us.fmt(2)} |",
        f"| storage ceiling: bare sqlite3 read + delete, 3000-row batches | {r.sqlite_s.fmt(3)}"
        f" | {r.sqlite_rate.fmt()} | {r.sqlite_cpu_us.fmt(2)} |",
        f"| HTTP ceiling: bare aiohttp, same bodies, {ceilings.CONNECTIONS} connections"
        f" | {r.http_s.fmt(3)} | {r.http_rate.fmt()} | {r.http_cpu_us.fmt(2)} |",
        "",
        f"- Product time ÷ (storage + HTTP ceiling times), round by round: **{r.ratio.fmt(2)}×**"
        f" (goal ≤ {GOAL_RATIO:g}×, aim {AIM_RATIO:g}×): "
        + _verdict(r.ratio.median <= GOAL_RATIO, r.ratio.median <= AIM_RATIO),
        f"- Product throughput: **{r.product_rate.median:,.0f} records/s** (goal ≥ {GOAL_RATE:,}): "
        + _miss_or_meet(r.product_rate.median, GOAL_RATE),
        f"- The simulator's own CPU while the product drained: {r.server_cpu_us.fmt(2)} µs/record"
        f" (sum of the ceilings' medians: {ceiling:.3f} s).",
        "",
        "Where one record's CPU goes in the product (one instrumented drain; thread CPU time):",
        "",
        "| stage | µs/record | share |",
        "|---|---|---|",
    ]
    total = sum(r.stages_us.values())
    lines += [f"| {k} | {v:.2f} | {v / total:.0%} |" for k, v in r.stages_us.items()]
    lines.append(f"| total | {total:.2f} | |")
    return "\n".join(lines)


def _verdict(met: bool, aimed: bool) -> str:
    if aimed:
        return "met, and within the aim."
    return "met, above the aim." if met else "**missed**."


def _miss_or_meet(value: float, goal: float) -> str:
    if value >= goal:
        return "met."
    return f"**missed by {1 - value / goal:.0%}** ({goal / value:.1f}× short)."


def chart(r: PushResult, out: Path) -> list[Path]:
    """Throughput of the three runs, and the per-stage breakdown."""
    path, stages = out / "bench-push.png", out / "bench-push-stages.png"
    charts.bars(
        path,
        f"Push path, limits lifted: records/s, median of {r.rounds} (min–max)",
        "records/s",
        {"product": r.product_rate, "storage ceiling": r.sqlite_rate, "HTTP ceiling":
         r.http_rate},
        goal=GOAL_RATE,
        goal_label="goal: 300,000 records/s",
    )  # fmt: skip
    charts.stacked(
        stages, "Product CPU per record, by stage", "µs per record", {"product": r.stages_us}
    )
    return [path, stages]
