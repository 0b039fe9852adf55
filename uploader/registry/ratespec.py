"""Rate specifications such as `50/60s`: N requests per window."""

from __future__ import annotations

import re
from dataclasses import dataclass

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}
_PATTERN = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)?\s*(ms|s|min|m|h)\s*$")


@dataclass(frozen=True, slots=True)
class RateSpec:
    """At most `limit` requests in any window of `window_s` seconds."""

    limit: int
    window_s: float

    @classmethod
    def parse(cls, text: str) -> RateSpec:
        """Read `N/Ws` (also `ms`, `m`, `min`, `h`; `N/s` means one second)."""
        match = _PATTERN.match(text)
        if match is None:
            raise ValueError(f"{text!r} is not a rate such as '50/60s'")
        limit, amount, unit = match.groups()
        window_s = float(amount or 1) * _UNITS[unit]
        if int(limit) < 1 or window_s <= 0:
            raise ValueError(f"{text!r}: the limit and the window must be positive")
        return cls(int(limit), window_s)

    @property
    def per_second(self) -> float:
        """The long-run rate this spec allows."""
        return self.limit / self.window_s

    def __str__(self) -> str:
        return f"{self.limit}/{self.window_s:g}s"
