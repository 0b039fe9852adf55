"""ODFs named by path: checked locally (PDF, at most 5 MB), then substituted by their ids."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from uploader.registration import validate
from uploader.registration.odf import MAX_ODF_BYTES, PLACEHOLDER_ID, prepare

from .payloads import context, device, inverter

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


def _with_odfs(payload: dict[str, Any], *names: str) -> dict[str, Any]:
    """The payload with one device per name, each naming its ODF by path."""
    devices = [device(inverter(n)) for n in range(len(names))]
    for item, name in zip(devices, names, strict=True):
        del item["DeclarationFormFileId"]
        item["DeclarationFormFile"] = name
    payload["Devices"] = devices
    return payload


def test_a_pdf_named_by_path_stands_as_a_placeholder_id(
    payload: dict[str, Any], tmp_path: Path
) -> None:
    """Two devices naming one PDF make one upload, and the payload validates meanwhile."""
    (tmp_path / "odf").mkdir()
    (tmp_path / "odf" / "a.pdf").write_bytes(PDF)
    prepared, problems = prepare(_with_odfs(payload, "odf/a.pdf", "odf/a.pdf"), tmp_path)
    assert problems == []
    assert prepared.odfs == {(tmp_path / "odf" / "a.pdf").resolve(): [0, 1]}
    assert [d["DeclarationFormFileId"] for d in prepared.payload["Devices"]] == [PLACEHOLDER_ID] * 2
    assert validate(prepared.payload, context()) == []
    final = prepared.with_file_ids({(tmp_path / "odf" / "a.pdf").resolve(): "id-1"})
    assert [d["DeclarationFormFileId"] for d in final["Devices"]] == ["id-1", "id-1"]
    assert "DeclarationFormFile" not in final["Devices"][0]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.docx", PDF, "a.docx: the ODF must be a PDF file (.pdf)"),
        ("a.pdf", b"PK\x03\x04 a zip", "a.pdf: not a PDF (it does not start with %PDF-)"),
        ("a.pdf", None, "a.pdf: cannot read: No such file or directory"),
        ("big.pdf", "5MB+1", f"big.pdf: larger than 5 MB ({MAX_ODF_BYTES + 1} bytes)"),
    ],
)
def test_a_file_that_cannot_be_an_odf_is_refused_locally(
    payload: dict[str, Any], tmp_path: Path, name: str, content: bytes | str | None, message: str
) -> None:
    """A non-PDF, a missing file or one over 5 MB is a violation at DeclarationFormFile."""
    if content == "5MB+1":
        with (tmp_path / name).open("wb") as handle:
            handle.write(PDF)
            handle.truncate(MAX_ODF_BYTES + 1)
    elif isinstance(content, bytes):
        (tmp_path / name).write_bytes(content)
    prepared, problems = prepare(_with_odfs(payload, name), tmp_path)
    assert [str(p) for p in problems] == [f"Devices[0].DeclarationFormFile: {message}"]
    assert prepared.odfs == {}
    assert validate(prepared.payload, context()) == []  # reported once, not also as a missing id


def test_id_and_path_together_are_refused(payload: dict[str, Any], tmp_path: Path) -> None:
    """A device giving both DeclarationFormFileId and DeclarationFormFile is malformed."""
    payload["Devices"][0]["DeclarationFormFile"] = "a.pdf"
    _, problems = prepare(payload, tmp_path)
    assert [(p.field, p.malformed) for p in problems] == [("Devices[0].DeclarationFormFile", True)]


def test_a_path_that_is_not_a_string_is_malformed(payload: dict[str, Any], tmp_path: Path) -> None:
    """DeclarationFormFile must be a path (a non-empty string)."""
    _with_odfs(payload, "x")["Devices"][0]["DeclarationFormFile"] = 7
    _, problems = prepare(payload, tmp_path)
    assert [str(p) for p in problems] == [
        "Devices[0].DeclarationFormFile: must be the path of a PDF file"
    ]
