"""The demo's live view: records sent per account, budget in use, 429s and retries.

On a terminal the table is redrawn in place; elsewhere (CI, a pipe) a line is printed every
few seconds, so a log stays readable.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from typing import TextIO

from uploader.observe.progress import bar
from uploader.push.service import Uploader
from uploader.registry.client import IP_KEY
from uploader.registry.ratespec import RateSpec

BAR_WIDTH = 24


class ProgressView:
    """Renders the uploader's progress against the totals enqueued per account."""

    def __init__(
        self,
        uploader: Uploader,
        totals: Mapping[str, int],
        account_rate: RateSpec,
        ip_rate: RateSpec,
        out: TextIO = sys.stdout,
    ) -> None:
        self._uploader = uploader
        self._totals = dict(totals)
        self._account_rate = account_rate
        self._ip_rate = ip_rate
        self._out = out
        self._live = out.isatty()
        self._drawn = 0
        self._started = time.monotonic()
        self._last_line = 0.0

    def lines(self) -> list[str]:
        """The current view, one line per account and one for the IP budget."""
        stats = self._uploader.stats
        limiter = self._uploader.client.limiter
        lines = []
        for account, total in self._totals.items():
            sent = stats.records_sent[account] + stats.records_rejected[account]
            key = self._uploader.client.account_key(
                account, self._uploader.settings.registry.endpoint
            )
            used = self._account_rate.limit - limiter.remaining(key)
            paused = " PAUSED" if self._uploader.workers[account].paused else ""
            done = bar(sent, total, BAR_WIDTH)
            lines.append(
                f"  {account:<10} {done} {sent:>8,}/{total:<8,} records done  "
                f"budget {used:>3}/{self._account_rate.limit} per {self._account_rate.window_s:g}s"
                f"{paused}"
            )
        ip_used = self._ip_rate.limit - limiter.remaining(IP_KEY)
        elapsed = time.monotonic() - self._started
        lines.append(
            f"  ip budget {ip_used}/{self._ip_rate.limit} per {self._ip_rate.window_s:g}s   "
            f"429s {stats.rate_limited}   retries {stats.retries}   "
            f"rejected {sum(stats.records_rejected.values())}   {elapsed:5.1f}s"
        )
        return lines

    def draw(self) -> None:
        """Redraw in place on a terminal; elsewhere, print a summary line now and then."""
        if self._live:
            if self._drawn:
                self._out.write(f"\x1b[{self._drawn}F")
            view = self.lines()
            self._out.write("".join(f"\x1b[2K{line}\n" for line in view))
            self._drawn = len(view)
        elif time.monotonic() - self._last_line >= 3.0:
            self._last_line = time.monotonic()
            stats = self._uploader.stats
            sent = sum(stats.records_sent.values()) + sum(stats.records_rejected.values())
            total = sum(self._totals.values())
            self._out.write(
                f"  progress {bar(sent, total, BAR_WIDTH)} {sent:,}/{total:,} records "
                f"({time.monotonic() - self._started:.0f}s)\n"
            )
        self._out.flush()
