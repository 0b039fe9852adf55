"""Section 7: how soon a fleet on Redis serves the accounts of a replica that died.

    .venv/bin/python -m benchmarks --only failover

A redis-server of the run's own (AOF, every write synced, in the scratch folder), the
simulator, and two `uploader run` processes with the same configuration (three accounts, each
paced at ACCOUNT_RATE so the push outlasts the runs). Once both serve a share, the older one
is SIGKILLed and a fresh replica joins after the measurement, so each run kills a different
process mid-push. Two figures per kill: the take-over (until the survivor's `/readyz` lists
every account) and the first delivery (until the simulator accepts a request of an account
the dead one served; answers in the first KILL_SETTLE_S are left out, as requests the dead one
had on the wire). The protocol's bound (docs/decisions.md) is TTL_S + BEAT_S: the dead
replica's last renewal runs out, then the survivor's next heartbeat takes its accounts.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import msgspec

from benchmarks import backlog
from benchmarks.common import Mode, Spread, free_port, simulator, spread
from uploader.queue import open_queue
from uploader.queue.redis.leases import BEAT_S, TTL_S

ACCOUNTS = backlog.account_names(3)
ACCOUNT_RATE = "10/1s"  # requests per account per replica: the push lasts every run
PER_REQUEST = 10
KILL_SETTLE_S = 0.5
GOAL_S = 20.0  # the goal for the dead replica's accounts to be served again
WAIT_S = 60.0  # the most any step of a run may take

Check = Callable[[], Awaitable[bool]]


class FailoverResult(msgspec.Struct):
    """Section 7's figures, over `kills` kills."""

    takeover_s: Spread
    first_delivery_s: Spread
    bound_s: float
    goal_s: float
    kills: int


async def measure(mode: Mode) -> FailoverResult | None:
    """Kill one replica of two, `kills` times in a row; None without a redis-server binary."""
    binary = shutil.which("redis-server")
    if binary is None:
        print("[failover] no redis-server binary: not run", file=sys.stderr)
        return None
    kills = mode.pick(1, 5, 10)
    takeovers: list[float] = []
    deliveries: list[float] = []
    with _redis(binary, mode.scratch / "failover-redis") as url, simulator() as sim:
        queue = f"{url}?prefix=bench-{uuid.uuid4().hex[:8]}"
        await _fill(queue, kills)
        async with _fleet(mode.scratch, sim.url, queue) as fleet:
            for _ in range(kills):
                takeover, delivery = await fleet.kill_one()
                takeovers.append(takeover)
                deliveries.append(delivery)
    return FailoverResult(spread(takeovers), spread(deliveries), TTL_S + BEAT_S, GOAL_S, kills)


async def _fill(queue: str, kills: int) -> None:
    """Enough records that the push outlasts every run (about 15 s a run)."""
    days = 50 * kills
    records = backlog.fleet_records(len(ACCOUNTS), 40, days)
    async with open_queue(queue) as opened:
        for start in range(0, len(records), 10_000):
            await opened.enqueue(records[start : start + 10_000])


@contextlib.contextmanager
def _redis(binary: str, folder: Path) -> Iterator[str]:
    """A redis-server with its AOF in `folder`, on a free port."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
               "--save", "", "--appendonly", "yes", "--appendfsync", "always"]  # fmt: skip
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not _listening(port):
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{binary} did not start on port {port}")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.kill()
        server.wait()


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


class _Replica:
    """One `uploader run` of the fleet."""

    def __init__(self, folder: Path, name: str, registry: str, queue: str) -> None:
        self.port = free_port()
        self.config = folder / f"failover-{name}.toml"
        listed = "".join(f'[[accounts]]\nid = "{a}"\ntoken = "{a}"\n' for a in ACCOUNTS)
        self.config.write_text(
            f'queue = "{queue}"\n'
            f'[registry]\nbase_url = "{registry}"\nmax_records_per_request = {PER_REQUEST}\n'
            f'[limits]\naccount = "{ACCOUNT_RATE}"\nip = "100000/1s"\n'
            "[worker]\nidle_poll_s = 0.05\nshutdown_timeout_s = 2\npoll_statuses = false\n"
            f'[server]\nlisten = "127.0.0.1:{self.port}"\n[log]\nlevel = "warning"\n' + listed
        )
        command = [sys.executable, "-m", "uploader", "--config", str(self.config), "run"]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip

    async def serving(self, http: aiohttp.ClientSession) -> set[str]:
        """The accounts its /readyz lists (none while it does not answer)."""
        try:
            async with http.get(f"http://127.0.0.1:{self.port}/readyz") as response:
                body: dict[str, Any] = await response.json()
        except (aiohttp.ClientError, TimeoutError):
            return set()
        return set(body.get("serving", ()))

    def stop(self, signum: signal.Signals = signal.SIGTERM) -> None:
        """Signal it and wait for it."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        self.process.wait(timeout=30)


