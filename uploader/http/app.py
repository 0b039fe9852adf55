"""The aiohttp application of `uploader run`: health, readiness, metrics, status, ingest.

GET  /healthz            200 while the process serves
GET  /readyz             200 when the queue answers (and still holds its data) and the
                         uploader is not stopping, else 503 naming why; the body lists the
                         accounts this process serves and the live replicas
GET  /metrics            Prometheus text (also while the queue is out of reach)
GET  /v1/status          what `uploader status --json` prints
POST /v1/records?account=ID   authenticated ingest (see `uploader.http.ingest`)
"""

from __future__ import annotations

import asyncio

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler

from uploader.errors import QueueError
from uploader.http.context import SERVICE, Service
from uploader.http.ingest import post_records
from uploader.observe.status import DEADLINE_HORIZON_DAYS as HORIZON
from uploader.observe.status import build_status
from uploader.residual_mix import registry_today

log = structlog.get_logger("uploader.http")

READY_TIMEOUT_S = 5.0  # a queue that does not answer within this is not ready


def build_app(service: Service) -> web.Application:
    """The application serving `service`; body size capped at `[server] max_body_bytes`."""
    app = web.Application(
        client_max_size=service.settings.server.max_body_bytes, middlewares=[queue_errors]
    )
    app[SERVICE] = service
    app.add_routes(
        [
            web.get("/healthz", healthz),
            web.get("/readyz", readyz),
            web.get("/metrics", metrics),
            web.get("/v1/status", status),
            web.post("/v1/records", post_records),
        ]
    )
    return app


@web.middleware
async def queue_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A failing queue is a 503 the caller can retry, logged once, rather than a bare 500."""
    try:
        return await handler(request)
    except QueueError as exc:
        log.error("queue unavailable", path=request.path, error=str(exc))
        return web.json_response({"error": "the queue is unavailable; retry later"}, status=503)


async def healthz(request: web.Request) -> web.Response:
    """Alive: the loop runs and answers."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready for traffic: not shutting down, the queue answers in time and holds its data."""
    service = request.app[SERVICE]
    uploader = service.uploader
    if uploader.stopping.is_set():
        return web.json_response({"status": "stopping"}, status=503)
    if not uploader.leases.backend.ready:
        return web.json_response({"status": uploader.leases.backend.reason}, status=503)
    try:
        await asyncio.wait_for(service.queue.in_flight(), READY_TIMEOUT_S)
    except Exception as exc:  # whatever the backend raises, the answer is "not ready"
        reason = f"queue unavailable: {type(exc).__name__}"
        return web.json_response({"status": reason}, status=503)
    serving = sorted(uploader.accounts.serving())
    replicas = uploader.leases.replicas()
    return web.json_response({"status": "ready", "serving": serving, "replicas": replicas})


async def metrics(request: web.Request) -> web.Response:
    """Prometheus exposition, queue and limiter gauges refreshed for this scrape; with the
    queue out of reach, the queue's gauges keep their last values and
    `uploader_queue_backend_up` says 0."""
    service = request.app[SERVICE]
    try:
        counts = await service.queue.counts()
        today = registry_today()
        deadlines = await service.queue.deadlines(today, HORIZON)
    except QueueError as exc:
        log.warning("metrics: queue unavailable", error=str(exc))
        service.refresh_fleet(answered=False)
    else:
        service.refresh_metrics(counts)
        service.metrics.refresh_deadlines(deadlines, today)
        service.refresh_fleet(answered=True)
    body, content_type = service.metrics.render(request.headers.get("Accept", ""))
    return web.Response(body=body, headers={"Content-Type": content_type})


async def status(request: web.Request) -> web.Response:
    """The same document as `uploader status --json`."""
    service = request.app[SERVICE]
    document = await build_status(service.queue, service.settings)
    return web.Response(body=document, content_type="application/json")
