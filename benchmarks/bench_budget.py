"""Section 1: how much of the registry's windows each client uses, and how many 429s it draws.

    .venv/bin/python -m benchmarks --only budget

Scaled-down windows (20 requests / 2 s per account, 60 / 2 s per IP), 5 accounts, a backlog
of several IP windows (one inverter's 100 days per request, so every client sends the same
requests), latency jitter on. Each run gets a fresh simulator process with a random window
phase the clients cannot see. Strategies: this product; clients paced by aiolimiter and by
asyncio-throttle; a naive sequential script. Then the product alone at the same limits over
10 s windows (not in --quick): RTT/W is then 5 times smaller, still 6 times the real 60 s
window's, which is where the goal is read.

Utilisation is requests accepted / the most the windows allow in the drain's time T (first
request sent to last answer): a span of T touches at most 1 + T/W windows of the binding
policy, so the most is N x (1 + T/W). A client whose slots free W after each answer (the
product's rule) reaches W / (W + RTT) of it, whatever the phase.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import msgspec

from benchmarks import backlog, budget_clients, charts, product
from benchmarks.common import Mode, Spread, simulator, spread
from uploader.push import batcher
from uploader.push.endpoints import ENDPOINTS
from uploader.push.events import BatchDetails
from uploader.registry.ratespec import RateSpec

ACCOUNT = RateSpec.parse("20/2s")
IP = RateSpec.parse("60/2s")
ACCOUNTS = 5
DAYS = 100  # per inverter: one request's records
JITTER = {"realistic jitter (2–40 ms)": "2-40", "small jitter (0–5 ms)": "0-5"}
GOAL = 0.99
STRATEGIES = ("product", "aiolimiter", "asyncio-throttle", "naive sequential")
LONG_WINDOW_S = 10.0  # the product's own table: the same limits over longer windows

Run = Callable[[str], Coroutine[Any, Any, tuple[float, list[float]]]]


class Sample(msgspec.Struct, frozen=True):
    """One run of one strategy."""

    utilisation: float
    steady: float
    rejected: float
    drain_s: float


class StrategyRow(msgspec.Struct):
    """One strategy under one jitter: spreads over the runs."""

    utilisation: Spread
    steady: Spread  # between the first window's allowance and the last one's
    rejected: Spread  # 429s the simulator answered
    drain_s: Spread
    vs_least: Spread  # drain time ÷ the least time the windows allow


class BudgetResult(msgspec.Struct):
    """What section 1 measured: jitter -> strategy -> row; jitter -> the product's long row."""

    windows: int
    requests: int
    rounds: int
    least_s: float
    rows: dict[str, dict[str, StrategyRow]]
    long: dict[str, StrategyRow] = {}  # the product over LONG_WINDOW_S windows
    long_least_s: float = 0.0


class Backlog:
    """The same requests for every strategy, in each one's form."""

    def __init__(self, mode: Mode, windows: int) -> None:
        inverters = windows * IP.limit // ACCOUNTS
        first = backlog.one_deadline_span(DAYS)
        self.records = backlog.fleet_records(ACCOUNTS, inverters, DAYS, first)
        self.accounts = backlog.account_names(ACCOUNTS)
        self.template = mode.scratch / "budget-template.db"
        self.db = mode.scratch / "budget-run.db"
        self.requests = ACCOUNTS * inverters
        queued = backlog.as_queued(self.records)
        self.bodies: dict[str, list[bytes]] = {a: [] for a in self.accounts}
        self.naive: list[tuple[str, str, list[dict[str, str]]]] = []
        for start in range(0, len(queued), DAYS):
            days, account = queued[start : start + DAYS], self.records[start].account
            self.bodies[account].append(batcher.build(days, ENDPOINTS["batch"]).body)
            self.naive.append((account, days[0].remote_inv_id, _day_dicts(days)))


def _day_dicts(days: Sequence[Any]) -> list[dict[str, str]]:
    return [
        {"Timestamp": r.day, "PeriodProductionInKWh": r.period_kwh,
         "AccumulatedEnergyInKWh": r.accumulated_kwh}
        for r in days
    ]  # fmt: skip


