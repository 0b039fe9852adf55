"""KeyedLimiter against asyncio-throttle and aiolimiter: accuracy under jitter, cost per acquire.

    .venv/bin/python -m benchmarks.bench_limiter [--quick] [--seed N] [--rate 10/0.5s]

Accuracy: a local aiohttp server counts arrivals in fixed windows of W whose phase the
client does not know, answers 429 past N (as the registry does), and answers every request
after a random 5-80 ms; the arrival falls at a random point inside that delay, so uplink
and downlink jitter both vary. Many concurrent workers push through each limiter for a
number of windows. Reported: the most arrivals in one server window at the server's phase
(> N is a 429 from the real registry), the most in any span of W (the worst phase), and
the share of 1,000 evenly spread phases under which the same arrivals would have drawn a
429, and the steady-state utilisation: the rate of 2xx arrivals after the first two
windows ÷ N/W.

Cost: 1,000 keys each full with one waiter. First the CPU the process uses in one idle
second (pollers show here), then one task acquires and releases slots round-robin on
1,000 other keys, yielding once inside each (as a request would). Reported: wall-clock µs
per acquire, beside the same loop without a limiter.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import statistics
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from aiolimiter import AsyncLimiter
from asyncio_throttle.throttler import Throttler

from uploader.registry.limiter import KeyedLimiter, Policy
from uploader.registry.ratespec import RateSpec

KEY = ("account", "bench")
DELAY_MS = (5.0, 80.0)  # server answer time, uniform
WARMUP_WINDOWS = 2  # the initial burst every limiter allows is not steady state
WAITING_KEYS = 1000
PHASES = 1000  # window phases replayed over each run's arrivals
IDLE_S = 1.0  # how long the idle CPU of waiting keys is measured
ROUNDS = 7  # the cost is the median round: a 2-core machine shared with others is noisy

# A factory gives, for one limiter under test, a function from key to async context manager.
Gate = Callable[[str], AbstractAsyncContextManager[Any]]


@dataclass
class WindowServer:
    """Counts arrivals in fixed windows of an unseen phase; 429 past the limit."""

    spec: RateSpec
    rng: random.Random
    phase: float = 0.0
    arrivals: list[tuple[float, bool]] = field(default_factory=list)
    counts: dict[int, int] = field(default_factory=dict)

    async def handle(self, request: web.Request) -> web.Response:
        """Wait part of the delay, count the arrival, wait the rest, answer."""
        await request.read()
        total = self.rng.uniform(*DELAY_MS) / 1000
        inbound = self.rng.random() * total
        await asyncio.sleep(inbound)
        ok = self._arrive(asyncio.get_running_loop().time())
        await asyncio.sleep(total - inbound)
        return web.Response(status=200 if ok else 429)

    def _arrive(self, now: float) -> bool:
        window = int((now - self.phase) // self.spec.window_s)
        self.counts[window] = self.counts.get(window, 0) + 1
        ok = self.counts[window] <= self.spec.limit
        self.arrivals.append((now, ok))
        return ok


@contextlib.asynccontextmanager
async def serving(server: WindowServer) -> AsyncIterator[str]:
    """Run the server on 127.0.0.1 with an ephemeral port; yield its URL."""
    app = web.Application()
    app.router.add_post("/r", server.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/r"
    finally:
        await runner.cleanup()


def keyed_gate(spec: RateSpec) -> Gate:
    """Our limiter: a slot per request, freed W after the response."""
    limiter = KeyedLimiter({"account": Policy(spec)})
    return lambda name: limiter.slot(("account", name))


def throttle_gate(spec: RateSpec) -> Gate:
    """asyncio-throttle: a sliding log of send times, polled every 10 ms."""
    throttlers: dict[str, Any] = {}

    def gate(name: str) -> AbstractAsyncContextManager[Any]:
        if name not in throttlers:
            throttlers[name] = Throttler(rate_limit=spec.limit, period=spec.window_s)
        throttler: AbstractAsyncContextManager[Any] = throttlers[name]
        return throttler

    return gate


def aiolimiter_gate(spec: RateSpec) -> Gate:
    """aiolimiter: a leaky bucket of capacity N draining at N/W."""
    limiters: dict[str, AsyncLimiter] = {}

    def gate(name: str) -> AbstractAsyncContextManager[Any]:
        if name not in limiters:
            limiters[name] = AsyncLimiter(spec.limit, spec.window_s)
        return limiters[name]

    return gate


def null_gate(spec: RateSpec) -> Gate:
    """No limiter at all: the baseline of the cost measurement."""
    return lambda name: contextlib.nullcontext()


LIMITERS: dict[str, Callable[[RateSpec], Gate]] = {
    "KeyedLimiter": keyed_gate,
    "asyncio-throttle": throttle_gate,
    "aiolimiter": aiolimiter_gate,
}


@dataclass(frozen=True)
class Accuracy:
    """What the server saw while one limiter drove it."""

    max_in_window: int
    max_in_any_span: int
    rejected: int
    phases_with_429: float
    utilisation: float


async def drive(gate: Gate, url: str, stop_at: float, workers: int) -> None:
    """Workers send through the gate, one request at a time each, until `stop_at`."""
    loop = asyncio.get_running_loop()
    connector = aiohttp.TCPConnector(limit=workers)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            while loop.time() < stop_at:
                async with gate(KEY[1]):
                    if loop.time() >= stop_at:
                        return
                    async with session.post(url, data=b"{}") as response:
                        await response.read()

        await asyncio.gather(*(worker() for _ in range(workers)))


async def measure_accuracy(
    make: Callable[[RateSpec], Gate], spec: RateSpec, windows: int, seed: int
) -> Accuracy:
    """Drive one limiter for `windows` windows against a fresh server."""
    rng = random.Random(seed)
    server = WindowServer(spec, rng)
    async with serving(server) as url:
        start = asyncio.get_running_loop().time()
        server.phase = start + rng.random() * spec.window_s
        stop_at = start + windows * spec.window_s
        await drive(make(spec), url, stop_at, workers=4 * spec.limit)
    return summarise(server, spec, start, stop_at)


def summarise(server: WindowServer, spec: RateSpec, start: float, stop_at: float) -> Accuracy:
    """Turn the server's log into the figures of the table."""
    times = sorted(t for t, _ in server.arrivals)
    steady_from = start + WARMUP_WINDOWS * spec.window_s
    done = sorted(t for t, ok in server.arrivals if ok and steady_from <= t < stop_at)
    return Accuracy(
        max_in_window=max(server.counts.values(), default=0),
        max_in_any_span=max_in_span(times, spec.window_s),
        rejected=sum(1 for _, ok in server.arrivals if not ok),
        phases_with_429=share_of_phases_over(times, spec, PHASES),
        utilisation=rate(done) / spec.per_second,
    )


