"""What only the SQLite backend promises: a file that outlives processes, shared safely."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import sqlite3
from pathlib import Path

import msgspec
import pytest

from tests.integration.queue.helpers import LEASE_S, FakeClock, entry, rec
from uploader.errors import ConfigError, QueueError
from uploader.queue import open_queue, sqlite_path
from uploader.queue.base import deadline_of_text
from uploader.queue.leases import LocalLeases
from uploader.queue.redis import RedisQueue
from uploader.queue.sqlite import SQLiteQueue
from uploader.queue.sqlite.connection import SCHEMA_VERSION
from uploader.testing import InMemoryQueue


async def test_records_and_leases_survive_reopening(tmp_path: Path) -> None:
    """Everything is in the file: a new queue object on it sees the same state."""
    clock = FakeClock()
    async with SQLiteQueue(tmp_path / "q.db", clock=clock) as queue:
        await queue.enqueue([rec(day="2024-05-01"), rec(day="2024-05-02")])
        held = await queue.claim("acme", 1, LEASE_S)
    async with SQLiteQueue(tmp_path / "q.db", clock=clock) as queue:
        counts = (await queue.counts()).accounts["acme"]
        assert (counts.pending, counts.leased) == (1, 1)
        assert held is not None
        await queue.ack(held, held.records, entry("b1", held))
        assert (await queue.counts()).accounts["acme"].sent == 1


async def test_two_queues_on_one_file_never_claim_the_same_record(tmp_path: Path) -> None:
    """Concurrent claimers (two processes' connections) get disjoint records."""
    path = tmp_path / "q.db"
    async with SQLiteQueue(path) as one, SQLiteQueue(path) as two:
        await one.enqueue([rec(f"INV{n}") for n in range(300)])
        claims = await asyncio.gather(*(q.claim("acme", 7, LEASE_S) for q in [one, two] * 30))
        ids = [r.id for c in claims if c is not None for r in c.records]
        assert len(ids) == len(set(ids)) == 300


async def test_enqueue_runs_off_the_event_loop(tmp_path: Path) -> None:
    """The loop keeps running other tasks while SQLite writes (the work is on its thread)."""
    ticks = 0
    done = asyncio.Event()

    async def heartbeat() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0)

    records = [rec(f"INV{n}", day=f"2024-05-{d:02d}") for n in range(500) for d in range(1, 21)]
    async with SQLiteQueue(tmp_path / "q.db") as queue:
        beating = asyncio.create_task(heartbeat())
        await queue.enqueue(records)
        seen = ticks
        done.set()
        await beating
    assert seen > 0


async def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    """A file written by a newer uploader is not misread."""
    path = tmp_path / "q.db"
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA user_version = 99")
        db.commit()
    with pytest.raises(QueueError, match="newer"):
        async with SQLiteQueue(path):
            pass


async def test_an_unusable_path_is_a_queue_error(tmp_path: Path) -> None:
    """A path that cannot hold a database fails on open with QueueError."""
    (tmp_path / "file").write_text("")
    with pytest.raises(QueueError):
        async with SQLiteQueue(tmp_path / "file" / "q.db"):
            pass


def test_sqlite_urls_name_relative_and_absolute_files() -> None:
    """sqlite:rel/q.db is relative; sqlite:///abs/q.db (three slashes) is absolute."""
    assert sqlite_path("sqlite:queue.db") == "queue.db"
    assert sqlite_path("sqlite:data/queue.db") == "data/queue.db"
    assert sqlite_path("sqlite:///var/lib/uploader/queue.db") == "/var/lib/uploader/queue.db"
    assert sqlite_path("sqlite:/var/queue.db") == "/var/queue.db"
    for unclear in ("sqlite://host/queue.db", "sqlite:"):
        with pytest.raises(ConfigError, match="sqlite:///absolute"):
            sqlite_path(unclear)


async def test_open_queue_chooses_the_backend_by_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """memory:, sqlite: and redis:// name their backends; anything else is refused."""
    monkeypatch.chdir(tmp_path)
    assert isinstance(open_queue("memory:"), InMemoryQueue)
    async with open_queue("sqlite:sub/q.db") as queue:
        assert isinstance(queue, SQLiteQueue)
        await queue.enqueue([rec()])
    assert (tmp_path / "sub" / "q.db").exists()
    assert isinstance(open_queue("redis://127.0.0.1:6379/0"), RedisQueue)  # not yet connected
    with pytest.raises(ConfigError, match="is not memory:"):
        open_queue("postgres://x")


