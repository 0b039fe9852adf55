"""A process killed with SIGKILL loses nothing: leases expire, transactions are whole.

Run against each durable backend (SQLite, Redis); the children open the queue by its URL.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.queue.helpers import FakeClock, rec
from uploader.queue import open_queue, sqlite_path

HOLDER = """
import asyncio, sys
from uploader.queue import open_queue

async def main():
    async with open_queue(sys.argv[1]) as queue:
        claim = await queue.claim("acme", 1000, float(sys.argv[2]))
        print(len(claim.records), repr(claim.lease_until), flush=True)
        await asyncio.Event().wait()  # hold the lease until killed

asyncio.run(main())
"""

WRITER = """
import asyncio, datetime as dt, sys
from decimal import Decimal
from uploader.records import Record
from uploader.queue import open_queue

async def main():
    async with open_queue(sys.argv[1]) as queue:
        for chunk in range(1000):
            await queue.enqueue([
                Record(account="acme", remote_inv_id=f"INV{chunk}-{n}", day=dt.date(2024, 5, 1),
                       period_kwh=Decimal(1), accumulated_kwh=Decimal(n))
                for n in range(500)
            ])
            print(chunk, flush=True)

asyncio.run(main())
"""


@pytest.fixture(params=["sqlite", "redis"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty durable queue of each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'q.db'}"
    # Asked for here: only the Redis case skips when no server exists.
    server, prefix = request.getfixturevalue("redis_url"), request.getfixturevalue("redis_prefix")
    return f"{server}?prefix={prefix}&durability=none"  # the test server keeps nothing


def spawn(script: str, *args: str) -> subprocess.Popen[str]:
    """A Python child running `script` with the repository importable."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[3])}
    command = [sys.executable, "-c", script, *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)


def kill(child: subprocess.Popen[str]) -> None:
    """SIGKILL: no cleanup, no atexit, no rollback by the process itself."""
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert child.stdout is not None
    child.stdout.close()


async def test_records_leased_by_a_killed_process_are_pending_after_the_lease(url: str) -> None:
    """After SIGKILL the lease holds until it expires; then every record is claimable."""
    async with open_queue(url) as queue:
        await queue.enqueue([rec(f"INV{n}") for n in range(100)])
    child = spawn(HOLDER, url, "60")
    assert child.stdout is not None
    claimed, lease_until = child.stdout.readline().split()
    kill(child)
    assert claimed == "100"

    async with open_queue(url) as queue:  # the real clock: the lease still holds
        assert await queue.in_flight() == 100
        assert await queue.claim("acme", 1000, 60) is None
    after = FakeClock(float(lease_until))  # the moment the lease ends
    async with open_queue(url, clock=after) as queue:
        counts = (await queue.counts()).accounts["acme"]
        assert (counts.pending, counts.leased) == (100, 0)
        again = await queue.claim("acme", 1000, 60)
        assert again is not None
        assert len(again.records) == 100
        assert {r.attempts for r in again.records} == {2}


async def test_an_enqueue_killed_midway_keeps_whole_transactions(url: str) -> None:
    """SIGKILL during a stream of enqueues leaves whole 500-record calls only, and sound data."""
    child = spawn(WRITER, url)
    assert child.stdout is not None
    for _ in range(3):
        child.stdout.readline()
    kill(child)
    if url.startswith("sqlite:"):
        with contextlib.closing(sqlite3.connect(sqlite_path(url))) as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    async with open_queue(url) as queue:
        pending = (await queue.counts()).accounts["acme"].pending
    assert pending >= 1500
    assert pending % 500 == 0
