"""Packing claimed records into one request body, and mapping the registry's errors back.

The endpoint's spec says what a body may carry (one inverter, one year) and builds it; the
batcher gathers each inverter's records into one group (one `Devices[]` entry), checks the
spec's limits and keeps the records in body order, so an error's field path can name the
records it is about.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from uploader.push.bodies import Groups, canonical_path
from uploader.push.endpoints import EndpointSpec
from uploader.queue.base import QueuedRecord
from uploader.registry.answers import Refused
from uploader.registry.issues import Issue, headline, reason


@dataclass(frozen=True, slots=True)
class Batch:
    """One request body and the records it carries, in body order."""

    spec: EndpointSpec
    body: bytes
    records: Sequence[QueuedRecord]
    groups: Groups  # (start, stop) of each inverter's records

    def __len__(self) -> int:
        return len(self.records)

    def records_at(self, field: str | None) -> Sequence[QueuedRecord] | None:
        """The records an error's field path names (`Devices[0].Data[3].Timestamp`), or None."""
        if not field:
            return None
        return self.spec.locate(self.records, self.groups, canonical_path(field))


def build(records: Sequence[QueuedRecord], spec: EndpointSpec, numbers: str = "string") -> Batch:
    """The body carrying `records` to the endpoint `spec` describes."""
    if not records:
        raise ValueError("a request carries at least one record")
    records, groups = _in_body_order(records)
    if spec.one_inverter and len(groups) > 1:
        raise ValueError(f"the {spec.name} endpoint carries one inverter per request")
    if spec.one_year and len({r.day[:4] for r in records}) > 1:
        raise ValueError(f"the {spec.name} endpoint carries one year per request")
    body = spec.body(records, groups, '"' if numbers == "string" else "")
    return Batch(spec, body.encode(), records, groups)


def split(batch: Batch, numbers: str = "string") -> tuple[Batch, Batch]:
    """Two halves of a batch (for isolating records the registry refused without naming them)."""
    half = len(batch.records) // 2
    return (
        build(batch.records[:half], batch.spec, numbers),
        build(batch.records[half:], batch.spec, numbers),
    )


def _in_body_order(records: Sequence[QueuedRecord]) -> tuple[Sequence[QueuedRecord], Groups]:
    """The records with each inverter's days together, and their groups.

    A claim comes in (deadline, inverter, day) order, so an inverter whose days fall in two
    claim windows arrives as two runs, each in day order; the registry's shape has one entry
    per inverter, so the runs are merged (inverters in first-seen order, days in order).
    """
    groups = _groups(records)
    if len(groups) == len({records[start].remote_inv_id for start, _ in groups}):
        return records, groups  # one run per inverter: the usual claim, nothing to move
    first_seen: dict[str, int] = {}
    ordered = sorted(
        records, key=lambda r: (first_seen.setdefault(r.remote_inv_id, len(first_seen)), r.day)
    )
    return ordered, _groups(ordered)


def _groups(records: Sequence[QueuedRecord]) -> Groups:
    groups: list[tuple[int, int]] = []
    start = 0
    for index in range(1, len(records) + 1):
        if index == len(records) or records[index].remote_inv_id != records[start].remote_inv_id:
            groups.append((start, index))
            start = index
    return tuple(groups)


@dataclass(frozen=True, slots=True)
class Refusal:
    """What a refusal says of a batch: the records its errors name, and the rest of it."""

    named: list[tuple[QueuedRecord, str]]  # each named record with its reason
    kinds: Counter[str]  # the named records per kind of reason (`issues.headline`)
    unnamed: str  # the reason of the errors that name no record (or of the refusal)
    unnamed_kind: str


def refused_records(batch: Batch, refused: Refused) -> Refusal:
    """The records the refusal's errors name, each with its reasons; and what names none."""
    named: dict[int, tuple[QueuedRecord, list[Issue]]] = {}
    unnamed: list[Issue] = []
    for issue in refused.errors:
        records = batch.records_at(issue.field)
        if records is None:
            unnamed.append(issue)
            continue
        for record in records:
            named.setdefault(record.id, (record, []))[1].append(issue)
    status, message = refused.status, refused.message
    return Refusal(
        named=[(record, reason(status, message, said)) for record, said in named.values()],
        kinds=Counter(headline(status, message, said) for _, said in named.values()),
        unnamed=reason(status, message, unnamed),
        unnamed_kind=headline(status, message, unnamed),
    )
