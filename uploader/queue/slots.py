"""The limiter's part of the queue: its recent history, and rate budgets replicas share.

The limiter (`uploader.registry.history`) keeps, per rate key, the slots that still count
against the registry's windows: a slot in flight counts until the latest moment the registry
may still count its request, an answered one until one window after its answer. Kept in the
queue's storage, they outlive the process: a restart, a crash or a replica taking an account
over reads them back and spends nothing twice. Rows are grouped by owner (an account id, or
`ip@host` for one host's IP budget) so a replica reads only the accounts it serves.

`shared_budget` is one key's slots held in the storage itself, taken and settled atomically
by every process on the queue (`limits.ip_shared`); only a queue several hosts share (Redis)
has one.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from typing import NamedTuple

from uploader.errors import ConfigError

__all__ = ["SharedBudget", "SlotRow", "SlotStore"]


class SlotRow(NamedTuple):
    """One request's slot under one rate key."""

    owner: str  # whose keys: an account id, or the IP's owner (`ip@host`)
    key: str  # the limiter's key as "kind:name"
    slot: str  # the request's id
    until: float  # wall-clock seconds: the slot counts against the key until then


class SharedBudget(abc.ABC):
    """One rate key's slots, shared by every process on the queue.

    A slot is in flight from `take` until `settle`, counting until the `until` it was taken
    with if `settle` never comes (its process died); settled, it cools until the time given.
    """

    @abc.abstractmethod
    async def take(
        self, slot: str, now: float, until: float, limit: int, window_s: float
    ) -> float | None:
        """Take a slot if fewer than `limit` count at `now`: None. Else the earliest time one
        may free (wall clock): ask again then."""

    @abc.abstractmethod
    async def settle(self, slots: Sequence[tuple[str, float | None]], now: float) -> None:
        """Slots answered: each cools until its time, or is free at once (None: never sent)."""


class SlotStore(abc.ABC):
    """The slot methods of `Queue`: the rule here, the storage in each backend."""

    _clock: Callable[[], float]

    async def record_slots(self, rows: Sequence[tuple[str, str, str, float]]) -> None:
        """Keep slots (`SlotRow`s, or tuples of the same fields): each row replaces the one of
        its (owner, key, slot); rows whose `until` has passed are forgotten (these and any kept
        before)."""
        if rows:
            await self._record_slots(rows, self._clock())

    async def recent_slots(self, owners: Sequence[str]) -> list[SlotRow]:
        """The slots of `owners` that still count (`until` later than now)."""
        if not owners:
            return []
        return await self._recent_slots(owners, self._clock())

    def shared_budget(self, name: str) -> SharedBudget:
        """The budget `name` every process on this queue shares; ConfigError when this kind of
        queue is one host's alone."""
        raise ConfigError(
            "limits.ip_shared: a budget shared by replicas needs a queue they share (redis://)"
        )

    @abc.abstractmethod
    async def _record_slots(self, rows: Sequence[tuple[str, str, str, float]], now: float) -> None:
        """Upsert the rows, then delete every row whose `until` is not after `now`."""

    @abc.abstractmethod
    async def _recent_slots(self, owners: Sequence[str], now: float) -> list[SlotRow]:
        """The owners' rows with `until` after `now`."""
