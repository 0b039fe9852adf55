"""The registry's two rate-limit policies, as its documentation describes them.

Global policy: keyed by the client IP, counting every request. Operation policy: keyed by
the business account (shared by all its endpoints, or one window per endpoint), counting
successful requests, or every request with `account_counts="any"`. A request refused with
429 consumes no slot.
"""

from __future__ import annotations

import random
from collections.abc import Hashable

from uploader.simulator.options import SimOptions
from uploader.simulator.rates import Rate
from uploader.simulator.windows import FixedWindows


def _phase(options: SimOptions, spec: Rate, rng: random.Random) -> float:
    """The fixed phase when one is configured, else a random one the client cannot know."""
    if options.window_phase_s is not None:
        return options.window_phase_s
    return rng.uniform(0.0, spec.window_s)


class RateLimits:
    """Both policies; the pipeline asks before a request and reports after it."""

    def __init__(self, options: SimOptions, rng: random.Random) -> None:
        self.ip = FixedWindows(options.ip_limit, _phase(options, options.ip_limit, rng))
        self.account = FixedWindows(
            options.account_limit, _phase(options, options.account_limit, rng)
        )
        self._counts_any = options.account_counts == "any"
        self._per_endpoint = options.account_scope == "endpoint"

    def _key(self, account: str, route: str) -> Hashable:
        return (account, route) if self._per_endpoint else account

    def ip_retry_after(self, ip: str, now: float) -> int | None:
        """Seconds to wait when the IP is at its limit, else None."""
        return self.ip.retry_after(ip, now)

    def ip_hit(self, ip: str, now: float) -> None:
        """Count a request of the IP that was not refused with 429."""
        self.ip.hit(ip, self.ip.index(now))

    def account_retry_after(self, account: str, route: str, now: float) -> int | None:
        """Seconds to wait when the account (or its endpoint) is at its limit, else None."""
        return self.account.retry_after(self._key(account, route), now)

    def account_started(self, account: str, route: str, now: float) -> None:
        """A request passed the checks: counted now when every request counts."""
        if self._counts_any:
            self.account.hit(self._key(account, route), self.account.index(now))

    def account_finished(self, account: str, route: str, arrived: float, status: int) -> None:
        """A request was answered: counted, in its arrival window, when only successes count."""
        if not self._counts_any and 200 <= status < 300:
            self.account.hit(self._key(account, route), self.account.index(arrived))

    def __repr__(self) -> str:
        return f"<RateLimits ip={self.ip!r} account={self.account!r}>"
