"""`uploader register-grouped` without a registry: template, schema, local checks, usage errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from uploader.cli import main
from uploader.registration.template import TEMPLATE

from .payloads import SEED_JSON


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory without any configuration file."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("UPLOADER_CONFIG", raising=False)
    return tmp_path


def test_template_is_printed_verbatim(capsys: pytest.CaptureFixture[str]) -> None:
    """--template prints the commented example payload and exits 0."""
    assert main(["register-grouped", "--template"]) == 0
    assert capsys.readouterr().out == TEMPLATE


def test_schema_is_printed_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    """--schema prints a JSON Schema document and exits 0."""
    assert main(["register-grouped", "--schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["$schema"].endswith("2020-12/schema")


def test_dry_run_of_a_valid_payload_sends_nothing(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--dry-run without --account checks locally, needs no configuration, and exits 0."""
    (workdir / "p.json").write_bytes(SEED_JSON)
    assert main(["register-grouped", "p.json", "--dry-run"]) == 0
    assert capsys.readouterr().out.startswith("valid: 1 device(s), 1 inverter(s), 10.9 kW")


def test_invalid_payload_prints_every_violation_and_exits_1(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each violation is printed as Field.Path: message on stderr, and the exit code is 1."""
    payload = json.loads(SEED_JSON)
    payload["Province"] = "P" * 21
    payload["Devices"][0]["Inverters"][0]["InstalledCapacity"] = 300
    (workdir / "p.json").write_text(json.dumps(payload))
    assert main(["register-grouped", "p.json", "--dry-run"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "Province: longer than 20 characters (21)",
        "Devices[0].Inverters[0].InstalledCapacity: must be between 0 and 250 (300)",
        "uploader: 2 problem(s); nothing was sent",
    ]


@pytest.mark.parametrize(
    ("argv", "content", "message"),
    [
        (["p.json"], SEED_JSON, "--account is required"),
        ([], None, "PAYLOAD.json is required"),
        (["missing.json", "--dry-run"], None, "missing.json: cannot read"),
        (["p.json", "--dry-run"], b'{\n "A": 1,\n}', "p.json:3:1: JSON is malformed"),
        (["p.json", "--account", "nobody"], SEED_JSON, "unknown account 'nobody'"),
    ],
)
def test_usage_errors_exit_2(
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    content: bytes | None,
    message: str,
) -> None:
    """A missing argument, unreadable file, malformed JSON or unknown account exits 2."""
    if content is not None:
        (workdir / "p.json").write_bytes(content)
    assert main(["register-grouped", *argv]) == 2
    assert message in capsys.readouterr().err