def strategies(work: Backlog) -> dict[str, Run]:
    """Each strategy as `url -> accepted answer times`."""

    def paced(gate: budget_clients.Gate) -> Run:
        return lambda url: budget_clients.paced(url, work.bodies, gate, ACCOUNT, IP)

    async def run_naive(url: str) -> tuple[float, list[float]]:
        return await asyncio.to_thread(budget_clients.naive, url, work.naive)

    return {
        "product": product_run(work, IP.window_s),
        "aiolimiter": paced(budget_clients.aiolimiter_gate),
        "asyncio-throttle": paced(budget_clients.throttle_gate),
        "naive sequential": run_naive,
    }


def product_run(work: Backlog, window_s: float) -> Run:
    """The product, draining the backlog's queue at the limits over windows of `window_s`."""

    async def run_product(url: str) -> tuple[float, list[float]]:
        backlog.copy_db(work.template, work.db)
        accepted: list[float] = []
        limits = (str(_over(ACCOUNT, window_s)), str(_over(IP, window_s)))
        settings = product.settings_for(
            work.db, url, work.accounts, limits=limits,
            registry={"max_records_per_request": DAYS},
        )  # fmt: skip

        def hook(details: BatchDetails) -> None:
            if details.outcome == "accepted":
                accepted.append(time.monotonic())

        timing = await product.drain(settings, hook)
        return timing.started, accepted

    return run_product


def _over(spec: RateSpec, window_s: float) -> RateSpec:
    return RateSpec(spec.limit, window_s)


async def measure(mode: Mode) -> BudgetResult:
    """Every strategy under each jitter, round after round, each on a fresh simulator."""
    windows, rounds = mode.pick(3, 4, 8), mode.pick(2, 3, 5)
    work = Backlog(mode, windows)
    await backlog.fill_queue(work.template, work.records)
    runs = strategies(work)
    jitters = dict(list(JITTER.items())[:1]) if mode.quick else JITTER
    rows: dict[str, dict[str, StrategyRow]] = {}
    for label, jitter in jitters.items():
        chosen = STRATEGIES if label == next(iter(JITTER)) else STRATEGIES[:1]
        samples: dict[str, list[Sample]] = {s: [] for s in chosen}
        for n in range(rounds):
            for name in chosen:
                samples[name].append(await _one(runs[name], work.requests, jitter, seed=n))
        rows[label] = {name: _row(s, work.requests) for name, s in samples.items()}
    result = BudgetResult(windows, work.requests, rounds, least_s(work.requests), rows)
    if not mode.quick:
        await _measure_long(work, rounds, result)
    return result


async def _measure_long(work: Backlog, rounds: int, result: BudgetResult) -> None:
    """The product alone over LONG_WINDOW_S windows, under each jitter."""
    run = product_run(work, LONG_WINDOW_S)
    for label, jitter in JITTER.items():
        samples = [
            await _one(run, work.requests, jitter, seed=n, window_s=LONG_WINDOW_S)
            for n in range(rounds)
        ]
        result.long[label] = _row(samples, work.requests, LONG_WINDOW_S)
    result.long_least_s = least_s(work.requests, LONG_WINDOW_S)


async def _one(
    run: Run, requests: int, jitter: str, seed: int, window_s: float = IP.window_s
) -> Sample:
    """One run on a fresh simulator."""
    account, ip = _over(ACCOUNT, window_s), _over(IP, window_s)
    flags = ["--account-limit", str(account), "--ip-limit", str(ip), "--latency-ms", jitter]
    with simulator(*flags, "--seed", str(seed)) as sim:
        started, accepted = await run(sim.url)
        drain_s = max(accepted) - started
        rejected = (await _state(sim.url))["rate_limited"]
    if len(accepted) != requests:
        raise RuntimeError(f"{len(accepted)} requests accepted, not {requests}")
    utilisation = len(accepted) / most_allowed(drain_s, window_s)
    return Sample(utilisation, steady(sorted(accepted), window_s), float(rejected), drain_s)


