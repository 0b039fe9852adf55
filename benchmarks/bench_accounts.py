"""Section 8: what many accounts cost: an idle service's CPU, and the IP budget they share.

    .venv/bin/python -m benchmarks --only accounts

Idle: `uploader run` as a user starts it (default worker settings: four lanes per account,
statuses polled), over an empty queue, with 10, 100 and 1,000 configured accounts, on SQLite
and on Redis (the machine's own server, when one answers). Once `/readyz` says 200 and the
start has settled, the process's CPU time (user + system, from /proc, in 10 ms ticks) over
IDLE_S is the figure, as a share of one core.

Budget: the same requests (REQUESTS of DAYS records) from 1,000 accounts, then from 10, the
IP window binding (IP_RATE over 10 s windows; the accounts' own windows far from binding),
latency jitter on, a fresh simulator each run. Utilisation is read as in section 1: requests
accepted / N (1 + T/W), T the drain's span from its first request to its last answer; steady
utilisation leaves out the first and the last window's allowance (fixed costs: the first
burst's answers spread over the simulator's time to serve them).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from pathlib import Path

import aiohttp
import msgspec

from benchmarks import backlog, bench_budget, product
from benchmarks.common import Mode, Spread, free_port, remove_db, simulator, spread
from uploader.push.events import BatchDetails
from uploader.registry.ratespec import RateSpec

COUNTS = (10, 100, 1000)
GOAL_IDLE = 0.02  # of one core, at 1,000 accounts
GOAL_BUDGET = 0.99
BUDGET_ACCOUNTS = (1000, 10)  # side by side: the same requests from many accounts, and few
REQUESTS = 2000
ACCOUNT_RATE = RateSpec.parse("200/10s")  # per account: never the binding window
IP_RATE = RateSpec.parse("250/10s")
DAYS = 10  # records per request: one inverter's days
JITTER = "2-40"
SETTLE_S = 3.0
READY_TIMEOUT_S = 120.0
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


class BudgetRow(msgspec.Struct):
    """The drains of one account count: spreads over the runs."""

    utilisation: Spread
    steady: Spread
    rejected: Spread  # 429s the simulator answered
    drain_s: Spread


class AccountsResult(msgspec.Struct):
    """Idle CPU (share of a core) per backend and account count; the budget per account count."""

    idle: dict[str, dict[int, Spread]]
    idle_s: float
    budget: dict[int, BudgetRow]
    requests: int
    ip: str
    rounds: int


async def measure(mode: Mode) -> AccountsResult:
    """Idle CPU for each backend and count, then the budget with 1,000 accounts and with 10."""
    idle_s, repeats = mode.pick(3, 10), mode.pick(1, 3)
    idle: dict[str, dict[int, Spread]] = {}
    with simulator() as sim:
        for backend in await _backends():
            idle[backend] = {}
            for count in COUNTS:
                shares = [
                    await _idle_share(mode, sim.url, backend, count, idle_s) for _ in range(repeats)
                ]
                idle[backend][count] = spread(shares)
    requests, ip = mode.pick(1000, REQUESTS), _ip(mode)
    rounds = mode.pick(1, 2)
    budget: dict[int, BudgetRow] = {}
    for accounts in BUDGET_ACCOUNTS[: mode.pick(1, 2)]:
        runs = [await _budget(mode, accounts, requests, ip, seed=n) for n in range(rounds)]
        budget[accounts] = BudgetRow(*(spread([run[i] for run in runs]) for i in range(4)))
    return AccountsResult(idle, idle_s, budget, requests, str(ip), rounds)


def _ip(mode: Mode) -> RateSpec:
    """The IP's window: in --quick, twice the requests in one (a shorter drain)."""
    return RateSpec(IP_RATE.limit * mode.pick(2, 1), IP_RATE.window_s)


async def _backends() -> list[str]:
    backends = ["sqlite"]
    try:
        import redis.asyncio as aioredis

        client = aioredis.from_url(REDIS_URL)
        try:
            await client.ping()
            backends.append("redis")
        finally:
            await client.aclose()
    except Exception as exc:  # any failure: no Redis to measure
        print(f"[accounts] no Redis at {REDIS_URL} ({exc}): SQLite only", file=sys.stderr)
    return backends


def _queue_url(mode: Mode, backend: str, count: int) -> str:
    if backend == "sqlite":
        db = mode.scratch / f"idle-{count}-{uuid.uuid4().hex[:6]}.db"
        return f"sqlite:///{db}"
    return f"{REDIS_URL}?prefix=idle-{uuid.uuid4().hex[:8]}&durability=none"


