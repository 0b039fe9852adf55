"""The Redis backend: one queue shared by several processes (replicas) through one Redis.

Every operation is one Lua script (redis_scripts.lua, run with EVALSHA), so it is atomic:
two replicas never claim the same record, and a process killed at any moment leaves whole
operations only; its unacked leases expire and their records are pending again. Times come
from the `clock` argument, never from the server. An enqueue goes CHUNK records to a script
call, so a killed enqueue leaves whole chunks. What the server keeps across its own restart
is its persistence setting's business (appendonly; see docs/decisions.md).

    queue = "redis://host:6379/0"                 keys under "uploader:"
    queue = "redis://:password@host:6379/2?prefix=site-a"
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence

import msgspec

from uploader.errors import QueueError
from uploader.queue import base
from uploader.queue.base import Claim, EnqueueResult, LedgerEntry, Queue, QueuedRecord
from uploader.queue.redis_books import RedisBooks
from uploader.queue.redis_conn import CHUNK, optional, text
from uploader.records import Record, canonical

__all__ = ["RedisQueue"]

encode = msgspec.json.Encoder().encode
pack = msgspec.msgpack.Encoder().encode
# A claim comes back as one JSON array of QueuedRecords (the scripts join the stored forms).
decode_records = msgspec.json.Decoder(list[QueuedRecord]).decode


class RedisQueue(RedisBooks, Queue):
    """The queue in Redis: `redis[s]://[user:password@]host:port/db[?prefix=NAME]`.

    `prefix` (default "uploader", or the URL's) starts every key, so several queues can share
    a server; `clock` gives wall-clock seconds (injectable for tests).
    """

    def __init__(
        self, url: str, *, prefix: str | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(url, prefix=prefix, clock=clock)
        self._days: dict[dt.date, tuple[str, str]] = {}  # day -> its text and deadline

    async def enqueue(self, records: Sequence[Record]) -> EnqueueResult:
        """See `Queue.enqueue`; one script call per CHUNK records of an account."""
        now = text(self._clock())
        changed = 0
        for account, group in _by_account(records).items():
            for start in range(0, len(group), CHUNK):
                upserts = self._upserts(group[start : start + CHUNK])
                changed += await self._run("enqueue", account, now, upserts)
        return EnqueueResult(changed, len(records) - changed)

    def _upserts(self, records: Sequence[Record]) -> bytes:
        """One msgpack array of strings, six per record: claim key, the JSON of inverter and
        day, the values, the flags, the source (see the script).

        One argument, not six per record: redis-py packs each argument in Python, which cost
        more than everything else an enqueue does on this side.
        """
        days = self._days
        fields: list[str] = []
        extend = fields.extend
        for r in records:
            day, deadline = days.get(r.day) or _day(days, r.day)
            inverter = r.remote_inv_id
            extend((f"{deadline}\0{inverter}\0{day}", encode((inverter, day))[1:-1].decode(),
                    canonical(r.period_kwh), canonical(r.accumulated_kwh), str(int(r.flags)),
                    optional(r.source)))  # fmt: skip
        return pack(fields)

    async def claim(
        self, account: str, limit: int, lease_s: float, *, one_inverter: bool = False
    ) -> Claim | None:
        """See `Queue.claim`: one script call returns the records as one JSON text."""
        if limit <= 0:
            return None
        now = self._clock()
        until = now + lease_s
        args = (account, limit, text(now), text(until), int(one_inverter))
        found = await self._run("claim", *args)
        if found is None:
            return None
        lease_id, records = found
        return Claim(lease_id.decode(), account, decode_records(records), until)

    async def ack(self, claim: Claim, records: Sequence[QueuedRecord], entry: LedgerEntry) -> None:
        """See `Queue.ack`; QueueError when the batch is already in the ledger."""
        items = encode([(r.id, r.version) for r in records])
        await self._run(
            "ack",
            claim.account,
            claim.lease_id,
            len(records),
            entry.batch_id,
            text(entry.sent_at),
            entry.records,
            entry.http_status,
            optional(entry.process_id),
            entry.endpoint,
            items,
        )

    async def release(
        self, claim: Claim, records: Sequence[QueuedRecord], delay_s: float = 0.0
    ) -> None:
        """See `Queue.release`."""
        until = text(self._clock() + delay_s) if delay_s > 0 else ""
        await self._run("release", claim.account, claim.lease_id, until, *[r.id for r in records])

    async def reject(self, claim: Claim, rejections: Sequence[tuple[QueuedRecord, str]]) -> None:
        """See `Queue.reject`."""
        args: list[str | int] = [claim.account, claim.lease_id, text(self._clock())]
        for record, reason in rejections:
            args += (record.id, record.version, reason)
        await self._run("reject", *args)

    async def extend(self, claim: Claim, lease_s: float) -> Claim:
        """See `Queue.extend`."""
        now = self._clock()
        until = now + lease_s
        if not await self._run("extend", claim.lease_id, text(now), text(until)):
            raise QueueError(f"lease {claim.lease_id} has expired")
        return msgspec.structs.replace(claim, lease_until=until)

    async def requeue_batch(self, batch_id: str) -> int:
        """See `Queue.requeue_batch`."""
        reason = f"{base.FAILED_TWICE} (batch {batch_id})"
        requeued: int = await self._run("requeue_batch", batch_id, text(self._clock()), reason)
        return requeued


def _by_account(records: Sequence[Record]) -> dict[str, list[Record]]:
    """The records of each account, in their order (a key enqueued twice: the last wins)."""
    groups: dict[str, list[Record]] = {}
    for r in records:
        group = groups.get(r.account)
        if group is None:
            group = groups[r.account] = []
        group.append(r)
    return groups


def _day(days: dict[dt.date, tuple[str, str]], day: dt.date) -> tuple[str, str]:
    """A day's text and its claim deadline as 8 digits (fixed width: members compare bytewise)."""
    if len(days) > 100_000:
        days.clear()
    entry = days[day] = (day.isoformat(), f"{base.deadline_key(day):08d}")
    return entry
