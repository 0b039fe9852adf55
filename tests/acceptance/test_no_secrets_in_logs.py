"""No token, api key, client secret or ingest token ever reaches a log line."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.integration.push.conftest import enqueue, records_for, start_uploader
from uploader import config
from uploader.simulator import Credentials, FakeRegistry, SimOptions

SECRETS = {
    "STATIC_TOKEN": "static-tok-3f9a1c77d2",
    "API_KEY": "5b1c2d3e-aaaa-bbbb-cccc-0123456789ab",
    "CLIENT_SECRET": "client-secret-9e8d7c6b5a",
    "INGEST_TOKEN": "ingest-tok-55aa66bb77",
}


async def test_a_full_run_logs_no_secret(tmp_path: Path) -> None:
    """A drain with a static token, the api-key grant (with a refresh) and a 401 logs no secret."""
    options = SimOptions(
        tokens={"acme": SECRETS["STATIC_TOKEN"]},
        credentials={"bolt": Credentials(SECRETS["API_KEY"], "client-1", SECRETS["CLIENT_SECRET"])},
        open_inverters=True,
        token_ttl_s=1.0,
        latency_ms=(100.0, 200.0),
    )
    async with FakeRegistry(options) as sim:
        config_path = tmp_path / "uploader.toml"
        config_path.write_text(
            f'queue = "sqlite:///{tmp_path / "q.db"}"\n'
            f'[registry]\nbase_url = "{sim.url}"\nmax_records_per_request = 10\n'
            "token_refresh_margin_s = 0.5\n"
            '[limits]\naccount = "4/1s"\n'
            '[server]\nlisten = "127.0.0.1:0"\ningest_token_env = "INGEST_TOKEN"\n'
            '[log]\nlevel = "debug"\n'
            '[[accounts]]\nid = "acme"\ntoken_env = "STATIC_TOKEN"\n'
            '[[accounts]]\nid = "bolt"\napi_key_env = "API_KEY"\nclient_id = "client-1"\n'
            'client_secret_env = "CLIENT_SECRET"\n'
            '[[accounts]]\nid = "cera"\ntoken = "definitely-wrong-token-1234"\n'
        )
        settings = config.load(config_path, env={})
        await enqueue(settings, records_for(("acme", "bolt", "cera"), inverters=4, days=10))
        process = await start_uploader(config_path, "run", "--drain", env=SECRETS)
        output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    text = output.decode()
    assert process.returncode == 1, text  # cera is paused by its refused token
    assert '"outcome": "accepted"' in text, text
    leaked = [name for name, value in SECRETS.items() if value in text]
    assert leaked == []
    assert "definitely-wrong-token-1234" not in text
