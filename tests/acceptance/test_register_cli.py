"""`uploader register-grouped`, `brands` and `devices` in a subprocess, against the simulator."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from tests.acceptance.cli import TOKENS, Run, Site, uploader
from uploader.registration.template import TEMPLATE
from uploader.simulator import FakeRegistry, SimOptions

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


Registry = Site  # the name these tests were written with


@pytest.fixture
async def registry(tmp_path: Path) -> AsyncIterator[Registry]:
    """A FakeRegistry on 127.0.0.1:0 for account acme, and a config file pointing at it."""
    sim = FakeRegistry(SimOptions(tokens={"acme": "tok-acme"}))
    url = await sim.start(host="127.0.0.1", port=0)
    (tmp_path / "uploader.toml").write_text(
        f'[registry]\nbase_url = "{url}"\n\n'
        '[registration]\ncountries = ["SG", "CN", "VN", "MY", "ID", "BR"]\n\n'
        '[[accounts]]\nid = "acme"\ntoken_env = "ACME_TOKEN"\n'
    )
    try:
        yield Registry(sim, tmp_path)
    finally:
        await sim.stop()


def _payload(workdir: Path) -> dict[str, Any]:
    """The template with two devices, each naming its own ODF by path (both files written)."""
    payload: dict[str, Any] = json.loads(TEMPLATE)
    second = json.loads(json.dumps(payload["Devices"][0]))
    second["InstallationName"] = "SEASolarDeveloper-Singapore-000002"
    second["DeclarationFormFile"] = "odf/device-2.pdf"
    second["Inverters"] = [
        {"RemoteInvId": "RM-2-1", "ElectronicSerialNumber": "S-2-1", "BrandCode": "HW21",
         "InstalledCapacity": 12.5},
    ]  # fmt: skip
    payload["Devices"].append(second)
    (workdir / "odf").mkdir(exist_ok=True)
    for name in ("device-1.pdf", "device-2.pdf"):
        (workdir / "odf" / name).write_bytes(PDF)
    return payload


def _write(workdir: Path, payload: dict[str, Any]) -> str:
    (workdir / "payload.json").write_text(json.dumps(payload, indent=2))
    return "payload.json"


async def test_valid_payload_with_odfs_by_path_registers_and_prints_the_id(
    registry: Registry,
) -> None:
    """Both ODFs are uploaded, the application registers, and its Id is the only stdout line."""
    name = _write(registry.workdir, _payload(registry.workdir))
    run = await registry.uploader("register-grouped", name, "--account", "acme")
    assert run.code == 0, run.err
    assert UUID.fullmatch(run.out.strip()), run.out
    assert run.err.count("uploaded ") == 2
    devices = await registry.uploader("devices", "--application", run.out.strip(), "--json")
    assert devices.code == 0, devices.err
    registered = json.loads(devices.out)
    assert [d["InstallationName"] for d in registered] == [
        "SEASolarDeveloper-Singapore-000001",
        "SEASolarDeveloper-Singapore-000002",
    ]
    assert registered[0]["DeclarationFormFileId"] != registered[1]["DeclarationFormFileId"]
    assert [len(d["Inverters"]) for d in registered] == [3, 1]


async def test_invalid_payload_exits_1_and_sends_nothing(registry: Registry) -> None:
    """Every violation is printed as Field.Path: message and the simulator sees no request."""
    payload = _payload(registry.workdir)
    payload["Devices"][1]["Inverters"][0]["ElectronicSerialNumber"] = "HW2343243244414"
    payload["Devices"][1]["DeclarationFormFile"] = "odf/missing.pdf"
    run = await registry.uploader("register-grouped", _write(registry.workdir, payload),
                                  "--account", "acme")  # fmt: skip
    assert run.code == 1
    assert run.out == ""
    assert run.err.splitlines() == [
        "Devices[1].DeclarationFormFile: odf/missing.pdf: cannot read: No such file or directory",
        "Devices[1].Inverters[0].ElectronicSerialNumber: "
        "duplicate serial HW2343243244414 for brand HW21",
        "uploader: 2 problem(s); nothing was sent",
    ]
    assert registry.requests() == 0


async def test_unknown_brand_code_is_refused_before_any_upload(registry: Registry) -> None:
    """A brand code missing from the registry's list exits 1 after reading the list only."""
    payload = _payload(registry.workdir)
    payload["Devices"][1]["Inverters"][0]["BrandCode"] = "ZZ99"
    run = await registry.uploader("register-grouped", _write(registry.workdir, payload),
                                  "--account", "acme")  # fmt: skip
    assert run.code == 1
    assert "Devices[1].Inverters[0].BrandCode: unknown brand code ZZ99" in run.err
    assert "uploaded" not in run.err
    assert set(registry.sim.state(summary=True)["requests"]["by_status"]) == {"200"}


async def test_registry_refusal_is_printed_like_local_violations(registry: Registry) -> None:
    """A country our config allows but the registry refuses comes back as Field: message, exit 1."""
    payload = _payload(registry.workdir)
    payload["CountryCode"] = "BR"  # with coordinates in Brazil, so only the registry objects
    for device in payload["Devices"]:
        device |= {"Latitude": -23.55052, "Longitude": -46.633309}
    run = await registry.uploader("register-grouped", _write(registry.workdir, payload),
                                  "--account", "acme")  # fmt: skip
    assert run.code == 1
    assert "CountryCode: BR is not supported" in run.err
    assert "registration: the registry answered 422" in run.err


