"""The JSON Schema for editors, the commented template, and unknown-field warnings."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from uploader.registration import ValidationContext, validate
from uploader.registration.odf import prepare
from uploader.registration.payload import decode
from uploader.registration.schema import json_schema, unknown_fields
from uploader.registration.template import TEMPLATE


def test_template_is_valid_once_its_odf_exists(tmp_path: Path) -> None:
    """The template decodes, names only known fields, and passes every rule."""
    (tmp_path / "odf").mkdir()
    (tmp_path / "odf" / "device-1.pdf").write_bytes(b"%PDF-1.4\n")
    payload = decode(TEMPLATE.encode(), "template")
    assert unknown_fields(payload) == []
    prepared, problems = prepare(payload, tmp_path)
    assert problems == []
    assert validate(prepared.payload, ValidationContext(today=dt.date.today())) == []


def test_template_carries_comments_at_every_level() -> None:
    """The template explains itself with "//" keys in the group, a device and an inverter."""
    raw: Any = json.loads(TEMPLATE)
    assert "//" in raw
    assert "//" in raw["Devices"][0]
    assert "//" in raw["Devices"][0]["Inverters"][0]


def test_schema_allows_odf_by_path_comments_and_numbers() -> None:
    """The schema takes DeclarationFormFile or its id, "//" keys, numbers as numbers; no typos."""
    schema = json_schema()
    device = schema["$defs"]["Device"]
    assert "DeclarationFormFileId" not in device["required"]
    assert {"required": ["DeclarationFormFile"]} in device["oneOf"]
    assert device["properties"]["Latitude"]["type"] == ["number", "string"]
    for definition in schema["$defs"].values():
        assert definition["additionalProperties"] is False
        assert "//" in definition["properties"]


def test_unknown_fields_are_named_with_a_suggestion() -> None:
    """A misspelt key at any level is named by path, with the close field name."""
    payload = {"Provnce": "x", "Devices": [{"Inverters": [{"RemoteInvID": "r"}], "Zzz": 1}]}
    assert unknown_fields(payload) == [
        "Provnce: unknown field, which the registry ignores (did you mean Province?)",
        "Devices[0].Zzz: unknown field, which the registry ignores",
        "Devices[0].Inverters[0].RemoteInvID: unknown field, which the registry ignores "
        "(did you mean RemoteInvId?)",
    ]
