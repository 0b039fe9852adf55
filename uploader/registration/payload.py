"""Reading a registration payload file: exact decimals, `"//"` comments, precise errors.

A payload file is JSON. Any object may carry a `"//"` key (a string or a list of strings)
as a comment: JSON has no comments, and a key keeps the file valid JSON for editors and
for the JSON Schema. `read` drops those keys. Numbers are decoded as `Decimal` from their
text, so decimal places are checked exactly.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec

from uploader.errors import ConfigError

COMMENT_KEY = "//"
REPLACED, REPLACED_LATER = "ReplacedRemoteInvId", "ReplacedByRemoteInvId"  # seed's, later pages'
_decoder = msgspec.json.Decoder(Any, float_hook=Decimal)
_BYTE = re.compile(r"\(byte (\d+)\)")


def decode(data: bytes, name: str) -> Any:
    """The decoded JSON of `data`; ConfigError naming file, line and column when malformed."""
    try:
        return without_comments(_decoder.decode(data))
    except msgspec.DecodeError as exc:
        line, column = _position(data, exc)
        reason = _BYTE.sub("", str(exc)).strip()
        raise ConfigError(f"{name}:{line}:{column}: {reason}") from None


def read(path: Path) -> Any:
    """Decode the payload file at `path` (ConfigError when it cannot be read or parsed)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    return decode(data, str(path))


def without_comments(value: Any) -> Any:
    """`value` with every `"//"` key removed, at any depth."""
    if isinstance(value, dict):
        return {k: without_comments(v) for k, v in value.items() if k != COMMENT_KEY}
    if isinstance(value, list):
        return [without_comments(item) for item in value]
    return value


def _position(data: bytes, exc: msgspec.DecodeError) -> tuple[int, int]:
    """1-based line and column of the error (the end of the data when it was truncated)."""
    match = _BYTE.search(str(exc))
    offset = int(match[1]) if match else len(data)
    before = data[:offset]
    line = before.count(b"\n") + 1
    column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
    return line, column


def seed_names(payload: Any) -> Any:
    """The payload with each inverter's `ReplacedByRemoteInvId` sent as the seed page's
    `ReplacedRemoteInvId` (the validator has made sure that two given agree)."""
    devices = [
        {**device, "Inverters": [_seed_named(i) for i in device["Inverters"]]}
        for device in payload["Devices"]
    ]
    return {**payload, "Devices": devices}


def _seed_named(inverter: dict[str, Any]) -> dict[str, Any]:
    if REPLACED_LATER not in inverter:
        return inverter
    renamed = {k: v for k, v in inverter.items() if k != REPLACED_LATER}
    if renamed.get(REPLACED) is None:
        renamed[REPLACED] = inverter[REPLACED_LATER]
    return renamed
