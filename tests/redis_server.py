"""Finding a Redis server for the multi-node tests: REDIS_URL, else 127.0.0.1:6379, else a
`redis-server` binary started on a free port for the session, else none (the tests skip and
say why). Each test gets its own key prefix and its keys are deleted afterwards, so a shared
server is left as it was found. That server need keep nothing on disk: the queues the tests
open on it say `durability=none`.

Tests of persistence, outages and failover start a server of their own (`own_redis`): on a
free port, its AOF (every write synced) in the test's folder, stopped, frozen and started
again by its pid.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path

import pytest
import redis
import redis.asyncio

from tests.ports import free_port

DEFAULT_URL = "redis://127.0.0.1:6379/0"
START_TIMEOUT_S = 10.0


def _answers(url: str) -> bool:
    with contextlib.suppress(redis.RedisError, OSError):
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            return bool(client.ping())
        finally:
            client.close()
    return False


@contextlib.contextmanager
def throwaway_server(binary: str, *options: str) -> Iterator[str]:
    """A redis-server on a free port keeping nothing on disk, with `options` (`--name value`
    pairs) added; its URL. Stopped at the end."""
    with tempfile.TemporaryDirectory(prefix="redis-") as folder:
        server = RedisServer(binary, Path(folder), persistent=False, options=options)
        server.start()
        try:
            yield server.url
        finally:
            server.kill()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A reachable Redis server's URL, or a skip that names what was tried."""
    explicit = os.environ.get("REDIS_URL")
    if explicit:
        if not _answers(explicit):
            pytest.fail(f"REDIS_URL={explicit} does not answer PING")
        yield explicit
        return
    if _answers(DEFAULT_URL):
        yield DEFAULT_URL
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip(
            "no Redis server: REDIS_URL is unset, nothing answers on 127.0.0.1:6379 and there "
            "is no redis-server binary on PATH (install Redis to run the multi-node tests)"
        )
    with throwaway_server(binary) as url:
        yield url


@pytest.fixture
async def redis_prefix(redis_url: str) -> AsyncIterator[str]:
    """A key prefix of this test's own; every key under it is deleted afterwards."""
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


class RedisServer:
    """A redis-server of one test: a free port, its files in `folder`; AOF on unless not
    `persistent` (then nothing on disk); `options` are further `--name value` pairs."""

    def __init__(
        self, binary: str, folder: Path, *, persistent: bool = True, options: Sequence[str] = ()
    ) -> None:
        self.binary = binary
        self.folder = folder
        self.persistent = persistent
        self.options = tuple(options)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """redis://127.0.0.1:PORT/0"""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start (again, on the same port and files) and wait until it answers."""
        disk = ["--appendonly", "yes", "--appendfsync", "always"] if self.persistent else []
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                   "--dir", str(self.folder), "--save", "", *disk, *self.options]  # fmt: skip
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _answers(self.url):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.binary} did not start on port {self.port}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: whatever was not synced is gone (with AOF `always`, nothing acknowledged)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def freeze(self) -> None:
        """SIGSTOP: the port stays open, nothing answers."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT."""
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[Callable[..., RedisServer]]:
    """Starts redis-servers of this test's own (`own_redis(persistent=True)`); each is killed
    at the end (skips without the binary)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("no redis-server binary on PATH to start a server of the test's own")
    servers: list[RedisServer] = []

    def start(*, persistent: bool = True) -> RedisServer:
        server = RedisServer(binary, tmp_path / f"redis-{len(servers)}", persistent=persistent)
        servers.append(server)
        server.start()
        return server

    yield start
    for server in servers:
        if server.process is not None:
            server.thaw()
        server.kill()
