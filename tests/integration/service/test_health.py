"""Liveness and readiness: /readyz follows the uploader's shutdown and the queue's health."""

from __future__ import annotations

from tests.integration.service.conftest import TOKEN, Running


async def test_healthz_answers_while_the_process_serves(running: Running) -> None:
    """GET /healthz is 200 with a JSON status."""
    async with running.http.get(f"{running.url}/healthz") as response:
        assert response.status == 200
        assert await response.json() == {"status": "ok"}


async def test_readyz_turns_503_once_the_uploader_stops(running: Running) -> None:
    """/readyz is 200 while serving and 503 from the moment shutdown begins."""
    async with running.http.get(f"{running.url}/readyz") as response:
        assert response.status == 200
        assert (await response.json())["replicas"] == 1
    running.service.uploader.stop()
    async with running.http.get(f"{running.url}/readyz") as response:
        assert response.status == 503
        assert (await response.json())["status"] == "stopping"
    async with running.http.get(f"{running.url}/healthz") as response:
        assert response.status == 200  # still alive while draining


async def test_readyz_is_503_when_the_queue_does_not_answer(running: Running) -> None:
    """A queue that fails (here: closed under the service) makes /readyz 503, naming it."""
    await running.service.queue.close()
    async with running.http.get(f"{running.url}/readyz") as response:
        assert response.status == 503
        assert "queue unavailable" in (await response.json())["status"]


async def test_a_failing_queue_makes_ingest_503_and_metrics_say_so(running: Running) -> None:
    """With the queue gone, ingest answers a retryable 503 rather than a 500, and the metrics
    are still served, the backend's gauge at 0."""
    await running.service.queue.close()
    async with running.http.post(
        f"{running.url}/v1/records",
        data=b'{"RemoteInvId": "x"}\n',
        params={"account": "acme"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as response:
        assert response.status == 503
        assert "queue" in (await response.json())["error"]
    async with running.http.get(f"{running.url}/metrics") as response:
        assert response.status == 200
        assert "\nuploader_queue_backend_up 0.0\n" in await response.text()
