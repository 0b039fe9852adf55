"""A faithful stand-in for the REDEX registry: every endpoint, rule, limit and fault.

`FakeRegistry` runs it in-process on a real port (tests, benchmarks); `uploader simulate`
runs it as a command. `SimOptions` holds every knob. It is an independent reading of the
registry's documentation: nothing here imports the client, so a rule the client misreads
shows up as a disagreement (tests/documented_cases/ holds cases that run against both).

Names are imported on first use: `SimOptions` or `ManualClock` alone do not load aiohttp.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from uploader.simulator.app import FakeRegistry
    from uploader.simulator.clock import ManualClock
    from uploader.simulator.options import Credentials, SimOptions
    from uploader.simulator.rates import RateSpec

_LAZY = {
    "Credentials": "uploader.simulator.options",
    "FakeRegistry": "uploader.simulator.app",
    "ManualClock": "uploader.simulator.clock",
    "RateSpec": "uploader.simulator.rates",
    "SimOptions": "uploader.simulator.options",
}

__all__ = ["Credentials", "FakeRegistry", "ManualClock", "RateSpec", "SimOptions"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
