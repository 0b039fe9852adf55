"""From delivered data to certificates, in subprocesses against the simulator: `reconcile`,
`request-issuance` and `applications`, with the exit codes the README promises."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.acceptance.cli import Site
from uploader.registration.template import TEMPLATE
from uploader.residual_mix import registry_today
from uploader.simulator import FakeRegistry, RateSpec, SimOptions

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
KEPT, ENDED, NEW = "RM1000020003386274014", "RM1000020003386274015", "RM1000020003386274016"
CONFIG = """\
queue = "sqlite:queue.db"

[registry]
base_url = "{url}"
timeout_s = 5

[limits]
account = "1000/1s"
ip = "3000/1s"

[worker]
idle_poll_s = 0.05
status_poll_interval_s = 0.05
shutdown_timeout_s = 2

[[accounts]]
id = "acme"
token_env = "ACME_TOKEN"
"""


async def enqueue(site: Site, rows: list[tuple[str, dt.date, str]]) -> None:
    """Queue (inverter, day, production) rows through `uploader enqueue`."""
    lines = ["RemoteInvId,Timestamp,PeriodProductionInKWh,AccumulatedEnergyInKWh"]
    lines += [f"{rid},{day},{kwh},{1000 + n}" for n, (rid, day, kwh) in enumerate(rows)]
    (site.workdir / "records.csv").write_text("\n".join(lines) + "\n")
    run = await site.uploader("enqueue", "--account", "acme", "records.csv")
    assert run.code == 0, run.err


def held(site: Site) -> dict[tuple[str, str], Decimal]:
    """What the simulator holds for acme: (inverter, day) -> production."""
    inverters = site.sim.state()["accounts"].get("acme", {}).get("inverters", {})
    return {
        (rid, day): Decimal(values["PeriodProductionInKWh"])
        for rid, days in inverters.items()
        for day, values in days.items()
    }


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    """A FakeRegistry for acme (generous limits) and a config file pointing at it."""
    options = SimOptions(
        tokens={"acme": "tok-acme"}, open_inverters=True, account_limit=RateSpec(1000, 1.0)
    )
    sim = FakeRegistry(options)
    url = await sim.start(host="127.0.0.1", port=0)
    (tmp_path / "uploader.toml").write_text(CONFIG.format(url=url))
    try:
        yield Site(sim, tmp_path)
    finally:
        await sim.stop()


def days(first: dt.date, n: int) -> list[dt.date]:
    """`n` days from `first`."""
    return [first + dt.timedelta(days=k) for k in range(n)]


async def test_reconcile_finds_what_the_registry_lost_and_the_next_drain_sends_it(
    site: Site,
) -> None:
    """Dropped and altered days are re-queued (--json summary), then delivered exactly again."""
    may = days(dt.date(2024, 5, 1), 5)
    rows = [(rid, day, f"{n}.25") for n, day in enumerate(may) for rid in ("INV-A", "INV-B")]
    await enqueue(site, rows)
    assert (await site.uploader("run", "--drain", "--confirm")).code == 0
    delivered = held(site)
    window = ("--account", "acme", "--from", "2024-05-01", "--to", "2024-05-05")
    clean = await site.uploader("reconcile", *window)
    assert (clean.code, clean.out) == (0, "acme 2024-05-01..2024-05-05 (all inverters): 10 "
        "checked, 10 matching, 0 missing, 0 different, 0 unknown to us, 0 re-queued\n")  # fmt: skip
    site.sim.drop_days("acme", "INV-A", may[0], may[1])
    site.sim.alter_day("acme", "INV-B", may[2], produced="999")
    found = await site.uploader("reconcile", *window, "--json")
    assert found.code == 0, found.err
    summary = json.loads(found.out)
    assert {k: summary[k] for k in ("checked", "matching", "missing", "different")} == {
        "checked": 10, "matching": 7, "missing": 2, "different": 1,
    }  # fmt: skip
    assert (summary["unknown_to_us"], summary["requeued"], summary["from"]) == (0, 3, "2024-05-01")
    assert (await site.uploader("run", "--drain", "--confirm")).code == 0
    assert held(site) == delivered
    status = json.loads((await site.uploader("status", "--json")).out)
    assert status["accounts"]["acme"]["sent"] == 10 + 3


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (("--from", "2024-05-05", "--to", "2024-05-01"), "--to"),
        (("--from", "2024-13-01", "--to", "2024-05-01"), "--from"),
        (
            (
                "--from",
                "2024-05-01",
            ),
            "--to",
        ),
    ],
)
async def test_reconcile_usage_errors_exit_2_naming_the_flag(
    site: Site, argv: tuple[str, ...], flag: str
) -> None:
    """A bad or missing date exits 2, names the flag and sends nothing."""
    run = await site.uploader("reconcile", "--account", "acme", *argv)
    assert (run.code, run.out) == (2, "")
    assert flag in run.err
    assert site.sim.state(summary=True)["requests"]["total"] == 0


def _payload(workdir: Path) -> str:
    payload: dict[str, Any] = json.loads(TEMPLATE)
    (workdir / "odf").mkdir()
    (workdir / "odf" / "device-1.pdf").write_bytes(PDF)
    (workdir / "payload.json").write_text(json.dumps(payload))
    return "payload.json"


async def test_issuance_waits_for_confirmed_records_then_files_once(site: Site) -> None:
    """Refused while records are pending or unconfirmed; filed once confirmed; 422 after."""
    registered = await site.uploader(
        "register-grouped", _payload(site.workdir), "--account", "acme"
    )
    assert registered.code == 0, registered.err
    device = registered.out.strip()
    vintage = days(registry_today() - dt.timedelta(days=20), 3)
    await enqueue(site, [(rid, day, "4.5") for day in vintage for rid in (KEPT, NEW)])
    ask = ("request-issuance", "--account", "acme", "--device", device,
           "--from", vintage[0].isoformat(), "--to", vintage[-1].isoformat())  # fmt: skip
    pending = await site.uploader(*ask)
    assert (pending.code, pending.out) == (1, "")
    assert f"{KEPT}: 3 pending" in pending.err
    assert f"{NEW}: 3 pending" in pending.err
    assert "6 record(s) of 2 inverter(s)" in pending.err
    assert (await site.uploader("run", "--drain")).code == 0
    unconfirmed = await site.uploader(*ask)
    assert (unconfirmed.code, f"{KEPT}: 3 unconfirmed" in unconfirmed.err) == (1, True)
    assert (await site.uploader("run", "--drain", "--confirm")).code == 0
    dry = await site.uploader(*ask, "--dry-run")
    assert (dry.code, dry.out.startswith("ready:")) == (0, True)
    filed = await site.uploader(*ask)
    assert filed.code == 0, filed.err
    assert UUID.fullmatch(filed.out.strip())
    again = await site.uploader(*ask)
    assert again.code == 1
    assert "refused: this period was already submitted (application RA0000001" in again.err
    listed = json.loads((await site.uploader("applications", "--json")).out)
    recs = listed["rec_applications"]
    assert [(r["Id"], r["DeviceId"], r["Quantity"]) for r in recs] == [
        (filed.out.strip(), device, 0.027)  # 6 x 4.5 kWh
    ]
    assert [d["Id"] for d in listed["device_applications"]] == [device]


async def test_issuance_past_the_deadline_is_refused_in_words(site: Site) -> None:
    """A vintage before the earliest claimable date: a warning, then the registry's 400."""
    registered = await site.uploader(
        "register-grouped", _payload(site.workdir), "--account", "acme"
    )
    device = registered.out.strip()
    run = await site.uploader("request-issuance", "--account", "acme", "--device", device,
                              "--from", "2020-01-01", "--to", "2020-01-31")  # fmt: skip
    assert (run.code, run.out) == (1, "")
    assert "warning: the whole vintage is before the earliest claimable date" in run.err
    assert "refused: the vintage is past the residual-mix deadline" in run.err


