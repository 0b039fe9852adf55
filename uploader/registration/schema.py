"""The payload file's shape: the wire types plus `"//"` comments and ODFs named by path.

`json_schema()` is what `uploader register-grouped --schema` prints for editors;
`unknown_fields()` finds keys the registry would silently ignore (usually a typo).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Any

import msgspec

from uploader.registration.payload import COMMENT_KEY, REPLACED_LATER
from uploader.registry.wire.registration import Device, GroupedDeviceApplication, Inverter

ODF_PATH_KEY = "DeclarationFormFile"  # the ODF as a path, uploaded by the command
ODF_ID_KEY = "DeclarationFormFileId"


def _names(struct: type[msgspec.Struct], *extra: str) -> frozenset[str]:
    return frozenset((*struct.__struct_encode_fields__, COMMENT_KEY, *extra))


GROUP_FIELDS = _names(GroupedDeviceApplication)
DEVICE_FIELDS = _names(Device, ODF_PATH_KEY)
INVERTER_FIELDS = _names(Inverter, REPLACED_LATER)
_COMMENT_SCHEMA = {
    "description": "a comment, ignored (JSON has no comments)",
    "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
}


def json_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of a payload file."""
    schema: dict[str, Any] = msgspec.json.schema(GroupedDeviceApplication)
    _numbers_as_numbers(schema)
    for definition in schema["$defs"].values():
        definition["properties"][COMMENT_KEY] = _COMMENT_SCHEMA
        definition["additionalProperties"] = False
    device = schema["$defs"]["Device"]
    device["properties"][ODF_PATH_KEY] = {
        "type": "string",
        "description": "path of the ODF (a PDF of at most 5 MB), relative to this file",
    }
    schema["$defs"]["Inverter"]["properties"][REPLACED_LATER] = {
        "type": "string",
        "maxLength": 100,
        "description": "the later pages' name of ReplacedRemoteInvId (sent as that)",
    }
    device["required"].remove(ODF_ID_KEY)
    device["oneOf"] = [{"required": [ODF_ID_KEY]}, {"required": [ODF_PATH_KEY]}]
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "REDEX grouped-device registration (uploader register-grouped)"
    return schema


def _numbers_as_numbers(node: Any) -> None:
    """msgspec describes a Decimal as a string; the payload writes it as a JSON number."""
    if isinstance(node, dict):
        if node.get("format") == "decimal":
            node.pop("format")
            node["type"] = ["number", "string"]
        for value in node.values():
            _numbers_as_numbers(value)
    elif isinstance(node, list):
        for item in node:
            _numbers_as_numbers(item)


def unknown_fields(payload: object) -> list[str]:
    """`Path: unknown field …` for each key the registry does not define, with a suggestion."""
    return list(_unknown(payload, "", GROUP_FIELDS))


def _unknown(node: object, path: str, known: frozenset[str]) -> Iterator[str]:
    if not isinstance(node, Mapping):
        return
    for key in node:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            where = f"{path}.{key}" if path else key
            yield f"{where}: unknown field, which the registry ignores{hint}"
    children = {"Devices": DEVICE_FIELDS, "Inverters": INVERTER_FIELDS}
    for key, fields in children.items():
        items = node.get(key)
        if known is not INVERTER_FIELDS and isinstance(items, list):
            for n, item in enumerate(items):
                yield from _unknown(item, f"{path}.{key}[{n}]" if path else f"{key}[{n}]", fields)
