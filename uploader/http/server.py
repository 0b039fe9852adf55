"""Serving the service's aiohttp application on `[server] listen`."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from aiohttp import web

from uploader.config import parse_listen
from uploader.errors import ConfigError

# Seconds requests still in progress get when the server stops, after the uploader's own
# shutdown_timeout_s: keep the sum below the container's stop grace period.
SHUTDOWN_TIMEOUT_S = 5.0


class HttpServer:
    """Runs an application on one address until stopped; `start()` returns its base URL."""

    def __init__(self, app: web.Application, listen: str) -> None:
        self._app = app
        self._host, self._port = parse_listen(listen)
        self._runner: web.AppRunner | None = None
        self.url: str | None = None

    def __repr__(self) -> str:
        return f"<HttpServer url={self.url!r}>"

    async def start(self) -> str:
        """Bind and serve; the URL names the port actually bound."""
        # aiohttp's access log would add a line per probe and scrape; the service logs
        # what matters itself.
        self._runner = web.AppRunner(
            self._app,
            access_log=None,
            handle_signals=False,
            shutdown_timeout=SHUTDOWN_TIMEOUT_S,
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        try:
            await site.start()
        except OSError as exc:
            await self.stop()
            where = f"{self._host}:{self._port}"
            raise ConfigError(f"server.listen: cannot listen on {where}: {exc.strerror}") from None
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{f'[{host}]' if ':' in host else host}:{port}"
        return self.url

    async def stop(self) -> None:
        """Close the listening socket and the open connections."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

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
