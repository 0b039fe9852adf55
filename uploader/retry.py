"""What to do after a failed request, and when: decided here, done by the caller.

`RetryPolicy.decide` maps an error of the `uploader.errors` tree to a `RetryDecision`; it
never sleeps, so the worker stays in charge of time and the table of outcomes is tested as
a table. Transient failures retry without a limit of attempts (the queue shows their age);
a 429's Retry-After is a floor for the whole key, which the caller hands to
`KeyedLimiter.block_until`.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Literal

from uploader.config import RetrySettings
from uploader.errors import (
    AuthError,
    Forbidden,
    PermanentError,
    RateLimited,
    RegistryError,
    Rejected,
)

Action = Literal["retry", "dead_letter", "pause", "give_up"]

_MAX_DOUBLINGS = 64  # beyond this every ceiling is the cap; keeps 2**n inside a float
_SECONDS = re.compile(r"\d+(?:\.\d+)?")  # RFC 9110 delay-seconds, plus fractions for tests
_testing = False


def set_testing(on: bool) -> None:
    """Zero our own backoff delays (for tests), instead of patching sleep.

    Retry-After floors are kept: they are the registry's rule, not our policy, and tests of
    429 handling need them.
    """
    global _testing
    _testing = on


def is_testing() -> bool:
    """Whether `set_testing(True)` is in force."""
    return _testing


def backoff_s(
    attempt: int, base_s: float, cap_s: float, rand: Callable[[], float] = random.random
) -> float:
    """Capped exponential backoff with full jitter: `rand() * min(cap, base * 2**attempt)`.

    Always 0.0 under `set_testing(True)`.
    """
    if attempt < 0:
        raise ValueError("attempt counts from 0")
    if _testing:
        return 0.0
    ceiling = cap_s if attempt >= _MAX_DOUBLINGS else min(cap_s, base_s * 2.0**attempt)
    return rand() * ceiling


@dataclass(frozen=True, slots=True)
class RetryDecision:
    """The outcome for one failed request.

    `retry`: send the same batch again after `delay_s`; when `key_floor_s` is set (a 429),
    nobody may use the key for that long either. `dead_letter`: the caller maps the error
    to the records it names. `pause`: stop the account (its records stay queued).
    `give_up`: `max_attempts` is spent. `reason` is the error's class name, a bounded label.
    """

    action: Action
    reason: str
    delay_s: float = 0.0
    key_floor_s: float | None = None

    @property
    def key_wide(self) -> bool:
        """Whether the delay applies to the whole key, not just this batch."""
        return self.key_floor_s is not None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Backoff parameters and the error → decision table.

    `attempt` is how many times this batch has failed before the error being decided
    (0 for its first failure). `max_attempts=None` retries transient errors forever.
    """

    base_s: float = 0.5
    cap_s: float = 60.0
    max_attempts: int | None = None
    rand: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    @classmethod
    def from_settings(cls, settings: RetrySettings) -> RetryPolicy:
        """The policy configured under `[retry]`."""
        return cls(base_s=settings.base_s, cap_s=settings.cap_s)

    def decide(self, error: RegistryError, attempt: int) -> RetryDecision:
        """What to do after `error` on the batch's `attempt`-th failure."""
        reason = type(error).__name__
        match error:
            case Rejected():
                return RetryDecision("dead_letter", reason)
            case AuthError() | Forbidden():
                return RetryDecision("pause", reason)
            case PermanentError():
                return RetryDecision("dead_letter", reason)
        if self.max_attempts is not None and attempt + 1 >= self.max_attempts:
            return RetryDecision("give_up", reason)
        if isinstance(error, RateLimited):
            return self._after_429(error, attempt, reason)
        # ServerError, TransportError, and any RegistryError we cannot classify: records
        # must not be lost on a guess, so they go again.
        return RetryDecision("retry", reason, self._backoff(attempt))

    def _after_429(self, error: RateLimited, attempt: int, reason: str) -> RetryDecision:
        # The registry said when: wait exactly that. Our own backoff goes on top only when
        # the batch keeps failing (someone else keeps spending the same budget).
        floor = max(error.retry_after_s, 0.0)
        extra = self._backoff(attempt - 1) if attempt > 0 else 0.0
        return RetryDecision("retry", reason, floor + extra, key_floor_s=floor)

    def _backoff(self, attempt: int) -> float:
        return backoff_s(attempt, self.base_s, self.cap_s, self.rand)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP date (RFC 9110).

    `now` is the wall clock (`time.time()`) for dates. A date in the past gives 0.0; an
    absent or unparseable header gives None.
    """
    if value is None:
        return None
    text = value.strip()
    if _SECONDS.fullmatch(text):
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # asctime and "-0000" dates: RFC 9110 reads them as UTC
        when = when.replace(tzinfo=UTC)
    return max(when.timestamp() - now, 0.0)
