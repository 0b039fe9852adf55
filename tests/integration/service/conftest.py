"""The service's HTTP app over real HTTP on 127.0.0.1:0, with a real SQLite queue in tmp_path."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from uploader import config
from uploader.http import HttpServer, Service, build_app
from uploader.observe.metrics import Metrics
from uploader.push.service import Uploader
from uploader.queue import open_queue
from uploader.registry.client import RegistryClient

ACCOUNTS = ("acme", "beta")
TOKEN = "ingest-token-for-tests"
TOKEN_ENV = "INGEST_TOKEN_FOR_TESTS"  # not UPLOADER_*: those are configuration keys
MAX_BODY_BYTES = 64 * 1024
REGISTRY_TOKENS = {a: f"registry-{a}" for a in ACCOUNTS}
UNUSED_REGISTRY = "http://127.0.0.1:9"  # most endpoints never call the registry


@dataclass
class Running:
    """A started service and a client session pointed at it."""

    url: str
    http: aiohttp.ClientSession
    service: Service
    queue_url: str


ServiceFactory = Callable[..., Awaitable[Running]]


def settings_for(tmp_path: Path, registry_url: str, **server: Any) -> config.Settings:
    """Two accounts, the queue in tmp_path, fast idle polls, the test's [server] overrides."""
    return config.from_dict(
        {
            "queue": f"sqlite://{tmp_path / 'queue.db'}",
            "registry": {"base_url": registry_url},
            "limits": {"account": "1000/1s", "ip": "3000/1s"},
            "worker": {"idle_poll_s": 0.05, "poll_statuses": False, "shutdown_timeout_s": 2},
            "server": {
                "listen": "127.0.0.1:0",
                "ingest_token_env": TOKEN_ENV,
                "max_body_bytes": MAX_BODY_BYTES,
                **server,
            },
            "accounts": [{"id": a, "token": REGISTRY_TOKENS[a]} for a in ACCOUNTS],
        }
    )


@pytest.fixture
async def start_service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[ServiceFactory]:
    """Starts the service with `[server]` overrides; everything stops at the test's end."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    async with AsyncExitStack() as stack:

        async def start(registry_url: str = UNUSED_REGISTRY, **server: Any) -> Running:
            settings = settings_for(tmp_path, registry_url, **server)
            queue = await stack.enter_async_context(open_queue(settings.queue))
            client = await stack.enter_async_context(RegistryClient.from_settings(settings))
            metrics = Metrics(settings.account_ids)
            client.response_hooks.append(metrics.observe_request)
            uploader = Uploader(settings, queue, client, hooks=(metrics.observe,))
            service = Service.create(settings, uploader, metrics)
            app = build_app(service)
            server_ = await stack.enter_async_context(HttpServer(app, settings.server))
            http = await stack.enter_async_context(aiohttp.ClientSession())
            assert server_.url is not None
            return Running(server_.url, http, service, settings.queue)

        yield start


@pytest.fixture
async def running(start_service: ServiceFactory) -> Running:
    """The service with the default test settings."""
    return await start_service()
