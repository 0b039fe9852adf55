"""The SQLite backend's connection: schema, transactions, account ids, and the lease plumbing
that the record flow (`records`) and the books (`books`) both use.

The layout and why it is shaped this way are described at the top of `queries.sql`.
Everything here runs on the queue's single thread (see `uploader.queue.sqlite`).
"""

from __future__ import annotations

import functools
import importlib.resources
import operator
import re
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import msgspec

from uploader.errors import QueueError
from uploader.queue.base import claim_key
from uploader.queue.types import Claim, QueuedRecord

SCHEMA_VERSION = 3
CACHE_KIB = 32 * 1024  # page cache; the enqueue's peak-memory goal is 150 MB in all
# bytes; 16 KiB pages cut a 1 M-row enqueue's time by ~15 % against 4 KiB (fewer pages to
# write to the WAL and checkpoint), claims alike or slightly faster.
PAGE_SIZE = 16384
MEMORY = ":memory:"  # SQLite's name for a database that lives in the connection

# A lease's records are kept as a claim handed them out: a JSON array of QueuedRecords.
encode_records = msgspec.json.Encoder().encode
decode_records = msgspec.json.Decoder(list[QueuedRecord]).decode
# Schema 1 kept (id, version, attempts, first_enqueued_at) per leased record, in msgpack.
decode_v1_items = msgspec.msgpack.Decoder(list[tuple[int, int, int, float]]).decode
# A ledger row's records: (id, version) pairs, in msgpack.
decode_pairs = msgspec.msgpack.Decoder(list[tuple[int, int]]).decode
_first_enqueued_at = operator.attrgetter("first_enqueued_at")


def _load_queries() -> dict[str, str]:
    text = importlib.resources.files(__package__ or "").joinpath("queries.sql").read_text()
    parts = re.split(r"^-- (\w+) --$", text, flags=re.MULTILINE)
    return {name: body.strip() for name, body in zip(parts[1::2], parts[2::2], strict=True)}


Q = _load_queries()
UPSERT_WIDTH = Q["upsert"].count("?")


@functools.lru_cache(maxsize=8)
def upsert_sql(rows: int) -> str:
    """The upsert statement with `rows` rows of values."""
    one = "(" + ", ".join("?" * UPSERT_WIDTH) + ")"
    return Q["upsert"].replace(one, ", ".join([one] * rows))


def _require_json(db: sqlite3.Connection) -> None:
    """Pending rows are written by SQLite's json_array (built in since SQLite 3.38)."""
    try:
        db.execute("SELECT json_array(1)")
    except sqlite3.OperationalError:
        raise QueueError(
            f"this Python's SQLite {sqlite3.sqlite_version} has no JSON functions; "
            "the queue needs SQLite 3.38 or newer (or one built with JSON1)"
        ) from None


