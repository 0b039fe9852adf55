"""Tokens: the api-key grant, refresh before expiry, one retry after a 401, and 403."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.integration.push.conftest import (
    SettingsFactory,
    drain,
    enqueue,
    expected,
    held,
    records_for,
)
from uploader import config
from uploader.registry.client import RegistryClient
from uploader.simulator import Credentials, FakeRegistry, ManualClock, SimOptions

GRANT = Credentials("0f8f2a8e-1111-2222-3333-444455556666", "client-1", "secret-1")


def grant_settings(url: str, tmp_path: Path, margin_s: float = 0.0) -> config.Settings:
    """Settings whose only account uses the api-key grant, secrets read from files."""
    (tmp_path / "api_key").write_text(GRANT.api_key)
    (tmp_path / "client_secret").write_text(GRANT.client_secret)
    return config.from_dict(
        {
            "queue": f"sqlite:///{tmp_path / 'q.db'}",
            "registry": {"base_url": url, "token_refresh_margin_s": margin_s},
            "worker": {"idle_poll_s": 0.05},
            "accounts": [
                {
                    "id": "acme",
                    "api_key_file": str(tmp_path / "api_key"),
                    "client_id": GRANT.client_id,
                    "client_secret_file": str(tmp_path / "client_secret"),
                }
            ],
        }
    )


async def test_grant_then_refresh_before_expiry(tmp_path: Path) -> None:
    """The grant's token is reused until the margin before expiry, then replaced by a refresh."""
    options = SimOptions(credentials={"acme": GRANT}, open_inverters=True, token_ttl_s=2)
    async with FakeRegistry(options) as sim:
        settings = grant_settings(sim.url, tmp_path, margin_s=1.6)
        async with RegistryClient.from_settings(settings) as client:
            first = await client.tokens.header("acme")
            assert await client.tokens.header("acme") == first
            await asyncio.sleep(0.45)  # now within the margin: renewed before it expires
            second = await client.tokens.header("acme")
            response = await client.call("acme", "GET", settings.registry.paths.brands)
        state = sim.state(summary=True)
    assert second != first
    assert response.status == 200
    assert state["requests"]["by_status"].get("401", 0) == 0


async def test_401_is_retried_once_with_a_fresh_token(tmp_path: Path) -> None:
    """An access token the registry no longer takes is replaced and the request succeeds."""
    clock = ManualClock()
    options = SimOptions(credentials={"acme": GRANT}, open_inverters=True, token_ttl_s=60)
    async with FakeRegistry(options, clock=clock) as sim:
        settings = grant_settings(sim.url, tmp_path, margin_s=0.0)
        async with RegistryClient.from_settings(settings) as client:
            await client.tokens.header("acme")
            clock.advance(61)  # expired at the registry, still valid by the client's clock
            response = await client.call("acme", "GET", settings.registry.paths.brands)
        state = sim.state(summary=True)
    assert response.status == 200
    assert state["requests"]["by_status"]["401"] == 1


async def test_drain_with_the_grant(tmp_path: Path) -> None:
    """Records of an api-key-grant account drain exactly."""
    async with FakeRegistry(SimOptions(credentials={"acme": GRANT}, open_inverters=True)) as sim:
        settings = grant_settings(sim.url, tmp_path)
        records = records_for(("acme",), inverters=5, days=5)
        await enqueue(settings, records)
        code, _ = await drain(settings)
        assert held(sim.state()) == expected(records)
    assert code == 0


async def test_403_pauses_the_account(make_settings: SettingsFactory) -> None:
    """A forbidden account is paused with its records queued; the other account drains."""
    tokens = {"acme": "tok-acme", "bolt": "tok-bolt"}
    options = SimOptions(tokens=tokens, open_inverters=True, forbid=frozenset({"bolt"}))
    async with FakeRegistry(options) as sim:
        settings = make_settings(sim.url, accounts=("acme", "bolt"))
        records = records_for(("acme", "bolt"), inverters=3, days=3)
        await enqueue(settings, records)
        code, uploader = await drain(settings)
        state = sim.state()
    assert code == 1
    assert uploader.workers["bolt"].paused is not None
    assert "403" in (uploader.workers["bolt"].paused or "")
    assert held(state) == expected([r for r in records if r.account == "acme"])