async def test_a_local_queue_says_it_has_no_accounts_to_share(tmp_path: Path) -> None:
    """memory: and sqlite: queues hand out LocalLeases explicitly (never None), held at once."""
    for url in ("memory:", f"sqlite:///{tmp_path / 'q.db'}"):
        async with open_queue(url) as queue, queue.account_leases(["acme"]) as leases:
            assert isinstance(leases, LocalLeases)
            assert leases.held() == {"acme"}


async def test_a_schema_1_file_is_migrated_with_its_pending_and_leased_records(
    tmp_path: Path,
) -> None:
    """Opening a schema 1 file rewrites it to the current schema; leased records are pending
    again."""
    path, clock = tmp_path / "q.db", FakeClock()
    _write_schema_1_file(path, now=clock())
    async with SQLiteQueue(path, clock=clock) as queue:
        first = await queue.claim("acme", 10, LEASE_S)
        assert first is not None
        assert [(r.remote_inv_id, r.period_kwh, r.attempts) for r in first.records] == [
            ("INV1", "1.5", 3),
            ("INV2", "2.25", 1),
            ("INV3", "3", 2),
        ]
        clock.advance(LEASE_S + 1)  # a lease of schema 2 runs out as any other
        again = await queue.claim("acme", 10, LEASE_S)
        assert again is not None
        assert [(r.remote_inv_id, r.attempts) for r in again.records] == [
            ("INV1", 4),
            ("INV2", 2),
            ("INV3", 3),
        ]
        await queue.enqueue([rec("INV1", period="9")])  # the trigger of schema 2 works
        assert (await queue.counts()).accounts["acme"].pending == 1
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


async def test_a_schema_2_file_learns_what_its_ledger_confirmed(tmp_path: Path) -> None:
    """Opening a schema 2 file adds the confirmed versions, read from its ledger's Success rows."""
    path = tmp_path / "q.db"
    async with SQLiteQueue(path) as queue:
        await queue.enqueue([rec("INV1"), rec("INV2")])
        held = await queue.claim("acme", 10, LEASE_S)
        assert held is not None
        await queue.ack(held, held.records[:1], entry("b1", held, process_id=1))
        await queue.ack(held, held.records[1:], entry("b2", held, process_id=2))
        await queue.set_ledger_status("b1", "Success")
    with contextlib.closing(sqlite3.connect(path)) as db:  # back to schema 2
        db.executescript(
            "ALTER TABLE records DROP COLUMN confirmed; ALTER TABLE leases DROP COLUMN runner;"
            "PRAGMA user_version = 2;"
        )
    async with SQLiteQueue(path) as queue:
        day = dt.date(2024, 5, 1)
        states = [(r.remote_inv_id, r.state) async for rows in
                  queue.records_between("acme", day, day) for r in rows]  # fmt: skip
        assert states == [("INV1", "confirmed"), ("INV2", "sent")]
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3


def _write_schema_1_file(path: Path, now: float) -> None:
    """Three records of schema 1: two pending (one claimed twice before), one leased."""
    schema = (Path(__file__).parent / "schema_v1.sql").read_text()
    items = msgspec.msgpack.encode([(3, 1, 1, now - 5)])  # (id, version, attempts, first)
    deadline = deadline_of_text("2024-05-01")
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.executescript(schema)
        db.execute("INSERT INTO accounts (id, name) VALUES (1, 'acme')")
        for n, value in ((1, "1.5"), (2, "2.25"), (3, "3")):
            db.execute(
                "INSERT INTO records (id, account, remote_inv_id, day, period_kwh, "
                "accumulated_kwh, flags, deadline, first_enqueued_at) "
                "VALUES (?, 1, ?, '2024-05-01', ?, '100', 0, ?, ?)",
                (n, f"INV{n}", value, deadline, now - 5),
            )
        db.execute(
            "INSERT INTO pending VALUES (1, ?1, 'INV1', '2024-05-01', 1, 1, '1.5', '100', 2, ?2),"
            " (1, ?1, 'INV2', '2024-05-01', 2, 1, '2.25', '100', 0, ?2)",
            (deadline, now - 5),
        )
        db.execute(
            "INSERT INTO leases (account, until, released, n, oldest, items) "
            "VALUES (1, ?, 0, 1, ?, ?)",
            (now + LEASE_S, now - 5, items),
        )
        db.commit()
