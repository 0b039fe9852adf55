"""GET /v1/status serves exactly the document `uploader status --json` prints."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from tests.integration.service.conftest import TOKEN, Running


def without_clock(document: dict[str, Any]) -> dict[str, Any]:
    """The document minus what depends on the moment it was built."""
    document = dict(document)
    document.pop("generated_at")
    for counts in [document["total"], *document["accounts"].values()]:
        counts.pop("oldest_pending_age_s")
    return document


async def test_status_endpoint_equals_the_status_command(running: Running, tmp_path: Path) -> None:
    """After an ingest, /v1/status and `uploader status --json` agree on every count."""
    line = json.dumps(
        {
            "RemoteInvId": "INV-1",
            "Timestamp": "2019-01-02",  # before the earliest claimable date: flagged
            "PeriodProductionInKWh": "1",
            "AccumulatedEnergyInKWh": "2",
        }
    )
    async with running.http.post(
        f"{running.url}/v1/records",
        data=f"{line}\nnot json\n".encode(),
        params={"account": "acme"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as response:
        assert response.status == 202
    async with running.http.get(f"{running.url}/v1/status") as response:
        assert response.status == 200
        served = await response.json()
    settings = running.service.settings
    config_path = tmp_path / "status.toml"
    accounts = "".join(f'[[accounts]]\nid = "{a.id}"\n' for a in settings.accounts)
    config_path.write_text(f'queue = "{settings.queue}"\n{accounts}')
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "uploader", "--config", str(config_path), "status", "--json"),
        stdout=asyncio.subprocess.PIPE,
    )
    printed, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0
    assert without_clock(served) == without_clock(json.loads(printed))
    assert served["accounts"]["acme"]["pending"] == 1
    assert served["accounts"]["acme"]["flagged"]["before_claimable"] == 1
    assert served["accounts"]["acme"]["dead"] == 1
    assert served["accounts"]["beta"]["pending"] == 0
