"""Read back and reconcile: what the registry holds against what the queue delivered.

Month by month, the queue's records of the range (`Queue.records_between`) meet the days the
registry holds (Query Generation Data, `registry.readback`):

- a record the queue delivered (sent or confirmed) that the registry lacks is *missing*, one
  it holds with another value *different*: both are queued again (`Queue.requeue`), so the
  next drain delivers them (the latest value wins, as always);
- a delivered record whose batch's processing is not reported final yet is *processing*:
  the registry may not hold it yet, so it counts as neither (unless it already matches);
- a day the registry holds that the queue never had is *unknown to us*: reported, not
  touched; records pending, leased or dead are not compared (they are not delivered yet).

The queue is read before the registry, so a record delivered meanwhile is seen undelivered,
never missing. `Reconciler` runs this inside `uploader run` every `[reconcile] every` over
the `days` before today, through the `reconcile` limiter key (`budget_share` of the budget).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Collection, Iterable
from decimal import Decimal

import msgspec
import structlog

from uploader.config import Settings, parse_duration
from uploader.errors import QueueError, RegistryError
from uploader.push.policy import backoff_s
from uploader.push.waits import until_any
from uploader.queue.base import Queue
from uploader.queue.types import StoredRecord
from uploader.registry.client import RegistryClient
from uploader.registry.limiter import Key
from uploader.registry.readback import GenerationReads, month_spans
from uploader.registry.wire import GenerationDay
from uploader.residual_mix import registry_today

log = structlog.get_logger("uploader.push.reconcile")
DELIVERED = frozenset({"sent", "confirmed"})
EXAMPLES = 10  # unknown-to-us days a summary names
Held = dict[tuple[str, str], tuple[Decimal, Decimal]]


class Summary(msgspec.Struct, kw_only=True, rename={"first": "from", "last": "to"}):
    """What one reconciliation found; `reconcile --json` prints it."""

    account: str
    first: dt.date
    last: dt.date
    inverter: str | None
    checked: int = 0  # delivered records compared
    matching: int = 0
    missing: int = 0
    different: int = 0
    unknown_to_us: int = 0
    requeued: int = 0
    processing: int = 0  # delivered, processing not final: neither missing nor different
    requests: int = 0
    unknown_examples: list[str] = msgspec.field(default_factory=list)  # "INV 2024-05-01"

    def line(self) -> str:
        """The summary in one sentence."""
        whose = f"inverter {self.inverter}" if self.inverter else "all inverters"
        return (
            f"{self.account} {self.first}..{self.last} ({whose}): {self.checked} checked, "
            f"{self.matching} matching, {self.missing} missing, {self.different} different, "
            f"{self.unknown_to_us} unknown to us, {self.requeued} re-queued"
            + (f", {self.processing} awaiting processing" if self.processing else "")
        )


def _held(days: Iterable[GenerationDay], into: Held) -> None:
    for day in days:
        key = (day.RemoteInvId, day.Timestamp.isoformat())
        into[key] = (day.PeriodProductionInKWh, day.AccumulatedEnergyInKWh)


def compare(
    ours: list[StoredRecord],
    held: Held,
    awaiting: frozenset[tuple[int, int]],
    summary: Summary,
) -> list[StoredRecord]:
    """Tally one span into `summary`; the records to queue again."""
    again: list[StoredRecord] = []
    for row in ours:
        if row.state not in DELIVERED:
            continue
        summary.checked += 1
        value = held.get((row.remote_inv_id, row.day))
        if value == (Decimal(row.period_kwh), Decimal(row.accumulated_kwh)):
            summary.matching += 1
        elif (row.id, row.version) in awaiting:
            summary.processing += 1
        else:
            summary.missing += value is None
            summary.different += value is not None
            again.append(row)
    unknown = sorted(held.keys() - {(row.remote_inv_id, row.day) for row in ours})
    summary.unknown_to_us += len(unknown)
    room = EXAMPLES - len(summary.unknown_examples)
    summary.unknown_examples += [f"{inverter} {day}" for inverter, day in unknown[:room]]
    return again


async def reconcile(
    queue: Queue,
    reads: GenerationReads,
    account: str,
    first: dt.date,
    last: dt.date,
    inverter: str | None = None,
) -> Summary:
    """Compare `first`..`last` month by month; re-queue what the registry lacks or changed."""
    summary = Summary(account=account, first=first, last=last, inverter=inverter)
    for since, until in month_spans(first, last):
        ours = [
            row
            async for rows in queue.records_between(account, since, until, inverter=inverter)
            for row in rows
        ]
        awaiting = await queue.records_awaiting_status(account)
        held: Held = {}
        async for days in reads.days(since, until, inverter):
            _held(days, held)
        summary.requeued += await queue.requeue(account, compare(ours, held, awaiting, summary))
    summary.requests = reads.requests
    return summary


def reads_for(
    settings: Settings, client: RegistryClient, account: str, extra_keys: tuple[Key, ...] = ()
) -> GenerationReads:
    """The account's generation reads, retrying with the configured backoff."""
    retry = settings.retry

    def delay_s(attempt: int) -> float:
        return backoff_s(attempt, retry.base_s, retry.cap_s)

    paths = settings.registry.paths
    return GenerationReads(client, paths, account, delay_s=delay_s, extra_keys=extra_keys)


class Reconciler:
    """`uploader run`'s scheduled read-back: every account, every `[reconcile] every`.

    `serving()` (default: every configured account) names the accounts to read at each pass:
    in a fleet, those this replica holds, whose budget is its own.
    """

    def __init__(
        self,
        settings: Settings,
        queue: Queue,
        client: RegistryClient,
        serving: Callable[[], Collection[str]] | None = None,
    ) -> None:
        self._settings = settings
        self._queue = queue
        self._client = client
        self._serving = serving
        self.passes = 0

    def __repr__(self) -> str:
        return f"<Reconciler every={self._settings.reconcile.every!r} passes={self.passes}>"

    async def run(self, stopping: asyncio.Event) -> None:
        """A pass at once, then one every `every`, until stopped."""
        every_s = parse_duration(self._settings.reconcile.every)
        while not stopping.is_set():
            await self.once()
            await until_any(stopping, at_most_s=every_s)

    async def once(self) -> list[Summary]:
        """Reconcile the `days` before today of every account; failures are logged."""
        today = registry_today()
        first = today - dt.timedelta(days=self._settings.reconcile.days)
        last = today - dt.timedelta(days=1)
        done = []
        served = None if self._serving is None else self._serving()
        for account in (a.id for a in self._settings.accounts):
            if served is not None and account not in served:
                continue
            reads = reads_for(self._settings, self._client, account, (("reconcile", account),))
            try:
                summary = await reconcile(self._queue, reads, account, first, last)
            except (RegistryError, QueueError) as exc:
                log.warning("reconcile failed", account=account, error=str(exc))
                continue
            log.info("reconciled", **msgspec.to_builtins(summary))
            done.append(summary)
        self.passes += 1
        return done
