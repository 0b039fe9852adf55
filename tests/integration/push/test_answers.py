"""Only the registry's documented answer is a delivery: odd 2xx, redirects, oversized answers."""

from __future__ import annotations

from typing import Any

import pytest
from structlog.testing import capture_logs

from tests.integration.push.conftest import SettingsFactory, drain, enqueue, records_for
from tests.integration.push.stub import BATCHES, StubRegistry, envelope, reply, stream
from uploader.queue import open_queue

RECORDS = records_for(("acme",), inverters=3, days=4)


async def drain_stub(stub: StubRegistry, settings_for: SettingsFactory, **tables: Any) -> Any:
    """Drain RECORDS of acme into the stub; the exit code, the uploader and the batch logs."""
    settings = settings_for(stub.url, accounts=("acme",), **tables)
    await enqueue(settings, RECORDS)
    with capture_logs() as logs:
        code, uploader = await drain(settings)
    async with open_queue(settings.queue) as queue:
        counts = (await queue.counts()).accounts["acme"]
    assert (counts.sent, counts.pending, counts.dead) == (len(RECORDS), 0, 0)
    return code, uploader, [e for e in logs if e["event"] == "batch"]


@pytest.mark.parametrize(
    ("status", "body", "shown"),
    [
        (200, b"<html><body>Welcome to the hotel network</body></html>", "<html><body>Welcome"),
        (200, b"", "''"),
        (200, b"\x00garbage\xff", "garbage"),
        (200, envelope({}), '"Data":{}'),  # the grouped endpoint gives a ProcessId
        (200, envelope(None), '"Data":null'),
        (201, envelope({"ProcessId": "seven"}), '"ProcessId":"seven"'),
        (204, b"", "''"),
    ],
)
async def test_a_2xx_that_is_not_the_registry_answer_is_retried(
    make_settings: SettingsFactory, status: int, body: bytes, shown: str
) -> None:
    """A 2xx without `Data: {"ProcessId": int}` acks nothing: it is logged with its status and
    first bytes, counted, and the same records go again."""
    async with StubRegistry({BATCHES: [reply(status, body)]}) as stub:
        code, uploader, batches = await drain_stub(stub, make_settings)
    assert code == 0
    first, again = stub.sent(BATCHES)
    assert first == again
    assert uploader.stats.batches["malformed"] == 1
    assert uploader.stats.batches["accepted"] == 1
    (odd,) = [e for e in batches if e["outcome"] == "malformed"]
    assert odd["status"] == status
    assert str(status) in odd["reason"]
    assert shown in odd["reason"]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_redirect_is_never_followed(make_settings: SettingsFactory, status: int) -> None:
    """A redirect to another origin is an error naming its Location; nothing reaches it, and
    the batch goes again to the registry."""
    async with StubRegistry() as elsewhere:
        location = f"{elsewhere.url}/portal"
        moved = reply(status, b"", {"Location": location})
        async with StubRegistry({BATCHES: [moved]}) as stub:
            code, _, batches = await drain_stub(stub, make_settings)
    assert code == 0
    assert elsewhere.requests == []
    assert len(stub.sent(BATCHES)) == 2
    (odd,) = [e for e in batches if e["outcome"] == "malformed"]
    assert (odd["status"], location in odd["reason"]) == (status, True)


async def test_an_answer_over_the_cap_is_cut_off_and_retried(
    make_settings: SettingsFactory,
) -> None:
    """A 200 streaming 128 MiB is read only up to `registry.max_answer_bytes`, then the
    connection is dropped and the batch goes again: memory stays bounded and nothing is acked."""
    cap = 64 * 1024
    written: list[int] = []
    async with StubRegistry({BATCHES: [stream(128 * 1024 * 1024, written)]}) as stub:
        code, _, batches = await drain_stub(stub, make_settings, registry={"max_answer_bytes": cap})
    assert code == 0
    assert len(stub.sent(BATCHES)) == 2
    assert written[0] < 16 * 1024 * 1024  # what socket buffers took before the client hung up
    (odd,) = [e for e in batches if e["outcome"] == "malformed"]
    assert f"over {cap:,} bytes" in odd["reason"]


async def test_a_declared_length_over_the_cap_is_not_read(make_settings: SettingsFactory) -> None:
    """A Content-Length over the cap is refused unread, and the batch goes again."""
    cap = 4096
    async with StubRegistry({BATCHES: [reply(200, b"x" * (cap + 1))]}) as stub:
        code, uploader, _ = await drain_stub(
            stub, make_settings, registry={"max_answer_bytes": cap}
        )
    assert code == 0
    assert len(stub.sent(BATCHES)) == 2
    assert uploader.stats.batches["malformed"] == 1
