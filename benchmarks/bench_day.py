"""Section 5: how long real days of work take at the registry's real limits.

    .venv/bin/python -m benchmarks --only day

Waiting out 60 s and 300 s windows is no benchmark, so the drain time is computed. First the
per-request overhead is measured: one account, one lane, the limits lifted, 3000-record
requests from a real queue to the simulator process (claim, build, post, ack; no network).
Then a model of the product's limiter replays the work: every request takes a slot of its
account's policy (50/60 s) and of the IP's (3000/300 s) and holds it until W after its
answer; each account has its lanes (4); a request's time is the measured overhead plus a
network round trip (assumed, two cases). The theoretical minimum is requests ÷ allowed rate.
"""

from __future__ import annotations

import heapq
import math
from pathlib import Path

import msgspec

from benchmarks import backlog, charts, product
from benchmarks.common import Mode, Spread, simulator, spread
from uploader.config import Settings
from uploader.registry.ratespec import RateSpec

ACCOUNT = RateSpec.parse(Settings().limits.account)  # the seed's 50/60s
IP = RateSpec.parse(Settings().limits.ip)  # 3000/300s
LANES = Settings().worker.lanes_per_account
PER_REQUEST = 3000
RTTS_S = (0.1, 0.5)  # assumed network round trips to the registry

# name -> (accounts, inverters per account, days)
SCENARIOS = {
    "a day: 20 accounts × 2,000 inverters × 1 day": (20, 2000, 1),
    "a backfill: 1 account × 500 inverters × 365 days": (1, 500, 365),
    "a big backfill: 20 accounts × 2,000 inverters × 365 days": (20, 2000, 365),
}


class DayRow(msgspec.Struct):
    """One scenario at one assumed round trip."""

    scenario: str
    rtt_s: float
    requests: int
    drain_s: float
    minimum_s: float
    least_s: float


class DayResult(msgspec.Struct):
    """What section 5 measured and computed."""

    overhead_s: Spread  # per request, measured
    rows: list[DayRow]


async def measure(mode: Mode) -> DayResult:
    """Measure the per-request overhead, then compute every scenario with it."""
    requests, rounds = mode.pick(6, 20, 20), mode.pick(2, 3, 5)
    records = backlog.fleet_records(1, requests * PER_REQUEST // 250, 250)
    template = mode.scratch / "day-template.db"
    await backlog.fill_queue(template, records)
    runs = []
    with simulator() as sim:
        for _ in range(rounds):
            db = backlog.copy_db(template, mode.scratch / "day-run.db")
            settings = product.settings_for(
                db, sim.url, backlog.account_names(1), worker={"lanes_per_account": 1}
            )
            runs.append((await product.drain(settings)).wall_s / requests)
    overhead = spread(runs)
    rows = [
        _row(name, shape, rtt, overhead.median)
        for name, shape in SCENARIOS.items()
        for rtt in RTTS_S
    ]
    return DayResult(overhead, rows)


def _row(name: str, shape: tuple[int, int, int], rtt: float, overhead_s: float) -> DayRow:
    accounts, inverters, days = shape
    per_account = math.ceil(inverters * days / PER_REQUEST)
    drain = drain_time(accounts, per_account, overhead_s, rtt)
    return DayRow(
        name, rtt, accounts * per_account, drain, minimum(accounts, per_account),
        least(accounts, per_account),
    )  # fmt: skip


def minimum(accounts: int, per_account: int) -> float:
    """Requests ÷ the rate the policies allow together."""
    rate = min(IP.per_second, accounts * ACCOUNT.per_second)
    return accounts * per_account / rate


def least(accounts: int, per_account: int) -> float:
    """The least time fixed windows allow when the first one starts with the drain."""
    ip = (math.ceil(accounts * per_account / IP.limit) - 1) * IP.window_s
    return max(ip, (math.ceil(per_account / ACCOUNT.limit) - 1) * ACCOUNT.window_s)


def drain_time(accounts: int, per_account: int, overhead_s: float, rtt_s: float) -> float:
    """When the last answer arrives, under the product's rule, FIFO over ready lanes.

    The overhead is spent one request at a time (one queue thread, one event loop: the
    conservative reading); round trips overlap.
    """
    ip_free = [0.0] * IP.limit  # when each slot may be used again
    busy_until = 0.0  # the process's own work
    account_free = [[0.0] * ACCOUNT.limit for _ in range(accounts)]
    left = [per_account] * accounts
    lanes = [(0.0, a) for a in range(accounts) for _ in range(min(LANES, per_account))]
    heapq.heapify(lanes)
    end = 0.0
    while lanes:
        ready, a = heapq.heappop(lanes)
        if left[a] == 0:
            continue
        left[a] -= 1
        start = max(ready, ip_free[0], account_free[a][0], busy_until)
        busy_until = start + overhead_s
        answered = busy_until + rtt_s
        heapq.heapreplace(ip_free, answered + IP.window_s)
        heapq.heapreplace(account_free[a], answered + ACCOUNT.window_s)
        heapq.heappush(lanes, (answered, a))
        end = max(end, answered)
    return end


def render(r: DayResult) -> str:
    """The section's markdown."""
    lines = [
        f"Measured overhead per {PER_REQUEST}-record request (claim, build, post to the local "
        f"simulator, ack; one lane): **{r.overhead_s.scaled(1000).fmt(1)} ms**, median of "
        f"{r.overhead_s.runs} runs. Limits {ACCOUNT} per account, {IP} per IP, {LANES} lanes "
        "per account; a request takes the overhead plus the assumed round trip.",
        "",
        "| work | requests | round trip | computed drain | requests ÷ allowed rate | ratio"
        " | least time the windows allow |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in r.rows:
        lines.append(
            f"| {row.scenario} | {row.requests:,} | {row.rtt_s * 1000:.0f} ms | "
            f"{_duration(row.drain_s)} | {_duration(row.minimum_s)} | "
            f"{row.drain_s / row.minimum_s:.2f} | {_duration(row.least_s)} |"
        )
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min"


def chart(r: DayResult, out: Path) -> list[Path]:
    """Computed drain time against the theoretical minimum, per scenario."""
    path = out / "bench-day.png"
    groups: dict[str, dict[str, Spread]] = {}
    for row in r.rows:
        label = row.scenario.split(":")[0]
        group = groups.setdefault(label, {"theoretical minimum": _point(row.minimum_s)})
        group[f"drain, RTT {row.rtt_s * 1000:.0f} ms"] = _point(row.drain_s)
    charts.grouped_bars(
        path, "Drain time at the real limits (computed)", "seconds (log)", groups, log=True
    )
    return [path]


def _point(value: float) -> Spread:
    return Spread(value, value, value, 1)
