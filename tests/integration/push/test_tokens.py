"""Tokens: the api-key grant, refresh before expiry, one retry after a 401, and 403."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import msgspec
import pytest

from tests.integration.push.conftest import (
    SettingsFactory,
    drain,
    enqueue,
    expected,
    held,
    records_for,
)
from tests.integration.push.stub import TOKEN, Reply, StubRegistry, envelope, reply
from uploader import config
from uploader.push.service import Uploader
from uploader.queue import LedgerEntry, open_queue
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


def grant_and_static(url: str, tmp_path: Path) -> config.Settings:
    """Two accounts: acme with the api-key grant (secrets in files), bolt with a static token."""
    grant = grant_settings(url, tmp_path)
    static = config.AccountSettings(id="bolt", token="tok-bolt")
    retry = config.RetrySettings(base_s=0.01, cap_s=0.1)
    worker = config.WorkerSettings(idle_poll_s=0.05, status_poll_interval_s=0.05)
    return msgspec.structs.replace(
        grant, accounts=[*grant.accounts, static], retry=retry, worker=worker
    )


@pytest.mark.parametrize(
    "failure",
    [
        reply(500, b"oops"),
        reply(503, b""),
        reply(429, b"", {"Retry-After": "0"}),
        reply(200, b"<html>captive portal</html>"),
        reply(200, envelope(None)),  # a 200 without Data
        reply(200, envelope({"Token": "x"})),  # a 200 without an AccessToken
        reply(302, b"", {"Location": "http://elsewhere.example/"}),
    ],
)
async def test_a_failing_token_endpoint_is_retried_for_that_account(
    tmp_path: Path, failure: Reply
) -> None:
    """The token endpoint failing twice delays only the grant's account: it retries with
    backoff, the other account drains meanwhile, and the run ends 0 with everything sent."""
    async with StubRegistry({TOKEN: [failure, failure]}) as stub:
        settings = grant_and_static(stub.url, tmp_path)
        records = records_for(("acme", "bolt"), inverters=2, days=3)
        await enqueue(settings, records)
        code, uploader = await drain(settings)
    assert code == 0
    assert len(stub.sent(TOKEN)) == 3
    assert uploader.stats.records_sent == {"acme": 6, "bolt": 6}
    assert uploader.stats.batches["transient"] == 2


@pytest.mark.parametrize("status", [400, 401, 403])
async def test_refused_credentials_pause_only_that_account(tmp_path: Path, status: int) -> None:
    """The token endpoint refusing the api key pauses that account with its records queued;
    the other drains, and the run ends 1 without a traceback."""
    refused = reply(status, envelope(None, status, "invalid client"))
    async with StubRegistry({TOKEN: [refused] * 10}) as stub:
        settings = grant_and_static(stub.url, tmp_path)
        await enqueue(settings, records_for(("acme", "bolt"), inverters=2, days=3))
        code, uploader = await drain(settings)
        async with open_queue(settings.queue) as queue:
            counts = (await queue.counts()).accounts["acme"]
    assert code == 1
    assert f"({status})" in (uploader.workers["acme"].paused or "")
    assert uploader.workers["bolt"].paused is None
    assert uploader.stats.records_sent == {"bolt": 6}
    assert (counts.pending, counts.sent) == (6, 0)


async def test_an_idle_service_survives_a_failing_token_endpoint(tmp_path: Path) -> None:
    """With nothing to send, the status poller meets the token endpoint's 500s: it backs off
    and confirms the batch once a token comes, and the service goes on serving."""
    async with StubRegistry({TOKEN: [reply(500, b"")] * 3}) as stub:
        settings = grant_and_static(stub.url, tmp_path)
        async with open_queue(settings.queue) as queue:
            await queue.enqueue(records_for(("acme",), inverters=1, days=1))
            claim = await queue.claim("acme", 10, 60)
            assert claim is not None
            entry = LedgerEntry("b1", "acme", 1, time.time(), 200, 7, "batch")
            await queue.ack(claim, claim.records, entry)
            async with RegistryClient.from_settings(settings) as client:
                uploader = Uploader(settings, queue, client)
                serving = asyncio.create_task(uploader.run())
                while await queue.ledger_awaiting_status("acme", 10):
                    assert not serving.done(), serving
                    await asyncio.sleep(0.02)
                uploader.stop()
                code = await serving
    assert code == 0
    assert len(stub.sent(TOKEN)) == 4
    assert uploader.pollers["acme"].paused is None
