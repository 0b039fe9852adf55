"""The registration journal: what `register-grouped` did for a payload, so a retry does not
do it twice.

A registration is keyed by its content (`content_key`: the payload, and the bytes of each
ODF it names by path). Each step is one JSON line, written and fsynced before the next step
starts: `uploaded` (an ODF's file id), `posting` (the application is about to be sent) and
`registered` (its Id). A retry after a timeout or a crash reads the key's lines: an ODF
uploaded already is not uploaded again, and a registered application is not sent again. A
`posting` without `registered` means the answer was lost: the caller then looks the
application up at the registry before sending it again.

The file is append-only and small (a few lines per registration); a lock serialises two
processes. Its calls block: run them in a thread.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import msgspec

from uploader.errors import ConfigError

__all__ = ["Entry", "Journal", "Recorded", "Step", "content_key"]

Step = Literal["uploaded", "posting", "registered"]
_sorted = msgspec.json.Encoder(order="sorted")


def content_key(payload: Any, odf_digests: Mapping[int, str]) -> str:
    """The registration's identity: the payload (ODFs by placeholder) and, per device index,
    the SHA-256 of the ODF it names."""
    document = {"payload": payload, "odfs": {str(i): d for i, d in sorted(odf_digests.items())}}
    return hashlib.sha256(_sorted.encode(document)).hexdigest()


class Entry(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One line of the journal."""

    key: str
    account: str
    step: Step
    at: float
    odf: str | None = None  # uploaded: the ODF's SHA-256
    file_id: str | None = None  # uploaded: the id the registry gave it
    application: str | None = None  # registered: the application's Id


@dataclass
class Recorded:
    """What the journal says of one registration of one account."""

    file_ids: dict[str, str] = field(default_factory=dict)  # ODF SHA-256 -> file id
    posting: bool = False  # sent (or about to be) without a recorded answer
    application: str | None = None


_decode = msgspec.json.Decoder(Entry).decode
_encode = msgspec.json.Encoder().encode


class Journal:
    """The journal file at `path` (made, with its directory, on the first write)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __repr__(self) -> str:
        return f"<Journal {str(self.path)!r}>"

    def recorded(self, key: str, account: str) -> Recorded:
        """The registration's steps so far (nothing when the file does not exist)."""
        found = Recorded()
        try:
            lines = self.path.read_bytes().splitlines()
        except FileNotFoundError:
            return found
        except OSError as exc:
            raise ConfigError(f"registration journal {self.path}: {exc.strerror}") from None
        for line in lines:
            try:
                entry = _decode(line)
            except msgspec.DecodeError:
                continue  # a line cut short by a crash: its step did not happen
            if entry.key == key and entry.account == account:
                _apply(found, entry)
        return found

    def write(self, key: str, account: str, step: Step, **fields: str) -> None:
        """Append one step, on disk before this returns."""
        entry = Entry(key=key, account=account, step=step, at=time.time(), **fields)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("ab") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                handle.write(_encode(entry) + b"\n")
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise ConfigError(f"registration journal {self.path}: {exc.strerror}") from None


def _apply(found: Recorded, entry: Entry) -> None:
    if entry.step == "uploaded" and entry.odf and entry.file_id:
        found.file_ids[entry.odf] = entry.file_id
    elif entry.step == "posting":
        found.posting, found.application = True, None
    elif entry.step == "registered":
        found.posting, found.application = False, entry.application
