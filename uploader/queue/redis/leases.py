"""Replicas sharing one Redis queue: each account is served by one replica at a time.

Why accounts are leased at all is in `uploader.queue.leases`. Here a replica leases its
accounts before it serves them: one Redis key per account (`PREFIX:owner:ACCOUNT`) holding the
replica's id, all taken in one script or none, renewed every third of their time to live. A
replica that finds one of its accounts leased by another refuses to start and names the
holder; a replica that cannot renew (Redis gone, or the key taken over after a freeze) sets
`lost`, and `uploader run` stops taking batches. A replica that dies lets its leases run out
after `ttl_s`, and a restarted one takes them again.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Self

import structlog

from uploader.errors import ConfigError
from uploader.queue.leases import AccountLeases

if TYPE_CHECKING:
    import redis.asyncio

__all__ = ["TTL_S", "RedisLeases"]

log = structlog.get_logger("uploader.replicas")

TTL_S = 15.0  # a dead replica's accounts are free again after this

# KEYS: one per account. ARGV: replica id, ttl in ms. Returns nil when every key is now
# ours, else {account key, its holder, ms it still lives}.
_TAKE = """
for _, key in ipairs(KEYS) do
    local holder = redis.call('GET', key)
    if holder and holder ~= ARGV[1] then
        return {key, holder, redis.call('PTTL', key)}
    end
end
for _, key in ipairs(KEYS) do
    redis.call('SET', key, ARGV[1], 'PX', ARGV[2])
end
return nil
"""
# Renews the keys still ours; returns how many are not (taken over, or expired).
_RENEW = """
local lost = 0
for _, key in ipairs(KEYS) do
    if redis.call('GET', key) == ARGV[1] then
        redis.call('PEXPIRE', key, ARGV[2])
    else
        lost = lost + 1
    end
end
return lost
"""
_GIVE_BACK = """
for _, key in ipairs(KEYS) do
    if redis.call('GET', key) == ARGV[1] then
        redis.call('DEL', key)
    end
end
return 0
"""


class RedisLeases(AccountLeases):
    """The leases of one replica's accounts, as keys in the queue's Redis."""

    def __init__(
        self,
        client: redis.asyncio.Redis,
        prefix: str,
        accounts: Sequence[str],
        *,
        ttl_s: float | None = None,
        holder: str | None = None,
    ) -> None:
        super().__init__(accounts, holder=holder)
        self._keys = [f"{prefix}:owner:{account}" for account in accounts]
        self._ttl_s = TTL_S if ttl_s is None else ttl_s  # read here, so tests may shorten it
        self._ttl_ms = str(round(self._ttl_s * 1000))
        self._renewer: asyncio.Task[None] | None = None
        self._take, self._renew_all, self._give_back = (
            client.register_script(script) for script in (_TAKE, _RENEW, _GIVE_BACK)
        )

    async def __aenter__(self) -> Self:
        conflict = await self._take(keys=self._keys, args=[self.holder, self._ttl_ms])
        if conflict:
            key, holder, ttl_ms = (_text(part) for part in conflict)
            account = key.rsplit(":owner:", 1)[1]
            raise ConfigError(
                f"accounts: {account!r} is served by replica {holder} (its lease runs out in "
                f"{int(ttl_ms) / 1000:.0f} s if it stops renewing); give each replica its own "
                "accounts"
            )
        self._renewer = asyncio.create_task(self._renew(), name="account-leases")
        log.info("accounts leased", holder=self.holder, accounts=len(self._keys))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
        if not self.lost.is_set():
            with contextlib.suppress(Exception):  # a lease left behind runs out on its own
                await self._give_back(keys=self._keys, args=[self.holder])

    async def _renew(self) -> None:
        # Renewals every third of the ttl; a replica that has not renewed for two thirds of it
        # stops before another can take its accounts.
        period = self._ttl_s / 3
        renewed = time.monotonic()
        while not self.lost.is_set():
            await asyncio.sleep(period)
            try:
                taken = await self._renew_all(keys=self._keys, args=[self.holder, self._ttl_ms])
            except Exception as exc:  # any failure to reach Redis counts as not renewed
                if time.monotonic() - renewed >= 2 * period:
                    self._lose(f"cannot renew the account leases: {exc}")
                continue
            if taken:
                self._lose(f"{taken} account lease(s) expired or were taken over")
            renewed = time.monotonic()

    def _lose(self, reason: str) -> None:
        log.error("account leases lost: stopping", reason=reason, holder=self.holder)
        self.lost.set()


def _text(value: bytes | str | int) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
