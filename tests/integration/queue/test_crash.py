"""A process killed with SIGKILL loses nothing: leases expire, transactions are whole."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.integration.queue.helpers import FakeClock, rec
from uploader.queue.sqlite import SQLiteQueue

HOLDER = """
import asyncio, sys
from uploader.queue.sqlite import SQLiteQueue

async def main():
    async with SQLiteQueue(sys.argv[1]) as queue:
        claim = await queue.claim("acme", 1000, float(sys.argv[2]))
        print(len(claim.records), repr(claim.lease_until), flush=True)
        await asyncio.Event().wait()  # hold the lease until killed

asyncio.run(main())
"""

WRITER = """
import asyncio, datetime as dt, sys
from decimal import Decimal
from uploader.records import Record

from uploader.queue.sqlite import SQLiteQueue

async def main():
    async with SQLiteQueue(sys.argv[1]) as queue:
        for chunk in range(1000):
            await queue.enqueue([
                Record(account="acme", remote_inv_id=f"INV{chunk}-{n}", day=dt.date(2024, 5, 1),
                       period_kwh=Decimal(1), accumulated_kwh=Decimal(n))
                for n in range(500)
            ])
            print(chunk, flush=True)

asyncio.run(main())
"""


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


async def test_records_leased_by_a_killed_process_are_pending_after_the_lease(
    tmp_path: Path,
) -> None:
    """After SIGKILL the lease holds until it expires; then every record is claimable."""
    path = tmp_path / "q.db"
    async with SQLiteQueue(path) as queue:
        await queue.enqueue([rec(f"INV{n}") for n in range(100)])
    child = spawn(HOLDER, str(path), "60")
    assert child.stdout is not None
    claimed, lease_until = child.stdout.readline().split()
    kill(child)
    assert claimed == "100"

    async with SQLiteQueue(path) as queue:  # the real clock: the lease still holds
        assert await queue.in_flight() == 100
        assert await queue.claim("acme", 1000, 60) is None
    after = FakeClock(float(lease_until))  # the moment the lease ends
    async with SQLiteQueue(path, clock=after) as queue:
        counts = (await queue.counts()).accounts["acme"]
        assert (counts.pending, counts.leased) == (100, 0)
        again = await queue.claim("acme", 1000, 60)
        assert again is not None
        assert len(again.records) == 100
        assert {r.attempts for r in again.records} == {2}


async def test_an_enqueue_killed_midway_keeps_whole_transactions(tmp_path: Path) -> None:
    """SIGKILL during a stream of enqueues leaves whole chunks only, and a sound file."""
    path = tmp_path / "q.db"
    child = spawn(WRITER, str(path))
    assert child.stdout is not None
    for _ in range(3):
        child.stdout.readline()
    kill(child)
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    async with SQLiteQueue(path) as queue:
        pending = (await queue.counts()).accounts["acme"].pending
    assert pending >= 1500
    assert pending % 500 == 0
