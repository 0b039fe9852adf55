"""Rate-limit policies as the registry's pages state them: N requests per fixed window.

`SimOptions` takes any object with a `limit` and a `window_s` (`Rate`), so a caller may
pass its own rate type; `RateSpec.parse("50/60s")` reads the usual text form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}
_TEXT = re.compile(r"\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)?\s*(ms|s|min|m|h)\s*")


class Rate(Protocol):
    """At most `limit` requests per window of `window_s` seconds."""

    @property
    def limit(self) -> int: ...

    @property
    def window_s(self) -> float: ...


@dataclass(frozen=True, slots=True)
class RateSpec:
    """A `Rate` of the simulator's own, e.g. the seed's operation policy `RateSpec(50, 60.0)`."""

    limit: int
    window_s: float

    @classmethod
    def parse(cls, text: str) -> RateSpec:
        """`N/Ws`, `N/Wm`, `N/Wh`, `N/Wms`; a missing W is 1 (`3000/5min`, `10/s`)."""
        match = _TEXT.fullmatch(text)
        if match is None:
            raise ValueError(f"{text!r} is not a rate such as '50/60s'")
        count, amount, unit = match.groups()
        spec = cls(int(count), float(amount or 1) * _SECONDS[unit])
        if spec.limit < 1 or spec.window_s <= 0:
            raise ValueError(f"{text!r}: the limit and the window must be positive")
        return spec

    def __str__(self) -> str:
        return f"{self.limit}/{self.window_s:g}s"
