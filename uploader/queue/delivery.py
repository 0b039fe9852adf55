"""Delivery read back: where each stored record stands, and the re-pend of delivered ones.

What `uploader reconcile`, `request-issuance`, `status` and `/metrics` need from the queue, as
rules over a few storage reads (`Queue` inherits them; each backend supplies the `_methods`):

- `records_between` pages through an account's stored records of a day range with the state
  of each current value (`RecordState`). The state is derived from where the record is
  (pending, a live claim, a dead letter), so the push path pays nothing for it; `confirmed`
  is kept per record when the registry reports a batch's processing `Success`, so it
  outlives the ledger row (pruned after `worker.ledger_retention_days`).
- `requeue` makes delivered records pending again with their value unchanged: the registry
  lost or changed them. An enqueue of an unchanged value is a no-op by design, so this is the
  only way to send a value again. A record pending, leased, dead or changed since the read is
  left alone; a requeued record is no longer confirmed.
- `records_awaiting_status`: the records of batches whose processing is not final yet (the
  registry may not hold them yet, so a read-back must not count them missing).
- `deadlines`: pending records per account by residual-mix claim deadline.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import get_args

from uploader.queue.types import DeadlineCounts, RecordState, StoredRecord

__all__ = ["PAGE", "RECORD_STATES", "DeliveryBooks", "deadline_text"]

PAGE = 1000  # records per storage read: one short transaction (or script) each
RECORD_STATES: tuple[RecordState, ...] = get_args(RecordState)
StateCounts = dict[RecordState, int]


def deadline_text(key: int) -> str:
    """A YYYYMMDD deadline key as "YYYY-MM-DD"."""
    text = f"{key:08d}"
    return f"{text[:4]}-{text[4:6]}-{text[6:]}"


def _key(day: dt.date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


class DeliveryBooks(abc.ABC):
    """The delivery reads of `Queue`; `_clock` is the queue's."""

    _clock: Callable[[], float]

    async def records_between(
        self,
        account: str,
        first: dt.date,
        last: dt.date,
        *,
        inverter: str | None = None,
        page: int = PAGE,
    ) -> AsyncIterator[list[StoredRecord]]:
        """The account's stored records of days `first`..`last` (of one inverter, or all),
        page by page, each once, with the state of its current value.

        Pages are separate reads: a record that changes between two of them is seen as it
        was when its page was read.
        """
        seen: set[int] = set()  # a Redis scan may hand an entry out twice
        cursor: str | None = ""
        since, until = first.isoformat(), last.isoformat()
        while cursor is not None:
            rows, cursor = await self._records_between(
                account, since, until, inverter, cursor, page, self._clock()
            )
            fresh = [row for row in rows if row.id not in seen]
            seen.update(row.id for row in fresh)
            if fresh:
                yield fresh

    async def state_counts(
        self, account: str, first: dt.date, last: dt.date, inverters: Iterable[str]
    ) -> dict[str, StateCounts]:
        """Per inverter, how many of its stored records of `first`..`last` are in each state."""
        counts: dict[str, StateCounts] = {}
        for inverter in inverters:
            mine = counts.setdefault(inverter, dict.fromkeys(RECORD_STATES, 0))
            async for rows in self.records_between(account, first, last, inverter=inverter):
                for row in rows:
                    mine[row.state] += 1
        return counts

    async def requeue(self, account: str, records: Sequence[StoredRecord]) -> int:
        """Delivered records pending again, values unchanged (attempts from one); see the
        module docstring for what is left alone. Returns how many became pending."""
        if not records:
            return 0
        refs = [(r.id, r.version) for r in records]
        return await self._requeue(account, refs, self._clock())

    async def records_awaiting_status(self, account: str) -> frozenset[tuple[int, int]]:
        """(id, version) of the records carried by the account's batches whose processing
        the registry has not reported final yet."""
        return frozenset(await self._awaiting_items(account))

    async def deadlines(self, today: dt.date, within_days: int) -> dict[str, DeadlineCounts]:
        """Per account with pending records: how many have a claim window closing within
        `within_days` of `today` (today included), how many closed before today, and the
        soonest deadline still open. Leased records are left out: they are being sent."""
        found = await self._deadlines(_key(today), _key(today + dt.timedelta(days=within_days)))
        return {
            account: DeadlineCounts(closing, closed, None if soon is None else deadline_text(soon))
            for account, (closing, closed, soon) in sorted(found.items())
        }

    # -- storage ------------------------------------------------------------------------------

    @abc.abstractmethod
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
        """Reap, then up to about `limit` records from `cursor` ("" to start) and the cursor
        of the rest (None when there is none)."""

    @abc.abstractmethod
    async def _requeue(self, account: str, refs: list[tuple[int, int]], now: float) -> int:
        """Reap, then pend each (id, version) whose record still has that version and is
        neither pending, leased nor dead; its confirmation is dropped."""

    @abc.abstractmethod
    async def _awaiting_items(self, account: str) -> list[tuple[int, int]]:
        """The (id, version) items of the account's ledger rows awaiting a final status."""

    @abc.abstractmethod
    async def _deadlines(self, today: int, cutoff: int) -> dict[str, tuple[int, int, int | None]]:
        """Per account with pending records: (pending with today <= deadline <= cutoff,
        pending with deadline < today, the least deadline >= today)."""