async def test_force_files_with_records_not_delivered(site: Site) -> None:
    """--force names what is not delivered and files the request anyway."""
    registered = await site.uploader(
        "register-grouped", _payload(site.workdir), "--account", "acme"
    )
    device = registered.out.strip()
    day = registry_today() - dt.timedelta(days=10)
    await enqueue(site, [(KEPT, day, "1")])
    run = await site.uploader("request-issuance", "--account", "acme", "--device", device,
                              "--from", f"{day}", "--to", f"{day}", "--force")  # fmt: skip
    assert run.code == 0, run.err
    assert f"{KEPT}: 1 pending" in run.err
    assert "filing anyway (--force)" in run.err
    assert UUID.fullmatch(run.out.strip())


async def test_applications_lists_both_kinds_and_filters_by_status(site: Site) -> None:
    """The text listing shows the device application; --status filters both lists."""
    registered = await site.uploader(
        "register-grouped", _payload(site.workdir), "--account", "acme"
    )
    device = registered.out.strip()
    listed = await site.uploader("applications")
    assert listed.code == 0, listed.err
    assert f"  {device}  Approved  SEASolar-Singapore-20240516001  SG  3 inverter(s)" in listed.out
    assert "REC applications (0):" in listed.out
    rejected = await site.uploader("applications", "--status", "Rejected")
    assert "device applications (0):" in rejected.out
    wrong = await site.uploader("applications", "--status", "Done")
    assert (wrong.code, "--status" in wrong.err) == (2, True)
