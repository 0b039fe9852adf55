"""Serving the service's aiohttp application on `[server] listen`, guarded against slow and
greedy clients.

- `header_timeout_s`: a connection must deliver a request's headers within this long of
  opening, or of its previous response (aiohttp's keep-alive timer, which also runs from
  the connection's start); otherwise it is closed. Idle keep-alive connections close then.
- `body_timeout_s`: the ingest handler reads a body within this long or answers 408
  (`uploader.http.ingest`); the connection then closes once the rest of the body was read
  and dropped, or after `LINGER_S` (closing on unread bytes would reset the connection
  and could lose the 408 on its way).
- `max_connections`: beyond this many open connections, a new one is refused: it gets a
  503 with `Retry-After` and is closed at once, without being read.
"""

from __future__ import annotations

import asyncio
import json
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from uploader.config import ServerSettings, parse_listen
from uploader.errors import ConfigError

# Seconds requests still in progress get when the server stops, after the uploader's own
# shutdown_timeout_s: keep the sum below the container's stop grace period.
SHUTDOWN_TIMEOUT_S = 5.0
REFUSAL_RETRY_S = 1  # the Retry-After of a refused connection
# Seconds a connection answered before its body was read (401, 408, 413) keeps reading and
# dropping the body before it closes: long enough for the answer to arrive, no longer.
LINGER_S = 2.0


class HttpServer:
    """Runs an application on one address until stopped; `start()` returns its base URL."""

    def __init__(self, app: web.Application, settings: ServerSettings) -> None:
        self._app = app
        self._settings = settings
        self._host, self._port = parse_listen(settings.listen)
        self._runner: web.AppRunner | None = None
        self._listener: asyncio.Server | None = None
        self._open = 0  # connections accepted and not yet lost
        self.url: str | None = None

    def __repr__(self) -> str:
        return f"<HttpServer url={self.url!r} connections={self._open}>"

    async def start(self) -> str:
        """Bind and serve; the URL names the port actually bound."""
        # aiohttp's access log would add a line per probe and scrape; the service logs
        # what matters itself.
        self._runner = web.AppRunner(
            self._app,
            access_log=None,
            handle_signals=False,
            shutdown_timeout=SHUTDOWN_TIMEOUT_S,
            keepalive_timeout=self._settings.header_timeout_s,
            lingering_time=LINGER_S,
        )
        await self._runner.setup()
        loop = asyncio.get_running_loop()
        try:
            self._listener = await loop.create_server(
                self._protocol, self._host, self._port, reuse_address=True
            )
        except OSError as exc:
            await self.stop()
            where = f"{self._host}:{self._port}"
            raise ConfigError(f"server.listen: cannot listen on {where}: {exc.strerror}") from None
        host, port = self._listener.sockets[0].getsockname()[:2]
        self.url = f"http://{f'[{host}]' if ':' in host else host}:{port}"
        return self.url

    async def stop(self) -> None:
        """Close the listening socket and the open connections."""
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _protocol(self) -> asyncio.Protocol:
        """The protocol of a new connection: the application's, or a refusal past the limit."""
        assert self._runner is not None
        assert self._runner.server is not None
        if self._open >= self._settings.max_connections:
            return _Refusal(self._settings.max_connections)
        self._open += 1
        return _Counted(self._runner.server(), self)

    def _closed(self) -> None:
        self._open -= 1

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


class _Counted(asyncio.Protocol):
    """aiohttp's protocol for one connection, counted until the connection is lost."""

    def __init__(self, inner: asyncio.Protocol, server: HttpServer) -> None:
        self._inner = inner
        self._server: HttpServer | None = server

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._server is not None:  # once, whatever the transport does
            self._server._closed()
            self._server = None
        self._inner.connection_lost(exc)


class _Refusal(asyncio.Protocol):
    """Answers a connection over the limit with 503 and closes it, reading nothing."""

    def __init__(self, limit: int) -> None:
        self._limit = limit

    def connection_made(self, transport: Any) -> None:
        body = json.dumps(
            {"error": f"too many connections (server.max_connections = {self._limit})"}
        ).encode()
        head = (
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nRetry-After: {REFUSAL_RETRY_S}\r\n"
            "Connection: close\r\n\r\n"
        )
        transport.write(head.encode() + body)
        transport.close()
