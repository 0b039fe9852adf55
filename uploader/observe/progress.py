"""A one-line progress bar for terminals: redrawn in place, at most ten times a second."""

from __future__ import annotations

import time
from typing import TextIO

__all__ = ["Progress", "bar"]

WIDTH = 30  # characters of the bar itself
REDRAW_S = 0.1


def bar(done: float, total: float, width: int = WIDTH) -> str:
    """A text bar such as `[#########.........]`: `done` of `total`, full when total is 0."""
    share = 1.0 if total <= 0 else min(max(done / total, 0.0), 1.0)
    filled = round(share * width)
    return f"[{'#' * filled}{'.' * (width - filled)}]"


class Progress:
    """Draws `[#####.....]  45%  450,000 rows  150,000/s` on `stream` (a terminal)."""

    def __init__(self, stream: TextIO, total_bytes: int | None = None, label: str = "") -> None:
        self.stream = stream
        self.total_bytes = total_bytes or None
        self.label = label
        self._started = self._drawn = time.monotonic()
        self._shown = False

    def update(self, rows: int, done_bytes: int | None = None, *, force: bool = False) -> None:
        """Redraw if enough time has passed since the last drawing (or `force`)."""
        now = time.monotonic()
        if not force and now - self._drawn < REDRAW_S:
            return
        self._drawn = now
        rate = rows / max(now - self._started, 1e-9)
        self.stream.write("\r" + self._line(rows, done_bytes, rate) + "\x1b[K")
        self.stream.flush()
        self._shown = True

    def _line(self, rows: int, done_bytes: int | None, rate: float) -> str:
        tail = f"{rows:,} rows  {rate:,.0f}/s"
        prefix = f"{self.label}  " if self.label else ""
        if self.total_bytes is None or done_bytes is None:
            return prefix + tail
        share = min(done_bytes / self.total_bytes, 1.0)
        return f"{prefix}{bar(share, 1.0)} {share:4.0%}  {tail}"

    def close(self) -> None:
        """Erase the bar, so the summary that follows starts on a clean line."""
        if self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
