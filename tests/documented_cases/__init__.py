"""Documented cases: an input, the verdict the registry's documentation gives it, and where
the documentation says so.

The client checks registrations and daily records before it sends them, and reads the
residual-mix calendar before it requests issuance; the simulator answers them as the
registry would. The two are written independently, so the cases here
run against both (tests/unit/test_documented_cases.py against the client's public rules,
tests/integration/simulator/test_documented_cases.py against the simulator over HTTP):
a rule one side misreads fails a case instead of passing silently on both.

A verdict is the status the registry answers (200/201 accepted, 400 malformed, 422 a broken
business rule) and every field path the refusal names. The client has no status of its
own; it refuses with the same field paths (registration) or names the same field (daily
records). A case's `source` names the registry page it comes from: the registration page
("Register Grouped Device Application"), its Effective Period guideline, the generation
pages ("Send [Batch] Generation Data for Grouped Device"), the legacy page ("Send
Generation Data"), the REC application page ("Create REC Application for Grouped Device"),
or the contract where the pages are silent and the project decided.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import msgspec

TODAY = dt.date(2025, 1, 15)  # "today" on both sides (the simulator's clock: midnight UTC)
TOMORROW = "2025-01-16"
DELETE: Any = msgspec.UNSET  # as a change: remove the field
ROOT = "$"  # as a changed path: replace the whole body

# What a case's `source` starts with, before ": " and the rule it quotes.
PAGES = (
    "registration page",
    "effective period guideline",
    "generation pages",
    "legacy page",
    "REC application page",
    "contract",
)

_ENCODER = msgspec.json.Encoder(decimal_format="number")  # Decimals as JSON numbers
_STEP = re.compile(r"(\w+)(?:\[(\d+)\])?")


@dataclass(frozen=True)
class Verdict:
    """What the registry answers: a status, and the field paths a refusal names."""

    status: int
    fields: frozenset[str] = frozenset()

    @property
    def accepted(self) -> bool:
        """Whether the input is taken."""
        return self.status < 300


def refused(status: int, *fields: str) -> Verdict:
    """A refusal naming these fields."""
    return Verdict(status, frozenset(fields))


def encode(value: object) -> bytes:
    """JSON as a client sends it: Decimals as numbers, exact."""
    return _ENCODER.encode(value)


def set_path(node: Any, path: str, value: Any) -> Any:
    """Set (or with DELETE remove) the field at `Devices[0].Inverters[1].X`; returns `node`."""
    if path == ROOT:
        return value
    steps = _STEP.findall(path)
    here = node
    for key, index in steps[:-1]:
        here = here[key] if not index else here[key][int(index)]
    key, index = steps[-1]
    if index:
        here[key][int(index)] = value
    elif value is DELETE:
        del here[key]
    else:
        here[key] = value
    return node