class Connection:
    """An open queue database: one connection, and the helpers every operation shares.

    Every operation is one transaction (`BEGIN IMMEDIATE`, so concurrent processes wait on
    the busy timeout instead of failing on a lock upgrade).
    """

    def __init__(self, path: str, *, synchronous: str, busy_timeout_s: float) -> None:
        self.db = sqlite3.connect(path, isolation_level=None, timeout=busy_timeout_s)
        # Before WAL mode: it takes effect on a new file only (an existing one keeps its own).
        # In memory (MEMORY) WAL is refused quietly: the journal stays in memory too.
        self.db.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute(f"PRAGMA synchronous = {synchronous}")
        self.db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        self._create_schema()
        self.ids: dict[str, int] = {}  # account name -> id
        self.names: dict[int, str] = {}

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    def _create_schema(self) -> None:
        _require_json(self.db)
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise QueueError(f"the queue's schema {version} is newer than this uploader's")
        if version == 0:
            self.db.executescript(f"BEGIN IMMEDIATE;\n{Q['schema']}\nCOMMIT;")
        elif version == 1:
            self._migrate(self._leases_from_1, Q["migrate_1_before"], Q["migrate_2_columns"],
                          Q["schema"], Q["migrate_1_after"])  # fmt: skip
        elif version == 2:
            self._migrate(None, Q["migrate_2_columns"], f"PRAGMA user_version = {SCHEMA_VERSION};")
        if self.one("slots_exist") is None:  # checked first: an open writes nothing once made
            self.db.executescript(f"BEGIN IMMEDIATE;\n{Q['slots_schema']}\nCOMMIT;")

    def _migrate(self, then: Callable[[], None] | None, *scripts: str) -> None:
        """Run the scripts, `then`, and fill `confirmed` from the ledger: one transaction.

        Another process may have migrated the file since its version was read: the version is
        read again inside the transaction, and a file already migrated is left alone.
        """
        self.db.execute("BEGIN IMMEDIATE")
        if self.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
            self.db.execute("COMMIT")
            return
        self.db.execute("ROLLBACK")
        self.db.executescript("BEGIN IMMEDIATE;\n" + "\n".join(scripts))  # left open
        try:
            if then is not None:
                then()
            for (blob,) in self.db.execute(Q["ledger_confirmed_items"]).fetchall():
                self.db.executemany(Q["confirm_record"], decode_pairs(blob))
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _leases_from_1(self) -> None:
        """Schema 1's leases: every lease's records pending again.

        Leases of schema 1 are in another format; their holder was an older uploader, which
        cannot work on this file any more, so their records go back to pending at once.
        """
        for lease_id, blob in self.db.execute("SELECT id, items FROM leases").fetchall():
            params = [(a, first, rid, v) for rid, v, a, first in decode_v1_items(blob)]
            self.db.executemany(Q["repend"], params)
            self.db.execute(Q["lease_delete"], (lease_id,))

    @contextmanager
    def tx(self) -> Iterator[None]:
        """One transaction around the block: committed, or rolled back if it raises."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def one(self, name: str, params: Sequence[Any] = ()) -> Any:
        """The first column of the first row of a named query, or None."""
        row = self.db.execute(Q[name], params).fetchone()
        return None if row is None else row[0]

    def account(self, name: str, *, create: bool = False) -> int | None:
        """An account's id (made first with `create`), or None when it has none."""
        account_id = self.ids.get(name)
        if account_id is None:
            if create:
                self.db.execute(Q["account_add"], (name,))
            account_id = self.one("account_id", (name,))
            if account_id is not None:
                self.ids[name] = account_id
                self.names[account_id] = name
        return account_id

    def account_of(self, claim: Claim) -> int:
        """The id of a claim's account, which exists since it was claimed."""
        account_id = self.account(claim.account)
        if account_id is None:
            raise QueueError(f"unknown account {claim.account!r} in a claim")
        return account_id

    # -- leases ----------------------------------------------------------------------------

    def add_lease(
        self,
        account_id: int,
        until: float,
        records: Sequence[QueuedRecord],
        released: bool,
        text: str | None = None,
        runner: bool = False,
    ) -> int:
        """A lease row for `records` (`text`: their JSON, when the caller already has it);
        `runner`: a claim by the process holding the file's runner lock."""
        oldest = min(map(_first_enqueued_at, records))
        items = encode_records(records) if text is None else text
        params = (account_id, until, int(released), len(records), oldest, items, int(runner))
        lease_id: int = self.db.execute(Q["lease_add"], params).lastrowid  # type: ignore[assignment]
        return lease_id

    def reap(self, now: float) -> None:
        """Expired leases (and delays that ran out) put their records back into pending."""
        for lease_id, blob in self.db.execute(Q["leases_expired"], (now,)).fetchall():
            self.repend(decode_records(blob))
            self.db.execute(Q["lease_delete"], (lease_id,))

    def repend(self, records: Sequence[QueuedRecord]) -> None:
        """Leased records pending again, one attempt further."""
        # Only where the value is still the one leased: a changed value is pending already.
        params = [(r.attempts, r.first_enqueued_at, r.id, r.version) for r in records]
        self.db.executemany(Q["repend"], params)

    def take(self, claim: Claim, records: Sequence[QueuedRecord]) -> list[QueuedRecord] | None:
        """Remove records from their lease; None when the lease is gone (it expired)."""
        lease_id = int(claim.lease_id)
        row = self.db.execute(Q["lease_get"], (lease_id,)).fetchone()
        if row is None:
            return None
        ids = {r.id for r in records}
        taken: list[QueuedRecord] = []
        kept: list[QueuedRecord] = []
        for record in decode_records(row[3]):
            (taken if record.id in ids else kept).append(record)
        if kept:
            oldest = min(map(_first_enqueued_at, kept))
            self.db.execute(Q["lease_set"], (len(kept), oldest, encode_records(kept), lease_id))
        else:
            self.db.execute(Q["lease_delete"], (lease_id,))
        return taken

    def leased_refs(self, account_id: int) -> set[tuple[int, int]]:
        """(id, version) of every record in the account's leases, delayed releases included."""
        return {
            (r.id, r.version)
            for _, blob in self.db.execute(Q["account_leases"], (account_id,))
            for r in decode_records(blob)
        }

    def unpend(self, account_id: int, records: Sequence[QueuedRecord]) -> None:
        """After an expired lease: take the same values out of pending again."""
        params = [(account_id, *claim_key(r), r.version) for r in records]
        self.db.executemany(Q["unpend"], params)
