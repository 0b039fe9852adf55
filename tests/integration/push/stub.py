"""A stand-in registry for answers the simulator cannot give: each path answers from a script.

`StubRegistry({"/public/v2/generation-datas/batches": [reply(200, b"<html>")]})` answers the
first batch with an HTML page and every later one with the documented envelope. It serves on
127.0.0.1, port 0, over real HTTP, and keeps every request it was sent.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Self

import msgspec
from aiohttp import web

Reply = Callable[[web.Request], Awaitable[web.StreamResponse]]

BATCHES = "/public/v2/generation-datas/batches"
TOKEN = "/public/v2/connect/token"
STATUSES = "/public/v2/generation-datas/statuses"
_process_ids = itertools.count(1)


def envelope(data: Any, status: int = 200, message: str = "Success", errors: Any = None) -> bytes:
    """The registry's envelope around `data`."""
    return msgspec.json.encode(
        {"Data": data, "Meta": None, "Errors": errors, "StatusCode": status, "Message": message}
    )


def reply(status: int, body: bytes = b"", headers: Mapping[str, str] | None = None) -> Reply:
    """A fixed answer."""

    async def answer(request: web.Request) -> web.StreamResponse:
        await request.read()
        return web.Response(status=status, body=body, headers=headers)

    return answer


async def accepted(request: web.Request) -> web.StreamResponse:
    """The grouped endpoints' documented answer: a new ProcessId."""
    await request.read()
    return web.Response(body=envelope({"ProcessId": next(_process_ids)}))


async def granted(request: web.Request) -> web.StreamResponse:
    """The token endpoint's documented answer."""
    await request.read()
    token = {"AccessToken": "granted", "RefreshToken": None, "ExpiresIn": 3600}
    return web.Response(body=envelope(token))


async def succeeded(request: web.Request) -> web.StreamResponse:
    """A processing status of Success for the ProcessId asked about."""
    data = {
        "ProcessId": int(request.query["ProcessId"]),
        "Status": "Success",
        "ProcessingType": "CreateNewGenerationData",
        "CreatedTime": "2026-01-01T00:00:00",
        "UpdatedTime": "2026-01-01T00:00:01",
    }
    return web.Response(body=envelope(data))


def stream(total_bytes: int, written: list[int]) -> Reply:
    """A 200 whose body (undeclared length) runs to `total_bytes`; `written` counts what went
    out before the client hung up."""

    async def answer(request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse()
        await response.prepare(request)
        chunk = b"x" * 65536
        written.append(0)
        try:
            while written[-1] < total_bytes:
                await response.write(chunk)
                written[-1] += len(chunk)
        except (ConnectionError, RuntimeError):
            return response  # the client stopped reading and closed the connection
        await response.write_eof()
        return response

    return answer


DOCUMENTED: dict[str, Reply] = {TOKEN: granted, STATUSES: succeeded}


class StubRegistry:
    """Answers each path's requests from its script, then from `answers` (by default as the
    registry documents)."""

    def __init__(
        self,
        scripts: Mapping[str, Sequence[Reply]] | None = None,
        answers: Mapping[str, Reply] | None = None,
    ) -> None:
        self._scripts = {path: list(replies) for path, replies in (scripts or {}).items()}
        self._answers = {**DOCUMENTED, **(answers or {})}
        self.requests: list[tuple[str, str, bytes]] = []  # method, path, body
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._answer)
        self._runner = web.AppRunner(app)
        self.url = ""

    def sent(self, path: str) -> list[bytes]:
        """The bodies sent to `path`, in order."""
        return [body for _, p, body in self.requests if p == path]

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        self.requests.append((request.method, request.path, await request.read()))
        script = self._scripts.get(request.path)
        if script:
            return await script.pop(0)(request)
        return await self._answers.get(request.path, accepted)(request)

    async def __aenter__(self) -> Self:
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._runner.cleanup()
