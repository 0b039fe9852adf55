"""Fixed-window counters, aligned to the wall clock with a phase.

Window k of a policy covers [phase + k*W, phase + (k+1)*W). The phase is the policy's own;
clients cannot see it, which is what makes an unaligned client-side window dangerous.
"""

from __future__ import annotations

import math
from collections.abc import Hashable

from uploader.simulator.rates import Rate


class FixedWindows:
    """One fixed-window policy: a counter per key for the current window only."""

    def __init__(self, spec: Rate, phase_s: float) -> None:
        self.spec = spec
        self.phase_s = phase_s % spec.window_s
        self._counts: dict[Hashable, tuple[int, int]] = {}  # key -> (window index, count)

    def index(self, now: float) -> int:
        """The window that `now` falls in."""
        return math.floor((now - self.phase_s) / self.spec.window_s)

    def count(self, key: Hashable, now: float) -> int:
        """Requests counted for `key` in the window of `now`."""
        window, used = self._counts.get(key, (0, 0))
        return used if window == self.index(now) else 0

    def retry_after(self, key: Hashable, now: float) -> int | None:
        """Whole seconds until the window resets when `key` is at its limit, else None."""
        if self.count(key, now) < self.spec.limit:
            return None
        reset = self.phase_s + (self.index(now) + 1) * self.spec.window_s
        return max(1, math.ceil(reset - now))

    def hit(self, key: Hashable, window: int) -> None:
        """Count one request of `key` in `window` (a late count for a past window is dropped)."""
        current, used = self._counts.get(key, (window, 0))
        if current == window:
            self._counts[key] = (window, used + 1)
        elif current < window:
            self._counts[key] = (window, 1)

    def __repr__(self) -> str:
        return f"<FixedWindows {self.spec} phase={self.phase_s:g}s keys={len(self._counts)}>"