async def test_brands_lists_every_page_and_filters_by_code(registry: Registry) -> None:
    """`brands` follows the pages to the end; `--code` asks for one brand."""
    every = await registry.uploader("brands", "--json")
    assert every.code == 0, every.err
    codes = [b["Code"] for b in json.loads(every.out)]
    assert "HW21" in codes
    assert len(codes) == len(set(codes))
    one = await registry.uploader("brands", "--code", "HW21")
    assert one.code == 0, one.err
    assert one.out.split()[0] == "HW21"
    assert len(one.out.splitlines()) == 1


async def test_brands_with_an_unknown_code_says_no_brand_matched(registry: Registry) -> None:
    """`brands --code XX99` exits 1 and says on stderr that no brand has that code."""
    run = await registry.uploader("brands", "--code", "XX99")
    assert run.code == 1
    assert run.out == ""
    assert "no brand has the code 'XX99'" in run.err


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"Data": {"Id": "d1"}}, "Data: expected `array | null`, got `object`"),
        ({"Data": [{"Id": 5}]}, "Data[0].Id: expected `str`, got `int`"),
        ("not an envelope", "the body: expected `object`, got `str`"),
    ],
)
async def test_devices_of_an_unexpected_shape_is_an_error_not_a_traceback(
    tmp_path: Path, answer: object, expected: str
) -> None:
    """A registry answer that is not a list of devices exits 1 naming what was expected."""
    app = web.Application()

    async def devices(request: web.Request) -> web.Response:
        return web.json_response(answer)

    app.router.add_get("/public/v2/device-applications/{id}/devices", devices)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    (tmp_path / "uploader.toml").write_text(
        f'[registry]\nbase_url = "http://{host}:{port}"\n\n'
        '[[accounts]]\nid = "acme"\ntoken_env = "ACME_TOKEN"\n'
    )
    try:
        run = await Registry(None, tmp_path).uploader("devices", "--application", "A1")  # type: ignore[arg-type]
    finally:
        await runner.cleanup()
    assert run.code == 1
    assert "Traceback" not in run.err
    assert "GET /public/v2/device-applications/A1/devices: unexpected answer" in run.err
    assert expected in run.err
    assert "(expected an envelope whose Data is a list of devices)" in run.err


def uploads(run: Run) -> int:
    """ODFs the run uploaded (one `uploaded PATH: ID` line each)."""
    return sum(line.startswith("uploaded ") for line in run.err.splitlines())


async def _applications(registry: Registry) -> list[str]:
    listed = await registry.uploader("applications", "--json")
    assert listed.code == 0, listed.err
    return [a["Id"] for a in json.loads(listed.out)["device_applications"]]


async def test_a_registration_retried_after_a_dropped_response_creates_one_application(
    registry: Registry,
) -> None:
    """The POST's answer is lost; the retry reuses the uploaded ODFs and registers once."""
    name = _write(registry.workdir, _payload(registry.workdir))
    # brands, the application lookup, two uploads, then the registration: reset unanswered.
    registry.sim.script("acme", [200, 200, 200, 200, "reset"])
    lost = await registry.uploader("register-grouped", name, "--account", "acme")
    assert (lost.code, lost.out) == (1, "")
    assert uploads(lost) == 2
    assert "no answer" in lost.err
    retried = await registry.uploader("register-grouped", name, "--account", "acme")
    assert retried.code == 0, retried.err
    application = retried.out.strip()
    assert UUID.fullmatch(application)
    assert uploads(retried) == 0  # the journal's file ids went again
    assert retried.err.count("uploaded before as") == 2
    assert await _applications(registry) == [application]
    again = await registry.uploader("register-grouped", name, "--account", "acme")
    assert (again.code, again.out.strip()) == (0, application)
    assert "already registered (journal" in again.err
    forced = await registry.uploader("register-grouped", name, "--account", "acme", "--force")
    assert forced.code == 0, forced.err
    assert uploads(forced) == 2
    assert await _applications(registry) == [application, forced.out.strip()]


async def test_an_application_registered_elsewhere_is_found_before_posting(
    registry: Registry,
) -> None:
    """With no journal entry, the account's application with the same inverters is reused."""
    elsewhere = registry.workdir / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "uploader.toml").write_text((registry.workdir / "uploader.toml").read_text())
    first = await uploader(elsewhere, "register-grouped", _write(elsewhere, _payload(elsewhere)),
                           "--account", "acme", env=TOKENS)  # fmt: skip
    assert first.code == 0, first.err
    name = _write(registry.workdir, _payload(registry.workdir))
    here = await registry.uploader("register-grouped", name, "--account", "acme")
    assert (here.code, here.out.strip()) == (0, first.out.strip())
    assert "has exactly these inverters: not registered again" in here.err
    assert uploads(here) == 0
    assert await _applications(registry) == [first.out.strip()]
