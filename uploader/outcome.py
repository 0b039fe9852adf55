"""What a registry answer means for the batch that caused it.

The worker matches on these variants; nothing here touches the queue or the network.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import msgspec

from uploader.push.batcher import Batch
from uploader.queue.base import QueuedRecord
from uploader.registry.client import RegistryResponse
from uploader.registry.wire import ErrorItem
from uploader.registry.wire.codec import any_envelope, process_id_envelope


@dataclass(frozen=True, slots=True)
class Accepted:
    """2xx: the registry took the batch (with a ProcessId on the grouped endpoints)."""

    process_id: int | None


@dataclass(frozen=True, slots=True)
class Refused:
    """400/413/422: `named` records with the registry's reasons; else `unnamed` says why."""

    named: Sequence[tuple[QueuedRecord, str]]
    unnamed: str | None


@dataclass(frozen=True, slots=True)
class Throttled:
    """429: the key waits at least `retry_after_s`, then the same batch goes again."""

    retry_after_s: float


@dataclass(frozen=True, slots=True)
class Transient:
    """5xx or a failed transport: retried with backoff."""

    reason: str


@dataclass(frozen=True, slots=True)
class Paused:
    """401 after a fresh token, 403, or an endpoint that does not exist: the account stops."""

    reason: str


Outcome = Accepted | Refused | Throttled | Transient | Paused

PAUSING = {
    401: "the registry refused the account's token",
    403: "the account is forbidden",
    404: "the endpoint does not exist (check registry.base_url and paths)",
    405: "the endpoint does not take this method (check registry.paths)",
}


def classify(batch: Batch, response: RegistryResponse) -> Outcome:
    """The outcome of one answer to `batch`."""
    status = response.status
    if response.ok:
        return Accepted(_process_id(response.body))
    if status == 429:
        return Throttled(response.retry_after_s if response.retry_after_s is not None else 1.0)
    if status in PAUSING:
        return Paused(f"{status}: {PAUSING[status]}")
    if status in (400, 413, 422):
        return _refused(batch, response)
    return Transient(f"HTTP {status}")


def _process_id(body: bytes) -> int | None:
    try:
        data = process_id_envelope.decode(body).Data
    except msgspec.DecodeError:
        return None  # legacy answers `Data: {}`; any 2xx is an acceptance
    return data.ProcessId if data is not None else None


def _refused(batch: Batch, response: RegistryResponse) -> Refused:
    errors = _errors(response.body)
    named: dict[int, tuple[QueuedRecord, str]] = {}
    unnamed: list[str] = []
    for error in errors:
        reason = _reason(error, response.status)
        field = error.Field if isinstance(error, ErrorItem) else None
        records = batch.records_at(field)
        if records is None:
            unnamed.append(reason)
            continue
        for record in records:
            previous = named.get(record.id)
            named[record.id] = (record, f"{previous[1]}; {reason}" if previous else reason)
    if not named and not unnamed:
        unnamed.append(f"HTTP {response.status} without errors")
    return Refused(list(named.values()), "; ".join(unnamed) if not named else None)


def _errors(body: bytes) -> list[ErrorItem | str]:
    try:
        envelope = any_envelope.decode(body)
    except msgspec.DecodeError:
        return [body[:200].decode(errors="replace")]
    errors = list(envelope.Errors or [])
    return errors or [envelope.Message or ""]


def _reason(error: ErrorItem | str, status: int) -> str:
    if isinstance(error, str):
        return f"{status}: {error}"
    parts = [p for p in (error.Field, error.Code, error.Message) if p]
    return f"{status}: " + " ".join(parts)
