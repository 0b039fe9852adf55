"""`uploader simulate` in a subprocess: port file, serving, state file on SIGTERM, bad flags."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

import aiohttp

from uploader.cli import build_parser
from uploader.commands.simulate import options_from

from .payloads import SEED_BATCH


async def _post_seed_batch(port: int) -> None:
    headers = {"Authorization": "Bearer tok-acme"}
    url = f"http://127.0.0.1:{port}/public/v2/generation-datas/batches"
    async with (
        aiohttp.ClientSession(headers=headers) as session,
        session.post(url, json=SEED_BATCH) as response,
    ):
        assert response.status == 200


async def test_simulate_serves_and_writes_its_state_on_sigterm(tmp_path: Path) -> None:
    """`--port 0 --port-file` binds a free port; SIGTERM writes --state-file and exits 0."""
    port_file, state_file = tmp_path / "port", tmp_path / "state.json"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "uploader", "simulate", "--port", "0",
        "--port-file", str(port_file), "--state-file", str(state_file),
        "--token", "acme=tok-acme", "--open-inverters",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = (await process.stdout.readline()).decode().strip()
        assert line.startswith("simulator listening on http://127.0.0.1:"), line
        port = int(port_file.read_text())
        assert line.endswith(f":{port}")
        await _post_seed_batch(port)
        process.send_signal(signal.SIGTERM)
        assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    state = json.loads(state_file.read_text())
    assert state["accounts"]["acme"]["inverters"]["STR10000000338444"]["2023-05-02"] == {
        "PeriodProductionInKWh": "0.234",
        "AccumulatedEnergyInKWh": "5.357",
    }
    assert state["requests"]["by_status"] == {"200": 1}


async def test_simulate_refuses_a_bad_rate_with_exit_2() -> None:
    """A rate that does not parse exits 2 and names the flag."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "uploader", "simulate", "--account-limit", "fifty",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await process.communicate()
    assert process.returncode == 2
    assert "--account-limit" in err.decode()


async def test_simulate_help_lists_every_route() -> None:
    """`uploader simulate --help` names each route, the issuance ones and the test hooks too."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "uploader", "simulate", "--help",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await process.communicate()
    assert process.returncode == 0
    text = out.decode()
    for route in (
        "GET  /public/v2/generation-datas",
        "GET  /public/v2/device-applications",
        "POST /public/v2/rec-applications/grouped-device",
        "GET  /public/v2/rec-applications",
        "POST /_sim/drop-days",
        "POST /_sim/alter-day",
    ):
        assert route in text
    assert "--bare-token" in text
    assert "--approval-delay-s" in text


def test_simulate_flags_set_the_new_options() -> None:
    """`--bare-token` and `--approval-delay-s` reach SimOptions; by default both are off."""
    parser = build_parser("simulate")
    on = options_from(parser.parse_args(["simulate", "--bare-token", "--approval-delay-s", "5"]))
    off = options_from(parser.parse_args(["simulate"]))
    assert (on.bare_token, on.approval_delay_s) == (True, 5.0)
    assert (off.bare_token, off.approval_delay_s) == (False, 0.0)
