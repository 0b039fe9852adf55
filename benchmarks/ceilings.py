"""The push path's two ceilings: the bare HTTP client and the bare SQLite loop.

Each does only its own half of the product's work on the same data: the HTTP ceiling posts
the very bodies the product would send to the same simulator, the storage ceiling reads and
deletes the very rows the product would claim, in 3000-row batches, one commit each, with
the queue's own pragmas. Whatever the product takes beyond their sum is its own cost.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from uploader.config import RegistrySettings
from uploader.queue.sqlite.connection import CACHE_KIB

BATCH = 3000  # rows per read and delete, as a claim of 3000 records
CONNECTIONS = RegistrySettings().connections  # the product's keep-alive connections
BATCH_PATH = "public/v2/generation-datas/batches"


@dataclass(frozen=True)
class Timing:
    """Wall seconds and this process's CPU seconds for one run (started: monotonic)."""

    wall_s: float
    cpu_s: float
    started: float = 0.0


async def post_all(base_url: str, bodies: Sequence[tuple[str, bytes]]) -> Timing:
    """Post every (account, body) over CONNECTIONS keep-alive connections; all must be 200."""
    work = iter(bodies)
    connector = aiohttp.TCPConnector(limit=CONNECTIONS)
    async with aiohttp.ClientSession(base_url.rstrip("/") + "/", connector=connector) as session:
        cpu, started = time.process_time(), time.perf_counter()
        await asyncio.gather(*(_poster(session, work) for _ in range(CONNECTIONS)))
        return Timing(time.perf_counter() - started, time.process_time() - cpu)


async def _poster(session: aiohttp.ClientSession, work: Iterator[tuple[str, bytes]]) -> None:
    for account, body in work:
        headers = {"Authorization": f"Bearer {account}", "Content-Type": "application/json"}
        async with session.post(BATCH_PATH, data=body, headers=headers) as response:
            await response.read()
            if response.status != 200:
                raise RuntimeError(f"the simulator answered {response.status}")


def read_and_delete(path: Path) -> tuple[Timing, int]:
    """Drain the queue file's pending rows, account by account, 3000 at a time.

    The same statements' shape as a claim (an ordered range read on the primary key, then a
    range delete up to the last row read), without leases, records or ledger. Each row read
    is its key and its record as a claim hands it out (`claimed`): everything a claim needs.
    Returns the timing and the rows read.
    """
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = FULL")
        db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        key = _primary_key(db)
        select = (
            f"SELECT {', '.join(key[1:])}, claimed FROM pending WHERE {key[0]} = ? "
            f"ORDER BY {', '.join(key[1:])} LIMIT ?"
        )
        delete = (
            f"DELETE FROM pending WHERE {key[0]} = ? AND ({', '.join(key[1:])}) <= "
            f"({', '.join('?' * (len(key) - 1))})"
        )
        accounts = [a for (a,) in db.execute(f"SELECT DISTINCT {key[0]} FROM pending")]
        cpu, started = time.process_time(), time.perf_counter()
        rows = sum(_drain_account(db, account, select, delete) for account in accounts)
        return Timing(time.perf_counter() - started, time.process_time() - cpu), rows


def _primary_key(db: sqlite3.Connection) -> list[str]:
    """The pending table's primary-key columns in order (the claim order)."""
    columns = db.execute("PRAGMA table_info(pending)").fetchall()
    return [name for _, name, *_, pk in sorted(columns, key=lambda c: c[-1]) if pk]


def _drain_account(db: sqlite3.Connection, account: int, select: str, delete: str) -> int:
    rows = 0
    while True:
        db.execute("BEGIN IMMEDIATE")
        batch = db.execute(select, (account, BATCH)).fetchall()
        if batch:
            db.execute(delete, (account, *batch[-1][:-1]))  # the last row's key
        db.execute("COMMIT")
        if not batch:
            return rows
        rows += len(batch)
