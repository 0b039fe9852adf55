"""The Redis backend: one queue shared by several processes (replicas) through one Redis.

Every operation is one Lua script (scripts.lua, run with EVALSHA), so it is atomic: two
replicas never claim the same record, and a process killed at any moment leaves whole
operations only; its unacked leases expire and their records are pending again. Times come
from the queue's clock, never from the server. An enqueue goes CHUNK records to a script
call, so a killed enqueue leaves whole chunks. What the server keeps across its own restart
is its persistence setting's business (appendonly; see docs/decisions.md).

    queue = "redis://host:6379/0"                 keys under "uploader:"
    queue = "redis://:password@host:6379/2?prefix=site-a"
    queue = "redis://127.0.0.1:6379/0?durability=none"   a server that keeps nothing on disk

Modules: `connection` (URL, client, checks, scripts), `replies` (reading the scripts'
answers), `leases` (the replicas' share of the accounts), `scripts.lua` (the queue),
`fleet.lua` (members and account leases) and `limiter.lua` (the limiter's slots and shared
budgets). Imported only when a Redis queue is made: it needs redis-py.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Self

import msgspec

from uploader.queue.base import Queue, deadline_key
from uploader.queue.delivery import PAGE
from uploader.queue.redis import replies
from uploader.queue.redis.connection import CHUNK, RedisConnection, optional, text
from uploader.queue.redis.leases import RedisLeases, not_held
from uploader.queue.slots import SharedBudget, SlotRow
from uploader.queue.types import (
    AccountCounts,
    Claim,
    DeadLetter,
    DeadRow,
    Delivered,
    EnqueueRow,
    Extended,
    LeaseChange,
    LedgerRow,
    QueuedRecord,
    Refused,
    Requeued,
    Returned,
    Scope,
    StoredRecord,
)

__all__ = ["RedisQueue"]

# Ledger rows or dead letters deleted per script call: a big purge must not stall the server
# for every other replica.
DELETE_CHUNK = 1000

# Claim keys a records_between scan looks at per call, for a page of PAGE records: the
# server matches them against the range's days itself, so most are passed over cheaply.
SCAN_COUNT = 2000
encode = msgspec.json.Encoder().encode
pack = msgspec.msgpack.Encoder().encode


class RedisQueue(Queue):
    """The queue in Redis: `redis[s]://[user:password@]host:port/db[?prefix=NAME]`.

    `prefix` (default "uploader", or the URL's) starts every key, so several queues can share
    a server; `durability="none"` (or the URL's `?durability=none`) accepts a server that
    keeps nothing on disk; `clock` gives wall-clock seconds (injectable for tests).
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str | None = None,
        durability: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(clock=clock)
        self._connection = RedisConnection(url, prefix=prefix, durability=durability)
        self._leases: RedisLeases | None = None  # when serving: claims carry their tokens

    @classmethod
    def from_url(cls, url: str, *, clock: Callable[[], float] = time.time) -> Self:
        """`redis://` or `rediss://` (TLS), with the prefix in `?prefix=` (and
        `?durability=none` for a server that keeps nothing on disk)."""
        return cls(url, clock=clock)

    def __repr__(self) -> str:
        return f"<RedisQueue {self._connection.describe()}>"

    @property
    def prefix(self) -> str:
        """Every key of this queue starts with `prefix:`."""
        return self._connection.target.prefix

    @property
    def identity(self) -> str:
        """The queue's identity, made once with it (see `fleet.lua`); '' until opened."""
        return self._connection.identity

    def account_leases(self, accounts: Sequence[str]) -> RedisLeases:
        """This replica's share of `accounts` among the live replicas (see `leases`); from now
        on, this queue claims only for the accounts they hold (fencing)."""
        self._leases = RedisLeases(self._connection, accounts)
        return self._leases

    async def open(self) -> None:
        """Connect, check the server keeps what it is given, and load the scripts."""
        await self._connection.open()

    async def close(self) -> None:
        """Close the connections."""
        await self._connection.close()

    async def _run(self, name: str, *args: Any) -> Any:
        """Every operation goes through here: one script call."""
        return await self._connection.run(name, *args)

    async def _run_chunked(self, name: str, *args: Any) -> int:
        """A deleting script, DELETE_CHUNK at a call until it finds fewer; how many in all."""
        done = 0
        while True:
            n: int = await self._run(name, *args, DELETE_CHUNK)
            done += n
            if n < DELETE_CHUNK:
                return done

    # -- records and leases ----------------------------------------------------------------

    async def _enqueue(self, rows: Iterable[EnqueueRow], now: float) -> int:
        at, changed = text(now), 0
        for account, group in _by_account(rows).items():
            for start in range(0, len(group), CHUNK):
                changed += await self._run(
                    "enqueue", account, at, _upserts(group[start : start + CHUNK])
                )
        return changed

    async def _claim(
        self, account: str, limit: int, scope: Scope, now: float, until: float
    ) -> tuple[str, list[QueuedRecord]] | None:
        one_inverter, one_year = int(scope.one_inverter), int(scope.one_year)
        fence = ""
        if self._leases is not None:
            fence = self._leases.token(account) or ""
            if not fence:
                raise not_held(account)
        found = await self._run(
            "claim", account, limit, text(now), text(until), one_inverter, one_year, fence
        )
        if found is None:
            return None
        lease_id, records = found
        return lease_id.decode(), replies.decode_records(records)

    async def _change_lease(
        self, claim: Claim, records: Sequence[QueuedRecord], change: LeaseChange
    ) -> bool:
        lease, account = claim.lease_id, claim.account
        match change:
            case Extended(now, until):
                live = await self._run("extend", lease, text(now), text(until))
            case Delivered(e):
                items = encode([(r.id, r.version) for r in records])
                live = await self._run("ack", account, lease, len(records), e.batch_id,
                                       text(e.sent_at), e.records, e.http_status,
                                       optional(e.process_id), e.endpoint, items)  # fmt: skip
            case Returned(until):
                held = "" if until is None else text(until)
                live = await self._run("release", account, lease, held, *[r.id for r in records])
            case Refused(reasons, at):
                args: list[str | int] = [account, lease, text(at)]
                for record, reason in zip(records, reasons, strict=True):
                    args += (record.id, record.version, reason)
                live = await self._run("reject", *args)
        return bool(live)

    async def _requeue_batch(
        self, batch_id: str, now: float, dead_at: int, reason: str
    ) -> Requeued:
        requeued, dead = await self._run("requeue_batch", batch_id, text(now), dead_at, reason)
        return Requeued(int(requeued), int(dead))

    # -- dead letters ----------------------------------------------------------------------

    async def _dead_letter_rows(self, rows: Sequence[DeadRow], now: float) -> None:
        at = text(now)
        for start in range(0, len(rows), CHUNK):
            args: list[str] = [at]
            for r in rows[start : start + CHUNK]:
                args += (optional(r.account), r.source, r.raw, r.reason)
            await self._run("dead_rows", *args)

    async def _list_dead(self, account: str | None, limit: int, after_id: int) -> list[DeadLetter]:
        found = await self._run("list_dead", optional(account), limit, after_id)
        return [replies.dead_letter(row) for row in found]

    async def _replay_dead(self, account: str | None) -> int:
        replayed: int = await self._run("replay_dead", optional(account))
        return replayed

    async def _purge_dead(self, before: float | None, now: float) -> int:
        return await self._run_chunked(
            "purge_dead", "" if before is None else text(before), text(now)
        )

    # -- reading the state -----------------------------------------------------------------

    async def _availability(self, now: float) -> dict[str, float]:
        found: list[bytes] = await self._run("availability", text(now))
        return {name.decode(): float(at) for name, at in zip(found[::2], found[1::2], strict=True)}

    async def _drained(self, account: str) -> bool:
        return bool(await self._run("drained", account))

    async def _known_days(self, account: str, remote_inv_id: str, year: int) -> dict[str, str]:
        # The claim keys of every day of the year: the records' index is keyed by them.
        first = dt.date(year, 1, 1)
        days = (first + dt.timedelta(days=n) for n in range((dt.date(year + 1, 1, 1) - first).days))
        ckeys = [claim_member_key(deadline_key(d), remote_inv_id, d.isoformat()) for d in days]
        found: list[bytes] = await self._run("known_days", account, *ckeys)
        return {d.decode(): p.decode() for d, p in zip(found[::2], found[1::2], strict=True)}

    async def _in_flight(self, now: float) -> int:
        n: int = await self._run("in_flight", text(now))
        return n

    async def _counts(self, now: float) -> tuple[dict[str, AccountCounts], int]:
        unattributed, found = await self._run("counts", text(now))
        return replies.account_counts(found), int(unattributed)

    # -- the ledger ------------------------------------------------------------------------

    async def _ledger_awaiting(self, account: str, limit: int) -> list[LedgerRow]:
        found = await self._run("ledger_awaiting", account, limit)
        return [replies.ledger_row(account, row) for row in found]

    async def _set_ledger_status(
        self, batch_id: str, status: str, now: float, confirms: bool
    ) -> None:
        await self._run("ledger_status", batch_id, status, text(now), int(confirms))

    async def _prune_ledger(self, older_than: float) -> int:
        return await self._run_chunked("prune_ledger", text(older_than))

    # -- delivery read back ----------------------------------------------------------------

    async def _records_between(
        self,
        account: str,
        first: str,
        last: str,
        inverter: str | None,
        cursor: str,
        limit: int,
        now: float,
    ) -> tuple[list[StoredRecord], str | None]:
        head = (account, first, last, text(now))
        if inverter is None:  # the account's records: a scan of its claim keys, whose days
            # share the range's common prefix (matched by the server, at C speed)
            match = "*\0" + _common_prefix(first, last) + "*"
            scan = (cursor or "0", SCAN_COUNT * limit // PAGE, match)
            after, rows = await self._run("records_between", *head, "scan", *scan)
            found = [replies.stored_record(row) for row in rows]
            return found, None if after == b"0" else after.decode()
        # One inverter: its claim keys are known, day by day.
        start = dt.date.fromisoformat(cursor or first)
        end = min(dt.date.fromisoformat(last), start + dt.timedelta(days=limit - 1))
        ckeys = [claim_key_of(inverter, start + dt.timedelta(days=n))
                 for n in range((end - start).days + 1)]  # fmt: skip
        _, rows = await self._run("records_between", *head, "keys", *ckeys)
        found = [replies.stored_record(row) for row in rows]
        return found, None if end.isoformat() >= last else (end + dt.timedelta(days=1)).isoformat()

    async def _requeue(self, account: str, refs: list[tuple[int, int]], now: float) -> int:
        requeued = 0
        for start in range(0, len(refs), CHUNK):
            args = [n for ref in refs[start : start + CHUNK] for n in ref]
            requeued += await self._run("requeue", account, text(now), *args)
        return requeued

    async def _awaiting_items(self, account: str) -> list[tuple[int, int]]:
        found: list[bytes] = await self._run("awaiting_items", account)
        return [pair for items in found for pair in replies.decode_pairs(items)]

    async def _deadlines(self, today: int, cutoff: int) -> dict[str, tuple[int, int, int | None]]:
        found = await self._run("deadlines", f"{today:08d}", f"{cutoff + 1:08d}")
        return {
            name.decode(): (int(closing), int(closed), None if soonest is None else int(soonest))
            for name, closing, closed, soonest in found
        }

    # -- the limiter's slots ---------------------------------------------------------------

    async def _record_slots(self, rows: Sequence[tuple[str, str, str, float]], now: float) -> None:
        step = CHUNK // 4
        for start in range(0, len(rows), step):
            args: list[str] = [text(now)]
            for owner, key, slot, until in rows[start : start + step]:
                args += (owner, key, slot, text(until))
            await self._run("slots_put", *args)

    async def _recent_slots(self, owners: Sequence[str], now: float) -> list[SlotRow]:
        found: list[bytes] = await self._run("slots_of", text(now), *owners)
        rows = []
        for owner, member, until in zip(found[::3], found[1::3], found[2::3], strict=True):
            key, _, slot = member.decode().partition("\0")
            rows.append(SlotRow(owner.decode(), key, slot, float(until)))
        return rows

    def shared_budget(self, name: str) -> RedisBudget:
        """The budget `name` in this queue's Redis, shared by every replica on it."""
        return RedisBudget(self, name)


def _common_prefix(a: str, b: str) -> str:
    """The characters two texts start with alike (no glob character in a date)."""
    n = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    return a[:n]


def claim_key_of(inverter: str, day: dt.date) -> str:
    """The claim key a record of `inverter` on `day` is stored under (see the script)."""
    return f"{deadline_key(day):08d}\0{inverter}\0{day.isoformat()}"


class RedisBudget(SharedBudget):
    """A budget's slots in two ZSETs: in flight, and cooling (see limiter.lua)."""

    def __init__(self, queue: RedisQueue, name: str) -> None:
        self._queue = queue
        self.name = name

    def __repr__(self) -> str:
        return f"<RedisBudget {self.name!r} prefix={self._queue.prefix!r}>"

    async def take(
        self, slot: str, now: float, until: float, limit: int, window_s: float
    ) -> float | None:
        args = (self.name, limit, text(now), slot, text(until), text(window_s))
        wake: bytes = await self._queue._run("budget_take", *args)
        return float(wake) if wake else None

    async def settle(self, slots: Sequence[tuple[str, float | None]], now: float) -> None:
        for start in range(0, len(slots), CHUNK // 2):
            args: list[str] = [self.name, text(now)]
            for slot, free_at in slots[start : start + CHUNK // 2]:
                args += (slot, "" if free_at is None else text(free_at))
            await self._queue._run("budget_settle", *args)


def _by_account(rows: Iterable[EnqueueRow]) -> dict[str, list[EnqueueRow]]:
    """The rows of each account, in their order (a key enqueued twice: the last wins)."""
    groups: dict[str, list[EnqueueRow]] = {}
    for row in rows:
        group = groups.get(row[0])
        if group is None:
            group = groups[row[0]] = []
        group.append(row)
    return groups


def claim_member_key(deadline: int, inverter: str, day: str) -> str:
    """A record's claim key as the scripts keep it (see scripts.lua)."""
    return f"{deadline:08d}\0{inverter}\0{day}"


def _upserts(rows: Sequence[EnqueueRow]) -> bytes:
    """One msgpack array of strings, six per record: claim key, the JSON of inverter and day,
    the values, the flags, the source (see the script).

    One argument, not six per record: redis-py packs each argument in Python, which cost more
    than everything else an enqueue does on this side. The claim key's deadline has 8 digits:
    fixed width, so members compare bytewise in claim order.
    """
    fields: list[str] = []
    extend = fields.extend
    for _, inverter, day, period, accumulated, flags, source, deadline in rows:
        extend((claim_member_key(deadline, inverter, day), encode((inverter, day))[1:-1].decode(),
                period, accumulated, str(int(flags)), optional(source)))  # fmt: skip
    return pack(fields)
