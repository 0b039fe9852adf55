"""The clients a user would otherwise write, for the budget section.

- Paced by a library: `aiolimiter.AsyncLimiter(N, W)` or `asyncio_throttle.Throttler(N, W)`,
  one per account and one for the IP, entered before each request; the same lanes per
  account as the product; on a 429, sleep `Retry-After` and send the same body again.
- Naive: a script's loop, one inverter per request (the single-inverter endpoint), a body
  built with stdlib `json`, posted with `urllib.request` (the stdlib stand-in for
  `requests`, which is not installed), one after the other; on a 429, sleep `Retry-After`.

Every client returns the monotonic time it started sending and those of its accepted answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import aiohttp
from aiolimiter import AsyncLimiter
from asyncio_throttle.throttler import Throttler

from uploader.registry.ratespec import RateSpec

BATCH_PATH = "public/v2/generation-datas/batches"
SINGLE_PATH = "public/v2/generation-datas"
LANES = 4  # per account, as the product's default `lanes_per_account`

Gate = Callable[[RateSpec], AbstractAsyncContextManager[Any]]
Work = dict[str, list[bytes]]  # account -> bodies, one inverter each


def aiolimiter_gate(spec: RateSpec) -> AbstractAsyncContextManager[Any]:
    """A leaky bucket of capacity N draining at N/W."""
    return AsyncLimiter(spec.limit, spec.window_s)


def throttle_gate(spec: RateSpec) -> AbstractAsyncContextManager[Any]:
    """A log of send times, at most N in any span of W (waiters poll every 10 ms)."""
    throttler: AbstractAsyncContextManager[Any] = Throttler(
        rate_limit=spec.limit, period=spec.window_s
    )
    return throttler


async def paced(
    url: str, work: Work, gate: Gate, account: RateSpec, ip: RateSpec
) -> tuple[float, list[float]]:
    """Send every body through the account's gate and the IP's; start and accepted times."""
    ip_gate = gate(ip)
    accepted: list[float] = []
    connector = aiohttp.TCPConnector(limit=LANES * len(work))
    async with aiohttp.ClientSession(url.rstrip("/") + "/", connector=connector) as session:
        started, lanes = time.monotonic(), []
        for name, bodies in work.items():
            queue, account_gate = deque(bodies), gate(account)
            gates = (account_gate, ip_gate)
            lanes += [_lane(session, name, queue, gates, accepted) for _ in range(LANES)]
        await asyncio.gather(*lanes)
    return started, accepted


async def _lane(
    session: aiohttp.ClientSession,
    account: str,
    queue: deque[bytes],
    gates: tuple[AbstractAsyncContextManager[Any], AbstractAsyncContextManager[Any]],
    accepted: list[float],
) -> None:
    headers = {"Authorization": f"Bearer {account}", "Content-Type": "application/json"}
    while queue:
        body = queue.popleft()
        while True:
            async with (
                gates[0],
                gates[1],
                session.post(BATCH_PATH, data=body, headers=headers) as response,
            ):
                await response.read()
                status, retry_after = response.status, response.headers.get("Retry-After")
            if status == 200:
                accepted.append(time.monotonic())
                break
            if status != 429:
                raise RuntimeError(f"the simulator answered {status}")
            await asyncio.sleep(float(retry_after or 1))


def naive(
    url: str, inverters: Sequence[tuple[str, str, list[dict[str, str]]]]
) -> tuple[float, list[float]]:
    """(account, inverter, days) one request each, in order; start and accepted times."""
    accepted: list[float] = []
    started = time.monotonic()
    for account, inverter, days in inverters:
        body = json.dumps({"RemoteInvId": inverter, "Data": days}).encode()
        request = urllib.request.Request(
            url.rstrip("/") + "/" + SINGLE_PATH,
            data=body,
            headers={"Authorization": f"Bearer {account}", "Content-Type": "application/json"},
        )
        while not _send(request):
            pass
        accepted.append(time.monotonic())
    return started, accepted


def _send(request: urllib.request.Request) -> bool:
    """Post once: True when accepted, False after sleeping a 429's Retry-After."""
    try:
        with contextlib.closing(urllib.request.urlopen(request, timeout=30)) as response:
            response.read()
            return True
    except urllib.error.HTTPError as exc:
        if exc.code != 429:
            raise
        time.sleep(float(exc.headers.get("Retry-After") or 1))
        return False
