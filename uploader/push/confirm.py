"""Delivery confirmation: asking the registry how each accepted batch's process ended.

Polls spend the account's budget like any request and, through the `poll` key, never more
than `limits.status_poll_share` of it. A `Failed` process sends its batch's records back to
the queue (the queue dead-letters them on a second failure).
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import msgspec
import structlog

from uploader.config import Settings
from uploader.errors import TransportError
from uploader.queue.base import Queue
from uploader.registry.answers import PROCESS_STATUS, Accepted, classify
from uploader.registry.client import RegistryClient
from uploader.registry.wire.codec import process_status_envelope

log = structlog.get_logger("uploader.push.confirm")
FINAL = frozenset({"Success", "Failed"})


class StatusPoller:
    """Confirms one account's accepted batches."""

    def __init__(self, account: str, queue: Queue, client: RegistryClient, settings: Settings):
        self.account = account
        self._queue = queue
        self._client = client
        self._settings = settings
        self._last_polled: dict[str, float] = {}
        self.awaiting = 0

    def __repr__(self) -> str:
        return f"<StatusPoller {self.account} awaiting={self.awaiting}>"

    async def poll_due(self) -> int:
        """Ask for every awaiting process not asked recently; returns how many still await."""
        rows = await self._queue.ledger_awaiting_status(self.account, 100)
        self.awaiting = len(rows)
        interval = self._settings.worker.status_poll_interval_s
        now = time.monotonic()
        for row in rows:
            if row.process_id is None or now - self._last_polled.get(row.batch_id, -1e9) < interval:
                continue
            self._last_polled[row.batch_id] = now
            status = await self._status(row.process_id)
            if status in FINAL:
                await self._settle(row.batch_id, status)
                self._last_polled.pop(row.batch_id, None)
                self.awaiting -= 1
        return self.awaiting

    async def _status(self, process_id: int) -> str | None:
        path = self._settings.registry.paths.statuses
        try:
            response = await self._client.call(
                self.account,
                "GET",
                path,
                params={"ProcessId": str(process_id)},
                endpoint="statuses",
                extra_keys=(("poll", self.account),),
            )
        except TransportError as exc:
            log.warning("status poll failed", process_id=process_id, error=str(exc))
            return None
        answer = classify(response, PROCESS_STATUS)
        if not isinstance(answer, Accepted):
            log.warning("status poll failed", process_id=process_id, answer=repr(answer))
            return None
        try:
            data = process_status_envelope.decode(answer.body).Data
        except msgspec.DecodeError:
            return None
        return data.Status if data is not None else None

    async def _settle(self, batch_id: str, status: str) -> None:
        await self._queue.set_ledger_status(batch_id, status)
        if status == "Failed":
            requeued = await self._queue.requeue_batch(batch_id)
            log.warning("registry failed a batch", batch_id=batch_id, requeued=requeued)

    async def run(self, stopping: asyncio.Event) -> None:
        """Poll until stopped."""
        idle = min(self._settings.worker.status_poll_interval_s, 5.0)
        while not stopping.is_set():
            await self.poll_due()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=idle)
