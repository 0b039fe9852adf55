"""Reading back what the registry holds: Query Generation Data (`GET generation-datas`).

One call covers at most three months (`FromDate`..`ToDate`, the page's limit) and answers
a page of days; `days` follows the pages. The requests pass the account's and the IP's
limiters like every other request, plus any `extra_keys` (the scheduled reconcile's share
of the account's budget). A 429 is asked again (the client already made the key wait its
Retry-After); an answer that is not there (5xx, timeout, reset) is asked again after
`delay_s(attempt)`, `ATTEMPTS` times in all; a refusal raises.
"""

from __future__ import annotations

import asyncio
import calendar
import datetime as dt
from collections.abc import AsyncIterator, Callable, Sequence

import msgspec

from uploader.config import Paths
from uploader.errors import RegistryError, TransientError, TransportError
from uploader.registry.answers import Accepted, Throttled, Unavailable, classify
from uploader.registry.applications import refusal
from uploader.registry.client import RegistryClient
from uploader.registry.limiter import Key
from uploader.registry.wire import Envelope, GenerationDay
from uploader.registry.wire.codec import generation_days_envelope

MAX_MONTHS = 3  # FromDate..ToDate of one call
PAGE_SIZE = 100  # the largest ItemsPerPage the registry's lists document
ATTEMPTS = 5  # per page, for answers that are not there


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, clamped to the end of a shorter month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    return day.replace(year=year, month=month, day=min(day.day, last_day))


def month_spans(first: dt.date, last: dt.date) -> list[tuple[dt.date, dt.date]]:
    """`first`..`last` cut at calendar months: spans one call may ask for, and small enough
    to compare in memory."""
    spans = []
    while first <= last:
        end = min(last, first.replace(day=calendar.monthrange(first.year, first.month)[1]))
        spans.append((first, end))
        first = end + dt.timedelta(days=1)
    return spans


class GenerationReads:
    """Query Generation Data for one account."""

    def __init__(
        self,
        client: RegistryClient,
        paths: Paths,
        account: str,
        *,
        delay_s: Callable[[int], float],
        extra_keys: Sequence[Key] = (),
        page_size: int = PAGE_SIZE,
    ) -> None:
        self._client = client
        self._path = paths.query
        self._account = account
        self._delay_s = delay_s
        self._extra_keys = tuple(extra_keys)
        self._page_size = page_size
        self.requests = 0  # calls answered, for summaries

    async def days(
        self, first: dt.date, last: dt.date, inverter: str | None = None
    ) -> AsyncIterator[list[GenerationDay]]:
        """The days the registry holds from `first` to `last` (at most three months; of one
        inverter, or of all), page by page."""
        if last > add_months(first, MAX_MONTHS):
            raise ValueError(f"{first}..{last} is longer than {MAX_MONTHS} months")
        page = 1
        while True:
            envelope = await self._page(first, last, inverter, page)
            yield envelope.Data or []
            if envelope.Meta is None or page >= envelope.Meta.TotalPage:
                return
            page += 1

    async def _page(
        self, first: dt.date, last: dt.date, inverter: str | None, page: int
    ) -> Envelope[list[GenerationDay]]:
        params = {
            "FrequencyType": "Daily",
            "FromDate": first.isoformat(),
            "ToDate": last.isoformat(),
            "CurrentPage": str(page),
            "ItemsPerPage": str(self._page_size),
        } | ({"RemoteInvId": inverter} if inverter else {})
        what = f"GET {self._path} {first}..{last} page {page}"
        for attempt in range(ATTEMPTS):
            answer = await self._ask(params, what)
            if isinstance(answer, Accepted):
                try:
                    return generation_days_envelope.decode(answer.body)
                except msgspec.DecodeError as exc:
                    raise RegistryError(f"{what}: unexpected answer: {exc}") from None
            if not isinstance(answer, Throttled):  # the key's floor already makes it wait
                await asyncio.sleep(self._delay_s(attempt))
        raise TransientError(f"{what}: no answer after {ATTEMPTS} attempts")

    async def _ask(self, params: dict[str, str], what: str) -> Accepted | Throttled | Unavailable:
        try:
            response = await self._client.call(
                self._account,
                "GET",
                self._path,
                params=params,
                endpoint="query",
                extra_keys=self._extra_keys,
            )
        except TransportError as exc:
            return Unavailable(str(exc))
        answer = classify(response)
        if isinstance(answer, Accepted | Throttled | Unavailable):
            self.requests += isinstance(answer, Accepted)
            return answer
        raise refusal(response, what)