class _Fleet:
    """Two replicas, the simulator's counters, and the kills."""

    def __init__(self, folder: Path, registry: str, queue: str, http: aiohttp.ClientSession):
        self._folder, self._registry, self._queue, self._http = folder, registry, queue, http
        self._made = 0
        self.replicas = [self._start(), self._start()]

    def _start(self) -> _Replica:
        self._made += 1
        return _Replica(self._folder, f"r{self._made}", self._registry, self._queue)

    async def kill_one(self) -> tuple[float, float]:
        """Kill the older replica once both serve; its take-over and first-delivery times."""
        await self._until(self._split)
        victim, survivor = self.replicas
        served = await victim.serving(self._http)
        victim.process.kill()
        killed = time.monotonic()
        await asyncio.sleep(KILL_SETTLE_S)
        before = await self._accepted(served)
        takeover, first = await asyncio.gather(
            self._since(killed, lambda: self._serves_all(survivor)),
            self._since(killed, lambda: self._more(served, before)),
        )
        victim.process.wait()
        self.replicas = [survivor, self._start()]
        return takeover, first

    async def _since(self, killed: float, check: Check) -> float:
        await self._until(check)
        return time.monotonic() - killed

    async def _split(self) -> bool:
        served = [await r.serving(self._http) for r in self.replicas]
        return all(served) and sum(map(len, served)) == len(ACCOUNTS)

    async def _serves_all(self, replica: _Replica) -> bool:
        return await replica.serving(self._http) == set(ACCOUNTS)

    async def _accepted(self, accounts: set[str]) -> int:
        async with self._http.get(f"{self._registry}/_sim/state?summary=1") as response:
            state = await response.json()
        counts = state["requests"]["by_account"]
        return sum(int(counts.get(a, {}).get("200", 0)) for a in accounts)

    async def _more(self, accounts: set[str], before: int) -> bool:
        return await self._accepted(accounts) > before

    async def _until(self, check: Check) -> float:
        started = time.monotonic()
        while not await check():
            if time.monotonic() - started > WAIT_S:
                raise RuntimeError("the fleet did not get there in time")
            await asyncio.sleep(0.05)
        return time.monotonic() - started


@contextlib.asynccontextmanager
async def _fleet(folder: Path, registry: str, queue: str) -> AsyncIterator[_Fleet]:
    timeout = aiohttp.ClientTimeout(total=2)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        fleet = _Fleet(folder, registry, queue, http)
        try:
            yield fleet
        finally:
            for replica in fleet.replicas:
                replica.stop()


def render(r: FailoverResult | None) -> str:
    """The section's table."""
    if r is None:
        return "Not run: no `redis-server` binary on PATH."
    return "\n".join(
        [
            f"{r.kills} kill(s) of one replica of two, mid-push, same configuration (three "
            f"accounts, {ACCOUNT_RATE} each), Redis on loopback with AOF `always`.",
            "",
            "| from the SIGKILL to | median (min–max) | stated bound | goal |",
            "|---|---|---|---|",
            f"| the survivor serving every account | {r.takeover_s.fmt(1, ' s')} | "
            f"{r.bound_s:.0f} s | < {r.goal_s:.0f} s |",
            f"| the first delivery of a dead replica's account | "
            f"{r.first_delivery_s.fmt(1, ' s')} | {r.bound_s:.0f} s + a request | "
            f"< {r.goal_s:.0f} s |",
        ]
    )


def chart(r: FailoverResult | None, out: Path) -> list[Path]:
    """No chart: two figures."""
    return []
