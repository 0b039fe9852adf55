"""One runner per SQLite queue file: the lock `uploader run` holds, the claims it frees when it
takes it, what another process counts while no runner lives, and the files' modes."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from tests.integration.queue.helpers import LEASE_S, START, FakeClock, claim, entry, rec
from uploader.errors import ConfigError
from uploader.queue.leases import LocalLeases
from uploader.queue.sqlite import SQLiteQueue


async def test_a_second_runner_on_one_file_is_refused_naming_the_holder(tmp_path: Path) -> None:
    """While one runner holds a file, another is refused with the holder's pid; then it may."""
    path = tmp_path / "q.db"
    async with SQLiteQueue(path) as one, SQLiteQueue(path) as two:
        async with one.account_leases(["acme"]) as held:
            assert isinstance(held, LocalLeases)  # a local queue: one process serves all
            with pytest.raises(ConfigError, match=f"pid {os.getpid()}"):
                async with two.account_leases(["acme"]):
                    pass
        async with two.account_leases(["acme"]) as leases:
            assert leases.held() == {"acme"}


async def test_taking_the_lock_frees_the_claims_of_a_dead_runner(tmp_path: Path) -> None:
    """A runner's claims are pending again, one attempt further, as soon as the next runner
    takes the lock; a delayed release keeps its delay, a claim made without the lock its lease."""
    path, clock = tmp_path / "q.db", FakeClock()
    async with SQLiteQueue(path, clock=clock) as dead:
        await dead.enqueue([rec(day=f"2024-05-0{d}") for d in (1, 2, 3, 4)])
        async with dead.account_leases(["acme"]):
            await claim(dead, limit=2)
            delayed = await claim(dead, limit=1)
            await dead.release(delayed, delayed.records, delay_s=30)
    async with SQLiteQueue(path, clock=clock) as user:
        await claim(user, limit=1)  # the Python API's, without the lock
    async with SQLiteQueue(path, clock=clock) as runner, runner.account_leases(["acme"]):
        counts = (await runner.counts()).accounts["acme"]
        assert (counts.pending, counts.delayed, counts.leased) == (2, 1, 1)
        again = await claim(runner)
        assert [(r.day, r.attempts) for r in again.records] == [
            ("2024-05-01", 2),
            ("2024-05-02", 2),
        ]
        assert await runner.due_in() == {"acme": START + 30 - clock.now}
        await runner.ack(again, again.records, entry("b1", again))
        clock.advance(LEASE_S)
        assert [r.day for r in (await claim(runner)).records] == ["2024-05-03", "2024-05-04"]


async def test_claims_of_no_live_runner_count_as_pending_with_their_age(tmp_path: Path) -> None:
    """Another process counts a live runner's claims as leased, and a dead one's as pending."""
    # (A claim made without the lock counts as leased until it runs out: the contract's.)
    path, clock = tmp_path / "q.db", FakeClock()
    async with SQLiteQueue(path, clock=clock) as runner:
        await runner.enqueue([rec()])
        clock.advance(5)
        async with runner.account_leases(["acme"]):
            await claim(runner)
            own = (await runner.counts()).accounts["acme"]
            async with SQLiteQueue(path, clock=clock) as looker:
                other = (await looker.counts()).accounts["acme"]
            for counts in (own, other):
                assert (counts.pending, counts.leased, counts.oldest_pending_at) == (0, 1, None)
        # The runner is gone (its lock with it); its claim stays in the file.
        async with SQLiteQueue(path, clock=clock) as looker:
            counts = (await looker.counts()).accounts["acme"]
    assert (counts.pending, counts.leased, counts.oldest_pending_at) == (1, 0, START)


async def test_a_schema_2_file_gains_the_runner_column_and_keeps_its_claims(
    tmp_path: Path,
) -> None:
    """A schema 2 file is migrated in place; its claims, made before runners said so, are
    nobody's runner's: counted as leased until they run out."""
    path, clock = tmp_path / "q.db", FakeClock()
    async with SQLiteQueue(path, clock=clock) as old:
        await old.enqueue([rec(), rec("INV2")])
        await claim(old, limit=1)
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.executescript(
            "ALTER TABLE leases DROP COLUMN runner; ALTER TABLE records DROP COLUMN confirmed;"
            "PRAGMA user_version = 2;"
        )
    async with SQLiteQueue(path, clock=clock) as queue, queue.account_leases(["acme"]):
        counts = (await queue.counts()).accounts["acme"]
        assert (counts.pending, counts.leased) == (1, 1)
        clock.advance(LEASE_S)
        assert len((await claim(queue)).records) == 2
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 3


async def test_queue_files_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    """The database, its WAL and shared-memory files and the runner's lock are created 0600."""
    previous = os.umask(0o022)  # the usual umask, which leaves 0644 files readable by all
    try:
        async with SQLiteQueue(tmp_path / "q.db") as queue, queue.account_leases(["acme"]):
            await queue.enqueue([rec()])
            found = modes(tmp_path)
    finally:
        os.umask(previous)
    assert found == {"q.db": 0o600, "q.db-wal": 0o600, "q.db-shm": 0o600, "q.db.lock": 0o600}


def modes(directory: Path) -> dict[str, int]:
    """The permission bits of each file in `directory`, by name."""
    return {p.name: stat.S_IMODE(p.stat().st_mode) for p in directory.iterdir()}
