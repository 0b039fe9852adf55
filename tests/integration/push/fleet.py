"""A fleet of `uploader run` processes on one Redis queue, as the end-to-end tests drive it.

Every replica has the same configuration but its HTTP port; the simulator's account budget is
the replicas' own (SIM_LIMIT), so a replica that takes an account over without knowing what the
previous holder sent in the current window would draw a 429 of its own.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

from tests.integration.push.conftest import ACCOUNTS, TOKENS
from tests.ports import free_port
from uploader.registry.ratespec import RateSpec
from uploader.simulator import SimOptions

LIMIT = "6/3s"  # per account, in each replica: a window longer than a hand-off
SIM_LIMIT = LIMIT  # per account, in the simulator: the same budget
INGEST_TOKEN = "fleet-ingest-token"
INGEST_ENV = "FLEET_INGEST_TOKEN"


def sim_options() -> SimOptions:
    """The simulator of the fleet tests: the test accounts, open inverters, some latency."""
    return SimOptions(
        tokens=TOKENS, open_inverters=True, latency_ms=(2.0, 20.0),
        account_limit=RateSpec.parse(SIM_LIMIT),
    )  # fmt: skip


def write_config(path: Path, registry: str, queue: str, port: int) -> Path:
    """A replica's configuration: every account, the shared queue, its own port."""
    listed = "".join(f'[[accounts]]\nid = "{a}"\ntoken = "{TOKENS[a]}"\n' for a in ACCOUNTS)
    path.write_text(
        f'queue = "{queue}"\n'
        f'[registry]\nbase_url = "{registry}"\nmax_records_per_request = 10\ntimeout_s = 5\n'
        f'[limits]\naccount = "{LIMIT}"\nip = "3000/1s"\n'
        "[retry]\nbase_s = 0.05\ncap_s = 0.5\n"
        "[worker]\nidle_poll_s = 0.05\nshutdown_timeout_s = 2\npoll_statuses = false\n"
        f'[server]\nlisten = "127.0.0.1:{port}"\ningest_token_env = "{INGEST_ENV}"\n'
        '[log]\nlevel = "info"\n' + listed
    )
    return path


class Replica:
    """One `uploader run` process; its output goes to a file (a pipe nobody reads would
    block it)."""

    def __init__(self, folder: Path, name: str, registry: str, queue: str) -> None:
        self.name = name
        self.port = free_port()
        self.config = write_config(folder / f"{name}.toml", registry, queue, self.port)
        self.output = folder / f"{name}.log"
        self.process: asyncio.subprocess.Process | None = None

    def __repr__(self) -> str:
        return f"<Replica {self.name} port={self.port}>"

    @property
    def url(self) -> str:
        """Its HTTP surface."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self, *args: str) -> None:
        """`uploader --config ... run ARGS`."""
        env = {**os.environ, "PYTHONUNBUFFERED": "1", INGEST_ENV: INGEST_TOKEN}
        with self.output.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "uploader", "--config", str(self.config), "run", *args,
                stdout=out, stderr=asyncio.subprocess.STDOUT, env=env,
            )  # fmt: skip

    def signal(self, signum: signal.Signals) -> None:
        """Send `signum` (SIGKILL, SIGTERM) to the process."""
        assert self.process is not None
        self.process.send_signal(signum)

    async def wait(self, within_s: float = 60) -> int:
        """Its exit code."""
        assert self.process is not None
        return await asyncio.wait_for(self.process.wait(), within_s)

    @property
    def running(self) -> bool:
        """Started and not ended."""
        return self.process is not None and self.process.returncode is None

    def log(self) -> str:
        """Everything it printed."""
        return self.output.read_text(errors="replace")

    async def ready(self) -> tuple[int, dict[str, Any]]:
        """GET /readyz: the status and the body ((0, {}) while nothing answers)."""
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http,
                http.get(f"{self.url}/readyz") as response,
            ):
                return response.status, await response.json()
        except (aiohttp.ClientError, TimeoutError):
            return 0, {}

    async def serving(self) -> set[str]:
        """The accounts it serves now, by its /readyz."""
        _, body = await self.ready()
        return set(body.get("serving", ()))

    async def post(self, account: str, lines: bytes) -> int:
        """POST /v1/records?account=ID; the status."""
        headers = {"Authorization": f"Bearer {INGEST_TOKEN}"}
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{self.url}/v1/records", params={"account": account}, data=lines,
                      headers=headers) as response,
        ):  # fmt: skip
            return response.status

    def stop(self) -> None:
        """Kill it if it still runs (a test's cleanup)."""
        if self.running:
            self.signal(signal.SIGKILL)


async def eventually(check: Callable[[], Awaitable[bool]], within_s: float) -> float:
    """Wait until `check()` is true; the seconds it took (fails after `within_s`)."""
    started = time.monotonic()
    while True:
        took = time.monotonic() - started
        if await check():
            return took
        assert took < within_s, f"not within {within_s} s"
        await asyncio.sleep(0.1)
