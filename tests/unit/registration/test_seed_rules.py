"""The seed's rules on text, places and names, and what is only a warning."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from uploader.cli import main
from uploader.registration import advice
from uploader.registration.payload import seed_names
from uploader.registration.places import BOUNDS, PROVINCES, province_code

from .payloads import SEED_JSON, context, device, inverter, violations

D0 = "Devices[0]"


def test_text_in_english_names_the_first_other_character(payload: dict[str, Any]) -> None:
    """An Address outside printable ASCII is refused at its path, naming the character."""
    payload["Devices"][0]["Address"] = "Jago Close 5号"
    (found,) = violations(payload)
    assert (found.field, found.malformed) == (f"{D0}.Address", False)
    assert "must be in English (printable ASCII); '号' is not" in found.message


def test_a_future_owners_declaration_start_is_named_in_the_message(
    payload: dict[str, Any],
) -> None:
    """The message itself names OwnersDeclarationStartDate, not only its path."""
    payload["Devices"][0]["OwnersDeclarationStartDate"] = "2025-02-01"
    (found,) = violations(payload)
    assert found.field == f"{D0}.OwnersDeclarationStartDate"
    assert found.message.startswith("OwnersDeclarationStartDate 2025-02-01 is in the future")


@pytest.mark.parametrize(
    ("country", "province", "code"),
    [("CN", "AH", "AH"), ("CN", "CN-AH", "AH"), ("CN", "ah", None), ("CN", "VN-AH", None),
     ("VN", "HN", "HN"), ("MY", "MY-16", "16"), ("MY", "17", None), ("SG", "Singapore", None)],
)  # fmt: skip
def test_province_codes(country: str, province: str, code: str | None) -> None:
    """A code is written with or without its country's prefix; countries without a list
    have no codes."""
    assert province_code(country, province) == code


def test_the_tables_cover_the_registry_s_countries() -> None:
    """Every location the pages list has bounds; China, Vietnam, Malaysia have codes."""
    assert set(BOUNDS) == {"SG", "CN", "VN", "MY", "ID", "BR", "MX"}
    assert {country: len(codes) for country, codes in PROVINCES.items()} == {
        "CN": 34,
        "VN": 63,
        "MY": 16,
    }
    for south, north, west, east in BOUNDS.values():
        assert -90 <= south < north <= 90
        assert -180 <= west < east <= 180


def test_a_country_without_bounds_is_not_checked(payload: dict[str, Any]) -> None:
    """A country added by configuration has no bounds: any coordinates in range pass."""
    payload["CountryCode"] = "US"
    payload["Devices"][0] |= {"Latitude": Decimal("40.7"), "Longitude": Decimal("-74")}
    assert violations(payload, context(countries=frozenset({"US"}))) == []


@pytest.mark.parametrize(
    ("later", "fields"),
    [("RM000002", set()), ("rm000002", set()), ("RM000003", {"ReplacedByRemoteInvId"})],
)
def test_both_replacement_names_must_agree(
    payload: dict[str, Any], later: str, fields: set[str]
) -> None:
    """Given both names, the later one must name the same inverter (case aside)."""
    first = inverter(1, ReplacedRemoteInvId="RM000002", ReplacedByRemoteInvId=later)
    payload["Devices"] = [device(first, inverter(2), inverter(3))]
    found = {v.field.rpartition(".")[2] for v in violations(payload)}
    assert found == fields


def test_the_later_replacement_name_is_sent_as_the_seed_s() -> None:
    """ReplacedByRemoteInvId goes out as ReplacedRemoteInvId; the seed's name is kept."""
    inverters = [{"RemoteInvId": "A", "ReplacedByRemoteInvId": "B"},
                 {"RemoteInvId": "B", "ReplacedRemoteInvId": "C", "ReplacedByRemoteInvId": "C"},
                 {"RemoteInvId": "C"}]  # fmt: skip
    sent = seed_names({"Devices": [{"Inverters": inverters}]})["Devices"][0]["Inverters"]
    assert sent == [
        {"RemoteInvId": "A", "ReplacedRemoteInvId": "B"},
        {"RemoteInvId": "B", "ReplacedRemoteInvId": "C"},
        {"RemoteInvId": "C"},
    ]


def test_an_omitted_percentage_renewable_is_a_warning(payload: dict[str, Any]) -> None:
    """Absent (or null) PercentageRenewable is valid, and advised on, device by device."""
    assert advice(payload) == []
    del payload["Devices"][0]["PercentageRenewable"]
    assert violations(payload) == []
    assert [str(w).split(":")[0] for w in advice(payload)] == [f"{D0}.PercentageRenewable"]


def test_the_command_prints_the_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`register-grouped --dry-run` says the percentage was left out, and still passes."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("UPLOADER_CONFIG", raising=False)
    payload = json.loads(SEED_JSON)
    del payload["Devices"][0]["PercentageRenewable"]
    (tmp_path / "p.json").write_text(json.dumps(payload))
    assert main(["register-grouped", "p.json", "--dry-run"]) == 0
    assert "warning: Devices[0].PercentageRenewable: not given" in capsys.readouterr().err
