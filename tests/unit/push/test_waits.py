"""`until_any`: the one way the service waits on its events."""

from __future__ import annotations

import asyncio

from uploader.push.waits import until_any


async def test_it_returns_when_one_event_is_set_and_leaves_no_waiter() -> None:
    """Setting any one of the events ends the wait at once; no task is left waiting on the
    others."""
    first, second = asyncio.Event(), asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.call_later(0.01, second.set)
    before = len(asyncio.all_tasks())
    await asyncio.wait_for(until_any(first, second), timeout=1)
    await asyncio.sleep(0)  # the cancelled waiter finishes
    assert len(asyncio.all_tasks()) == before


async def test_it_returns_after_at_most_s_when_nothing_is_set() -> None:
    """With no event set, the wait ends after `at_most_s`, not before."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    await until_any(asyncio.Event(), at_most_s=0.05)
    assert loop.time() - started >= 0.05
