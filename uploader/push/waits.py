"""Waiting on the service's events: until one is set, or a timeout passes."""

from __future__ import annotations

import asyncio

__all__ = ["until_any"]


async def until_any(*events: asyncio.Event, at_most_s: float | None = None) -> None:
    """Return once one of `events` is set, or after `at_most_s` seconds (None: no limit)."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=at_most_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
