"""The README's configuration reference names every key the settings types accept."""

from __future__ import annotations

from pathlib import Path

import msgspec

from uploader import config

README = Path(__file__).resolve().parents[2] / "README.md"


def leaf_keys(struct: type[msgspec.Struct], prefix: str = "") -> list[str]:
    """Every dotted key of a settings Struct, nested tables expanded."""
    keys = []
    for field in msgspec.structs.fields(struct):
        path = f"{prefix}{field.encode_name}"
        if isinstance(field.type, type) and issubclass(field.type, msgspec.Struct):
            keys += leaf_keys(field.type, f"{path}.")
        else:
            keys.append(path)
    return keys


def reference_rows() -> list[str]:
    text = README.read_text()
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| `")]


def test_every_settings_key_is_documented() -> None:
    """Each key of Settings (accounts' keys included) has a row of the README's reference."""
    rows = reference_rows()
    keys = [k for k in leaf_keys(config.Settings) if k != "accounts"] + [
        f"accounts[].{f.encode_name}" for f in msgspec.structs.fields(config.AccountSettings)
    ]
    missing = []
    for key in keys:
        table, _, name = key.rpartition(".")
        if not any(f"`{key}`" in row or (table and _row_names(row, table, name)) for row in rows):
            missing.append(key)
    assert missing == []


def _row_names(row: str, table: str, name: str) -> bool:
    """A grouped row: `table.*` listing `name`, or `table.x`, `name` beside each other."""
    cell = row.split("|")[1]
    return (f"`{table}.*`" in cell and f"`{name}`" in row) or (
        f"`{table}." in cell and f"`{name}`" in cell
    )
