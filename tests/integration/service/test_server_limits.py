"""The HTTP server against slow and greedy clients: real sockets that dribble bytes."""

from __future__ import annotations

import asyncio
import time
import urllib.parse

from tests.integration.service.conftest import TOKEN, Running, ServiceFactory
from uploader.http.server import LINGER_S

HEADER_TIMEOUT_S = 1.0
BODY_TIMEOUT_S = 1.0
SLACK_S = 1.5  # a loaded 2-core machine answers a timer late, never early


async def connect(running: Running) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    url = urllib.parse.urlsplit(running.url)
    assert url.hostname is not None
    assert url.port is not None
    return await asyncio.open_connection(url.hostname, url.port)


async def dribble(writer: asyncio.StreamWriter, data: bytes, every_s: float = 0.2) -> None:
    """Send `data` a byte at a time until the server closes (or the bytes run out)."""
    for byte in data:
        writer.write(bytes([byte]))
        try:
            await writer.drain()
        except ConnectionError:
            return
        await asyncio.sleep(every_s)


class Heard:
    """What a client heard: the bytes, when the first came and when the server closed."""

    def __init__(self) -> None:
        self.data = b""
        self.first_s = self.closed_s = float("inf")


async def read_until_closed(reader: asyncio.StreamReader, limit_s: float) -> Heard:
    """Everything the server sends until it closes (or resets), with the times (from now)."""
    started = time.monotonic()
    heard = Heard()
    async with asyncio.timeout(limit_s):
        try:
            while chunk := await reader.read(4096):
                heard.first_s = min(heard.first_s, time.monotonic() - started)
                heard.data += chunk
        except ConnectionResetError:  # closed while the client was still sending
            pass
    heard.closed_s = time.monotonic() - started
    return heard


async def test_slow_headers_are_cut_at_the_header_timeout(start_service: ServiceFactory) -> None:
    """Fifty clients sending headers a byte at a time are all closed within header_timeout_s."""
    running = await start_service(header_timeout_s=HEADER_TIMEOUT_S)
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200 + b"\r\n\r\n"

    async def one() -> float:
        reader, writer = await connect(running)
        sender = asyncio.create_task(dribble(writer, request))
        try:
            heard = await read_until_closed(reader, HEADER_TIMEOUT_S + SLACK_S)
        finally:
            sender.cancel()
            writer.close()
        return heard.closed_s

    closed = await asyncio.gather(*(one() for _ in range(50)))
    assert max(closed) < HEADER_TIMEOUT_S + SLACK_S


async def test_an_idle_connection_is_closed_at_the_header_timeout(
    start_service: ServiceFactory,
) -> None:
    """A connection that sends nothing, or nothing after a response, is closed in time."""
    running = await start_service(header_timeout_s=HEADER_TIMEOUT_S)
    reader, writer = await connect(running)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    heard = await read_until_closed(reader, HEADER_TIMEOUT_S + SLACK_S)
    writer.close()
    assert heard.data.startswith(b"HTTP/1.1 200")
    assert HEADER_TIMEOUT_S * 0.9 < heard.closed_s < HEADER_TIMEOUT_S + SLACK_S


async def test_a_slow_authenticated_body_gets_408_at_the_body_timeout(
    start_service: ServiceFactory,
) -> None:
    """Twenty ingest bodies dribbled a byte at a time get 408 in time, then a close after at
    most LINGER_S (reading on meanwhile keeps the 408 from being lost to a reset)."""
    running = await start_service(body_timeout_s=BODY_TIMEOUT_S, header_timeout_s=30)
    head = (
        b"POST /v1/records?account=acme HTTP/1.1\r\nHost: x\r\n"
        + f"Authorization: Bearer {TOKEN}\r\n".encode()
        + b"Content-Length: 1000\r\n\r\n"
    )

    async def one() -> Heard:
        reader, writer = await connect(running)
        writer.write(head)
        sender = asyncio.create_task(dribble(writer, b"x" * 1000))
        try:
            return await read_until_closed(reader, BODY_TIMEOUT_S + LINGER_S + SLACK_S)
        finally:
            sender.cancel()
            writer.close()

    for heard in await asyncio.gather(*(one() for _ in range(20))):
        assert heard.data.startswith(b"HTTP/1.1 408"), heard.data[:100]
        assert b"body_timeout_s" in heard.data
        assert heard.first_s < BODY_TIMEOUT_S + SLACK_S
        assert heard.closed_s < BODY_TIMEOUT_S + LINGER_S + SLACK_S
    assert (await running.service.queue.counts()).total.pending == 0


async def test_connections_beyond_the_limit_are_refused_with_503(
    start_service: ServiceFactory,
) -> None:
    """With max_connections open, the next client gets 503 and a close; a freed slot serves."""
    running = await start_service(max_connections=5, header_timeout_s=30)
    held = [await connect(running) for _ in range(5)]
    await asyncio.sleep(0.1)  # let the server register them
    reader, writer = await connect(running)
    heard = await read_until_closed(reader, SLACK_S)
    writer.close()
    assert heard.data.startswith(b"HTTP/1.1 503")
    assert b"max_connections" in heard.data
    held.pop()[1].close()
    await asyncio.sleep(0.2)
    async with running.http.get(f"{running.url}/healthz") as response:
        assert response.status == 200
    for _, held_writer in held:
        held_writer.close()