def steady(accepted: list[float], window_s: float = IP.window_s) -> float:
    """Accepted per window between the first window's allowance and the last window's / N.

    This leaves out the start (the first window's N go at once) and the end (the last
    window's N), which are fixed costs that vanish as windows grow: what remains is the
    share of each window a long drain uses.
    """
    n = min(IP.limit, ACCOUNTS * ACCOUNT.limit)
    first, last = n - 1, len(accepted) - n - 1
    if last <= first:
        return 0.0  # too few windows to tell
    rate = (last - first) / (accepted[last] - accepted[first])
    return rate / (n / window_s)


async def _state(url: str) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(url.rstrip("/") + "/_sim/state?summary=1") as response,
    ):
        state: dict[str, Any] = await response.json()
    return state


def most_allowed(span_s: float, window_s: float = IP.window_s) -> float:
    """The most requests the windows allow in a span: N (1 + T/W) of the binding policy."""
    ip = IP.limit * (1 + span_s / window_s)
    accounts = ACCOUNTS * ACCOUNT.limit * (1 + span_s / window_s)
    return min(ip, accounts)


def least_s(requests: int, window_s: float = IP.window_s) -> float:
    """The least time the windows allow: whole windows' worth, the first one at once."""
    per_window = min(IP.limit, ACCOUNTS * ACCOUNT.limit)
    return (-(-requests // per_window) - 1) * window_s


def _row(samples: list[Sample], requests: int, window_s: float = IP.window_s) -> StrategyRow:
    least = least_s(requests, window_s)
    return StrategyRow(
        utilisation=spread([s.utilisation for s in samples]),
        steady=spread([s.steady for s in samples]),
        rejected=spread([s.rejected for s in samples]),
        drain_s=spread([s.drain_s for s in samples]),
        vs_least=spread([s.drain_s / least for s in samples]),
    )


def render(r: BudgetResult) -> str:
    """The section's markdown: one table per jitter."""
    lines = [
        f"Windows {ACCOUNT} per account × {ACCOUNTS} accounts and {IP} per IP (the IP binds: "
        f"{IP.limit} per window); backlog {r.requests} requests of {DAYS} records "
        f"({r.windows} IP windows); the least time the windows allow is {r.least_s:g} s. "
        f"Median of {r.rounds} runs (min–max), each on a fresh simulator with a random phase.",
    ]
    for jitter, rows in r.rows.items():
        lines += ["", f"**{jitter}**", ""]
        lines.append(
            "| strategy | utilisation, whole drain | steady utilisation | 429s | drain s"
            " | drain ÷ least time |"
        )
        lines.append("|---|---|---|---|---|---|")
        lines += [_line(name, row) for name, row in rows.items()]
    if r.long:
        lines += [
            "",
            f"**The product over {LONG_WINDOW_S:g} s windows** (the same limits; the least time "
            f"is {r.long_least_s:g} s; median of {r.rounds} runs, each with a random phase)",
            "",
            "| jitter | utilisation, whole drain | steady utilisation | 429s | drain s"
            " | drain ÷ least time |",
            "|---|---|---|---|---|---|",
        ]
        lines += [_line(jitter, row) for jitter, row in r.long.items()]
    return "\n".join(lines)


def _line(name: str, row: StrategyRow) -> str:
    return (
        f"| {name} | {row.utilisation.fmt(3)} | {row.steady.fmt(3)} | "
        f"{row.rejected.fmt()} | {row.drain_s.fmt(2)} | {row.vs_least.fmt(2)} |"
    )


def chart(r: BudgetResult, out: Path) -> list[Path]:
    """Whole-drain and steady utilisation per strategy (the first jitter), with the goal."""
    path = out / "bench-budget.png"
    jitter, rows = next(iter(r.rows.items()))
    groups = {
        name: {"whole drain": row.utilisation, "steady": row.steady} for name, row in rows.items()
    }
    charts.grouped_bars(
        path, f"Share of the windows' allowance used, {jitter}", "accepted / most allowed",
        groups, goal=GOAL, goal_label="goal 0.99",
    )  # fmt: skip
    return [path]