def share_of_phases_over(times: list[float], spec: RateSpec, phases: int) -> float:
    """The share of evenly spread window phases under which some window gets > N arrivals.

    The limiters never see the answers, so the same arrivals would have come whatever the
    server's phase: one run tells what every phase would have said.
    """
    over = 0
    for n in range(phases):
        phase = spec.window_s * n / phases
        counts = Counter(int((t - phase) // spec.window_s) for t in times)
        over += max(counts.values(), default=0) > spec.limit
    return over / phases


def rate(times: list[float]) -> float:
    """Accepted requests per second: the least-squares slope of their count over time.

    Requests come in bursts of up to N per cycle; counting them between two instants is off
    by up to a burst, the slope of the cumulative count is not.
    """
    n = len(times)
    if n < 2:
        return 0.0
    mean_t, mean_i = sum(times) / n, (n - 1) / 2
    covariance = sum((t - mean_t) * (i - mean_i) for i, t in enumerate(times))
    variance = sum((t - mean_t) ** 2 for t in times)
    return covariance / variance


def max_in_span(times: list[float], window_s: float) -> int:
    """The most arrivals in any half-open span of `window_s`: the worst server phase."""
    best, first = 0, 0
    for last, now in enumerate(times):
        while now - times[first] >= window_s:
            first += 1
        best = max(best, last - first + 1)
    return best


@dataclass(frozen=True)
class Cost:
    """What a limiter costs the event loop."""

    us_per_acquire: float
    idle_cpu: float  # share of a core used while the waiters wait and nothing else runs


async def measure_cost(make: Callable[[RateSpec], Gate], acquires: int) -> Cost:
    """Idle CPU and µs per acquire on free keys, while WAITING_KEYS other keys have a waiter."""
    full = make(RateSpec(1, 600.0))
    for n in range(WAITING_KEYS):
        async with full(f"full{n}"):
            pass
    waiters = [asyncio.create_task(_enter(full(f"full{n}"))) for n in range(WAITING_KEYS)]
    try:
        await asyncio.sleep(0.05)  # let every waiter reach its wait (and the pollers start)
        cpu = time.process_time()
        await asyncio.sleep(IDLE_S)
        idle_cpu = (time.process_time() - cpu) / IDLE_S
        return Cost(await time_acquires(make(RateSpec(10**9, 600.0)), acquires), idle_cpu)
    finally:
        for task in waiters:
            task.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)


async def time_acquires(roomy: Gate, acquires: int) -> float:
    """Median µs per acquire and release, round-robin over WAITING_KEYS roomy keys."""
    for n in range(WAITING_KEYS):  # create the per-key state first: it is not per acquire
        async with roomy(f"k{n}"):
            pass
    per_round = max(acquires // ROUNDS, 1)
    rounds = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for n in range(per_round):
            async with roomy(f"k{n % WAITING_KEYS}"):
                await asyncio.sleep(0)
        rounds.append((time.perf_counter() - started) / per_round * 1e6)
    return statistics.median(rounds)


async def _enter(gate: AbstractAsyncContextManager[Any]) -> None:
    async with gate:
        pass


async def run(args: argparse.Namespace) -> None:
    """Measure every limiter and print the table."""
    spec = RateSpec.parse(args.rate)
    accuracy = {
        name: await measure_accuracy(make, spec, args.windows, args.seed)
        for name, make in LIMITERS.items()
    }
    await measure_cost(null_gate, args.acquires)  # warm-up: the first timing runs slow
    baseline = await measure_cost(null_gate, args.acquires)
    rows = [
        (name, accuracy[name], await measure_cost(make, args.acquires))
        for name, make in LIMITERS.items()
    ]
    print_table(spec, args, rows, baseline)


def print_table(
    spec: RateSpec,
    args: argparse.Namespace,
    rows: list[tuple[str, Accuracy, Cost]],
    baseline: Cost,
) -> None:
    """A markdown table, ready for docs/decisions.md."""
    print(
        f"rate {spec}, {args.windows} windows, answers after {DELAY_MS[0]:g}-{DELAY_MS[1]:g} ms,"
        f" {4 * spec.limit} workers, seed {args.seed}; cost: {args.acquires} acquires,"
        f" {WAITING_KEYS} keys waiting"
    )
    print(
        "| limiter | max in a server window | 429s | max in any span W"
        f" | phases with a 429 (of {PHASES}) | steady utilisation | µs/acquire | idle CPU |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, a, cost in rows:
        print(
            f"| {name} | {a.max_in_window} | {a.rejected} | {a.max_in_any_span}"
            f" | {a.phases_with_429:.0%} | {a.utilisation:.3f} | {cost.us_per_acquire:.1f}"
            f" | {cost.idle_cpu:.0%} |"
        )
    print(f"| (no limiter) | | | | | | {baseline.us_per_acquire:.1f} | {baseline.idle_cpu:.0%} |")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line; --quick for a smoke run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rate", default="10/0.5s", help="server limit N/W (default 10/0.5s)")
    parser.add_argument("--windows", type=int, default=20, help="windows per limiter")
    parser.add_argument("--acquires", type=int, default=20_000, help="acquires timed for cost")
    parser.add_argument("--seed", type=int, default=4, help="server delays and phase")
    parser.add_argument("--quick", action="store_true", help="4 windows, 7,000 acquires")
    args = parser.parse_args(argv)
    if args.quick:
        args.windows, args.acquires = 4, 7_000
    return args


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    main()