async def _idle_share(mode: Mode, registry: str, backend: str, count: int, idle_s: float) -> float:
    """The share of a core an idle `uploader run` with `count` accounts uses."""
    port = free_port()
    config = mode.scratch / f"idle-{backend}-{count}.toml"
    listed = "".join(f'[[accounts]]\nid = "a{n:04d}"\ntoken = "t{n}"\n' for n in range(count))
    config.write_text(
        f'queue = "{_queue_url(mode, backend, count)}"\n'
        f'[registry]\nbase_url = "{registry}"\n'
        f'[server]\nlisten = "127.0.0.1:{port}"\n[log]\nlevel = "warning"\n' + listed
    )
    command = [sys.executable, "-m", "uploader", "--config", str(config), "run"]
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        await _until_ready(port, process)
        await asyncio.sleep(SETTLE_S)
        before, started = _cpu_s(process.pid), time.monotonic()
        await asyncio.sleep(idle_s)
        return (_cpu_s(process.pid) - before) / (time.monotonic() - started)
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 60)


async def _until_ready(port: int, process: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise RuntimeError(f"uploader run exited {process.returncode}")
            try:
                async with http.get(f"http://127.0.0.1:{port}/readyz") as response:
                    if response.status == 200:
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("uploader run was not ready in time")


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (and its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


async def _budget(
    mode: Mode, count: int, requests: int, ip: RateSpec, seed: int
) -> tuple[float, float, float, float]:
    """One drain of `requests` requests from `count` accounts: (utilisation, steady
    utilisation, 429s, drain seconds)."""
    first = backlog.one_deadline_span(DAYS)
    records = backlog.fleet_records(count, requests // count, DAYS, first)
    db = mode.scratch / f"accounts-budget-{count}.db"
    remove_db(db)
    await backlog.fill_queue(db, records)
    answered: list[float] = []
    sent: list[float] = []

    def hook(details: BatchDetails) -> None:
        if details.outcome == "accepted":
            answered.append(time.monotonic())
            sent.append(answered[-1] - details.latency_s)

    limits = (str(ACCOUNT_RATE), str(ip))
    flags = ["--account-limit", limits[0], "--ip-limit", limits[1], "--latency-ms", JITTER]
    with simulator(*flags, "--seed", str(seed)) as sim:
        settings = product.settings_for(
            db, sim.url, backlog.account_names(count), limits=limits,
            registry={"max_records_per_request": DAYS},
        )  # fmt: skip
        await product.drain(settings, hook)
        rejected = float((await bench_budget._state(sim.url))["rate_limited"])
    if len(answered) != requests:
        raise RuntimeError(f"{len(answered)} requests accepted, not {requests}")
    span = max(answered) - min(sent)  # the first request sent to the last answer
    utilisation = requests / (ip.limit * (1 + span / ip.window_s))
    return utilisation, _steady(sorted(answered), ip), rejected, span


def _steady(answered: list[float], ip: RateSpec) -> float:
    """Accepted per window between the first window's allowance and the last one's / N."""
    first, last = ip.limit - 1, len(answered) - ip.limit - 1
    if last <= first:
        return 0.0  # too few windows to tell
    return (last - first) / (answered[last] - answered[first]) / (ip.limit / ip.window_s)


def render(r: AccountsResult) -> str:
    """The section's two tables."""
    counts = sorted({c for row in r.idle.values() for c in row})
    lines = [
        f"`uploader run` over an empty queue, default worker settings (4 lanes per account, "
        f"statuses polled), CPU over {r.idle_s:g} s after `/readyz` said 200, as a share of one "
        f"core; median (min–max). Goal: under {GOAL_IDLE:.0%} of a core at 1,000 accounts.",
        "",
        "| backend | " + " | ".join(f"{c:,} accounts" for c in counts) + " |",
        "|---|" + "---|" * len(counts),
    ]
    for backend, row in r.idle.items():
        cells = " | ".join(row[c].scaled(100).fmt(2, " %") for c in counts)
        lines.append(f"| {backend} | {cells} |")
    lines += [
        "",
        f"The same {r.requests:,} requests of {DAYS} records from 1,000 accounts and from 10, "
        f"windows {ACCOUNT_RATE} per account and {r.ip} per IP (the IP binds), jitter "
        f"{JITTER} ms; median of {r.rounds} run(s), each on a fresh simulator. "
        f"Goal: ≥ {GOAL_BUDGET} with 0 429s.",
        "",
        "| accounts | utilisation, whole drain | steady utilisation | 429s | drain s |",
        "|---|---|---|---|---|",
    ]
    lines += [_budget_line(count, row) for count, row in r.budget.items()]
    return "\n".join(lines)


def _budget_line(count: int, row: BudgetRow) -> str:
    steady = row.steady.fmt(3) if row.steady.median else "— (too few windows)"
    return (
        f"| {count:,} | {row.utilisation.fmt(3)} | {steady} | {row.rejected.fmt()} | "
        f"{row.drain_s.fmt(1)} |"
    )


def chart(r: AccountsResult, out: Path) -> list[Path]:
    """No chart: two small tables."""
    return []
