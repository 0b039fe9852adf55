"""The Redis backend's replies: what the scripts return, read into the queue's types.

Redis answers bytes, and nil as None; each function here knows one script's answer.
"""

from __future__ import annotations

from typing import Any

import msgspec

from uploader.queue.types import (
    AccountCounts,
    DeadLetter,
    LedgerRow,
    QueuedRecord,
    RecordState,
    StoredRecord,
    flag_counts,
)

__all__ = [
    "account_counts",
    "dead_letter",
    "decode_pairs",
    "decode_records",
    "ledger_row",
    "stored_record",
]

# A claim comes back as one JSON array of QueuedRecords (the scripts join the stored forms).
decode_records = msgspec.json.Decoder(list[QueuedRecord]).decode
# A ledger row's items: [[id, version], ...].
decode_pairs = msgspec.json.Decoder(list[tuple[int, int]]).decode


def _str(value: bytes | None) -> str | None:
    return None if value is None else value.decode()


def _float(value: bytes | None) -> float | None:
    return None if value is None else float(value)


def dead_letter(row: list[Any]) -> DeadLetter:
    """A dead letter from list_dead's fields (see the script)."""
    letter_id, account, reason, source, at, rid, claim_key, period, accumulated, raw = row
    inverter = day = None
    if claim_key is not None:
        _, inverter, day = claim_key.decode().split("\0")
    return DeadLetter(
        id=int(letter_id),
        account=_str(account),
        reason=reason.decode(),
        source=_str(source),
        at=float(at),
        replayable=rid is not None,
        remote_inv_id=inverter,
        day=day,
        period_kwh=_str(period),
        accumulated_kwh=_str(accumulated),
        raw=_str(raw),
    )


def account_counts(rows: list[list[Any]]) -> dict[str, AccountCounts]:
    """The counts script's rows, by account name."""
    per: dict[str, AccountCounts] = {}
    for name, sent, pending, leased, dead, oldest, flags, delayed, due in rows:
        counts = AccountCounts(
            pending=int(pending),
            leased=int(leased),
            sent=int(sent),
            dead=int(dead),
            oldest_pending_at=_float(oldest),
            delayed=int(delayed),
            next_due_at=_float(due),
        )
        for bits, count in zip(flags[::2], flags[1::2], strict=True):
            flag_counts(int(bits), int(count), counts.flagged)
        per[name.decode()] = counts
    return per


def ledger_row(account: str, row: list[Any]) -> LedgerRow:
    """A ledger row of `account` from ledger_awaiting's fields."""
    batch, records, sent_at, status, pid, endpoint, state, state_at = row
    return LedgerRow(
        batch.decode(),
        account,
        int(records),
        float(sent_at),
        int(status),
        None if pid is None else int(pid),
        endpoint.decode(),
        _str(state),
        _float(state_at),
    )


def stored_record(row: list[Any]) -> StoredRecord:
    """A record of records_between's rows: id, version, claim key, values, state."""
    rid, version, claim_key, period, accumulated, state = row
    _, inverter, day = claim_key.decode().split("\0")
    return StoredRecord(
        int(rid),
        int(version),
        inverter,
        day,
        period.decode(),
        accumulated.decode(),
        msgspec.convert(state.decode(), RecordState),
    )
