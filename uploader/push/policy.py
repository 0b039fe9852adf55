"""What the push path does after an answer: one pure decision, tested as a table.

`decide` maps the meaning of an answer (`uploader.registry.answers`) to an action; it never
sleeps and touches neither the queue nor the network, so the worker stays in charge of time
and this table is the whole retry policy:

    Accepted                         Ack          the records leave the queue (ledger row)
    Throttled (429)                  Retry        after exactly Retry-After, a floor put on the
                                                  account's key by the client
    Unavailable (5xx, timeout, reset) Retry       after capped exponential backoff, full jitter
    Malformed (not the registry's    Retry        the same backoff: nothing was delivered
    answer, a redirect, oversized)
    Denied (401, 403, 404, 405)      Pause        the account stops; its records stay queued
    Refused (400, 413, 422) naming   DeadLetter   the named records, with the registry's reasons;
    records                                       the others go again at once
    Refused, naming no record:
      one record                     DeadLetter   that record: the refusal is its own
      a half refused exactly as its  DeadLetter   the whole half: the refusal is the batch's,
      batch and its other half, for               not its records' (recognised, not halved to
      the second level in a row                   the end)
      otherwise                      Bisect       send both halves, then decide on each

Bisection's cost: a bad record among N costs at most ceil(log2 N) + 1 refused requests (one per
level, and the first), plus the requests that deliver the good halves beside its path; a
refusal of the whole batch costs 1 + 2 + 4 requests whatever N. Transient failures retry
without a limit of attempts: the records are durable in the queue, and their age shows in
`uploader status`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from uploader.config import RetrySettings
from uploader.registry.answers import (
    Accepted,
    Answer,
    Denied,
    Malformed,
    Refused,
    Throttled,
    Unavailable,
)

_MAX_DOUBLINGS = 64  # beyond this every ceiling is the cap; keeps 2**n inside a float
WHOLE_AFTER_LEVELS = 2  # levels in a row of both halves refused as their batch was: the batch's


@dataclass(frozen=True, slots=True)
class Ack:
    """The registry took the records."""


@dataclass(frozen=True, slots=True)
class Retry:
    """Send the records again after `delay_s` (they wait in the queue meanwhile)."""

    delay_s: float
    reason: str


@dataclass(frozen=True, slots=True)
class Pause:
    """Stop the account; its records stay queued."""

    reason: str


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """Dead-letter the records the refusal names (all of them when `whole`)."""

    whole: bool


@dataclass(frozen=True, slots=True)
class Bisect:
    """The refusal names no record: send each half to find the ones refused."""


Decision = Ack | Retry | Pause | DeadLetter | Bisect


@dataclass(frozen=True, slots=True)
class Split:
    """Where a request stands in a bisection: the refusal of the batch it is a half of, the
    answer to the other half, and how many levels in a row above it had both halves refused
    exactly as their batch was."""

    parent: Refused
    sibling: Answer
    alike: int = 0

    def both_alike(self, answer: Answer) -> bool:
        """Whether this half and its sibling were refused exactly as their batch was."""
        return answer == self.parent == self.sibling


def decide(
    answer: Answer,
    *,
    attempt: int,
    records: int,
    named: int,
    retry: RetrySettings,
    split: Split | None = None,
    rand: Callable[[], float] = random.random,
) -> Decision:
    """What to do after `answer` to a request of `records` records, `named` of them named.

    `attempt` is the records' claim count (1 on their first send): it scales the backoff.
    `split` says where the request stands when it is a half of a bisected batch.
    """
    match answer:
        case Accepted():
            return Ack()
        case Throttled(retry_after_s=wait_s):
            return Retry(wait_s, "429")
        case Unavailable(reason=reason) | Malformed(reason=reason):
            return Retry(backoff_s(attempt, retry.base_s, retry.cap_s, rand), reason)
        case Denied(reason=reason):
            return Pause(reason)
        case Refused():
            if named:
                return DeadLetter(whole=False)
            if records == 1 or _refused_whole(answer, split):
                return DeadLetter(whole=True)
            return Bisect()


def _refused_whole(answer: Refused, split: Split | None) -> bool:
    """Whether halving showed the refusal to be the batch's, not some records'."""
    return split is not None and split.both_alike(answer) and split.alike + 1 >= WHOLE_AFTER_LEVELS


def backoff_s(
    attempt: int, base_s: float, cap_s: float, rand: Callable[[], float] = random.random
) -> float:
    """Capped exponential backoff with full jitter: `rand() * min(cap, base * 2**attempt)`."""
    if attempt < 0:
        raise ValueError("attempt counts from 0")
    ceiling = cap_s if attempt >= _MAX_DOUBLINGS else min(cap_s, base_s * 2.0**attempt)
    return rand() * ceiling
