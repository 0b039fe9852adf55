"""A clock tests can move by hand; the simulator reads time only through its clock."""

from __future__ import annotations

import time


class ManualClock:
    """Wall-clock seconds that change only when `advance` or `set` is called."""

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.now += seconds

    def set(self, now: float) -> None:
        """Jump to an absolute time (seconds since the epoch)."""
        self.now = now

    def __repr__(self) -> str:
        return f"<ManualClock now={self.now:.3f}>"
