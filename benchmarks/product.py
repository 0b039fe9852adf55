"""Driving the product itself: `Uploader.run(drain=True)` on a real queue file and client.

Also the instrumented run behind the push path's breakdown: thread CPU time taken inside
each queue operation (on the queue's thread) and inside `batcher.build` (on the loop), beside
the whole loop thread's CPU time.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from benchmarks.ceilings import Timing
from uploader import config
from uploader.push import batcher
from uploader.push.events import BatchDetails
from uploader.push.service import Uploader
from uploader.queue import open_queue
from uploader.queue.sqlite.books import Books
from uploader.queue.sqlite.records import Records
from uploader.queue.types import Delivered, Extended, Refused, Returned
from uploader.registry.client import RegistryClient

LIFTED = "100000000/1s"  # limits so high they never bind
_CHANGES: dict[type, str] = {
    Delivered: "queue.ack",
    Returned: "queue.release",
    Refused: "queue.reject",
    Extended: "queue.extend",
}
# The storage methods that run on the queue's thread during a drain, and the name each call
# is counted under (a lease change by its kind: an ack, a release...).
STORE_OPS: dict[tuple[Any, str], Callable[..., str]] = {
    (Records, "claim"): lambda *_: "queue.claim",
    (Records, "change_lease"): lambda _self, _claim, _records, change: _CHANGES[type(change)],
    (Books, "availability"): lambda *_: "queue.due_in",
    (Books, "drained"): lambda *_: "queue.drained",
    (Books, "in_flight"): lambda *_: "queue.in_flight",
    (Books, "record_slots"): lambda *_: "queue.record_slots",  # the limiter's history
}


def settings_for(
    db: Path,
    url: str,
    accounts: Sequence[str],
    *,
    limits: tuple[str, str] = (LIFTED, LIFTED),
    registry: dict[str, Any] | None = None,
    worker: dict[str, Any] | None = None,
) -> config.Settings:
    """Settings for a drain of `db` into the simulator at `url` (open auth: token = account)."""
    return config.from_dict(
        {
            "queue": f"sqlite:///{db}",
            "registry": {"base_url": url, **(registry or {})},
            "limits": {"account": limits[0], "ip": limits[1]},
            "worker": {"poll_statuses": False, "idle_poll_s": 0.05, **(worker or {})},
            "accounts": [{"id": a, "token": a} for a in accounts],
        }
    )


async def drain(
    settings: config.Settings, hook: Callable[[BatchDetails], None] | None = None
) -> Timing:
    """Run the uploader until the queue is empty; wall and CPU time of the run alone."""
    async with (
        open_queue(settings.queue) as queue,
        RegistryClient.from_settings(settings) as client,
    ):
        uploader = Uploader(settings, queue, client, hooks=[hook] if hook else [])
        cpu, started, at = time.process_time(), time.perf_counter(), time.monotonic()
        code = await uploader.run(drain=True)
        timing = Timing(time.perf_counter() - started, time.process_time() - cpu, at)
    if code != 0:
        raise RuntimeError(f"the drain exited {code}")
    return timing


@contextlib.contextmanager
def instrumented() -> Iterator[dict[str, float]]:
    """Thread CPU seconds spent in each queue operation and in `batcher.build`, by name."""
    spent: dict[str, float] = defaultdict(float)
    saved: list[tuple[Any, str, Any]] = []
    for (owner, name), key in STORE_OPS.items():
        saved.append((owner, name, getattr(owner, name)))
        setattr(owner, name, _timed(getattr(owner, name), key, spent))
    saved.append((batcher, "build", batcher.build))
    setattr(batcher, "build", _timed(batcher.build, lambda *_: "build", spent))  # noqa: B010
    try:
        yield spent
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


def _timed(
    fn: Callable[..., Any], key: Callable[..., str], spent: dict[str, float]
) -> Callable[..., Any]:
    # thread_time: only the calling thread's CPU, so the other thread's work does not leak in.
    @functools.wraps(fn)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[key(*args, **kwargs)] += time.thread_time() - started

    return timed


async def drain_instrumented(settings: config.Settings) -> tuple[Timing, dict[str, float]]:
    """A drain with the stages timed; `loop` is the whole event-loop thread's CPU time."""
    with instrumented() as spent:
        loop_cpu = time.thread_time()
        timing = await drain(settings)
        spent["loop"] = time.thread_time() - loop_cpu
    return timing, dict(spent)
