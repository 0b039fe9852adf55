"""The Redis backend's bookkeeping: dead letters, the ledger, and the counts.

Each method is one script (redis_scripts.lua); loops only where a call is bounded on purpose.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from uploader.queue import base
from uploader.queue.base import AccountCounts, DeadLetter, DeadRow, LedgerRow, QueueCounts
from uploader.queue.redis_conn import CHUNK, RedisConnection, optional, text

# Ledger rows or dead letters deleted per script call: a big purge must not stall the server
# for every other replica.
DELETE_CHUNK = 1000


def _str(value: bytes | None) -> str | None:
    return None if value is None else value.decode()


def _float(value: bytes | None) -> float | None:
    return None if value is None else float(value)


class RedisBooks(RedisConnection):
    """Dead letters, ledger rows and counts kept in Redis."""

    # -- dead letters --------------------------------------------------------------------

    async def dead_letter_rows(self, rows: Sequence[DeadRow]) -> None:
        """See `Queue.dead_letter_rows`."""
        now = text(self._clock())
        for start in range(0, len(rows), CHUNK):
            args: list[str] = [now]
            for r in rows[start : start + CHUNK]:
                args += (optional(r.account), r.source, r.raw, r.reason)
            await self._run("dead_rows", *args)

    async def list_dead(
        self, *, account: str | None = None, limit: int = 100, after_id: int = 0
    ) -> list[DeadLetter]:
        """See `Queue.list_dead`."""
        if limit <= 0:
            return []
        rows = await self._run("list_dead", optional(account), limit, after_id)
        return [_letter(row) for row in rows]

    async def replay_dead(self, *, account: str | None = None) -> int:
        """See `Queue.replay_dead`."""
        replayed: int = await self._run("replay_dead", optional(account))
        return replayed

    async def purge_dead(self, *, before: float | None = None) -> int:
        """See `Queue.purge_dead`; DELETE_CHUNK letters per script call."""
        newest = "" if before is None else text(before)
        now = text(self._clock())
        purged = 0
        while True:
            n: int = await self._run("purge_dead", newest, DELETE_CHUNK, now)
            purged += n
            if n < DELETE_CHUNK:
                return purged

    # -- reading the state ---------------------------------------------------------------

    async def accounts_pending(self) -> list[str]:
        """See `Queue.accounts_pending`."""
        names: list[bytes] = await self._run("accounts_pending", text(self._clock()))
        return sorted(name.decode() for name in names)

    async def next_available_at(self, account: str) -> float | None:
        """See `Queue.next_available_at`."""
        at: bytes | None = await self._run("next_available_at", account, text(self._clock()))
        return _float(at)

    async def in_flight(self) -> int:
        """See `Queue.in_flight`."""
        n: int = await self._run("in_flight", text(self._clock()))
        return n

    async def counts(self) -> QueueCounts:
        """See `Queue.counts`: aggregates kept per account, read in one script."""
        unattributed, rows = await self._run("counts", text(self._clock()))
        per: dict[str, AccountCounts] = {}
        for name, sent, pending, leased, dead, oldest, flags in rows:
            counts = AccountCounts(
                pending=int(pending),
                leased=int(leased),
                sent=int(sent),
                dead=int(dead),
                oldest_pending_at=_float(oldest),
            )
            for bits, count in zip(flags[::2], flags[1::2], strict=True):
                base.flag_counts(int(bits), int(count), counts.flagged)
            per[name.decode()] = counts
        return QueueCounts.build(per, int(unattributed))

    # -- the ledger ----------------------------------------------------------------------

    async def ledger_awaiting_status(self, account: str, limit: int) -> list[LedgerRow]:
        """See `Queue.ledger_awaiting_status`."""
        if limit <= 0:
            return []
        rows = await self._run("ledger_awaiting", account, limit)
        return [
            LedgerRow(
                batch.decode(),
                account,
                int(records),
                float(sent_at),
                int(status),
                None if pid is None else int(pid),
                endpoint.decode(),
                _str(state),
                _float(state_at),
            )
            for batch, records, sent_at, status, pid, endpoint, state, state_at in rows
        ]

    async def set_ledger_status(self, batch_id: str, status: str) -> None:
        """See `Queue.set_ledger_status`."""
        await self._run("ledger_status", batch_id, status, text(self._clock()))

    async def prune_ledger(self, older_than: float) -> int:
        """See `Queue.prune_ledger`; DELETE_CHUNK rows per script call."""
        pruned = 0
        while True:
            n: int = await self._run("prune_ledger", text(older_than), DELETE_CHUNK)
            pruned += n
            if n < DELETE_CHUNK:
                return pruned


def _letter(row: list[Any]) -> DeadLetter:
    """A dead letter from list_dead's fields (see the script)."""
    letter_id, account, reason, source, at, rid, claim_key, period, accumulated, raw = row
    inverter = day = None
    if claim_key is not None:
        _, inverter, day = claim_key.decode().split("\0")
    return DeadLetter(
        id=int(letter_id),
        account=_str(account),
        reason=reason.decode(),
        source=_str(source),
        at=float(at),
        replayable=rid is not None,
        remote_inv_id=inverter,
        day=day,
        period_kwh=_str(period),
        accumulated_kwh=_str(accumulated),
        raw=_str(raw),
    )
