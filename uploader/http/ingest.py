"""`POST /v1/records?account=ID`: authenticated ingest into the durable queue.

The order of the checks is the order of what a caller may learn: no token configured → 503
(a safe default: the endpoint is off until an operator turns it on); a wrong or missing
token → 401, compared in constant time and before the body is read; then the account (400
naming it, given once), the size (413 above `[server] max_body_bytes`), the time to send it
(408 and a closed connection past `[server] body_timeout_s`) and the body's shape (400).
Rows go through the same validation as `uploader enqueue`. Every line is checked before
anything is queued; then the good records go to the queue in one call (one transaction on
SQLite) even when other lines are refused, and the 202 is sent only after it returned, so
an accepted record is durable and the answer names every line's fate.

The 202's counts mean what `uploader enqueue`'s summary means: `accepted` counts every valid
line, and equals `queued` (new or changed records) + `unchanged` (already queued or sent with
the same values) + the `superseded` lines (a later line of the body has the same inverter and
day and replaced it: `{"line", "by"}`); `flagged` counts those accepted with a warning;
`rounded` lists each value rounded to three places (`{"line", "field", "given", "kept"}`);
`rejected` lists each refused line (for a JSON array: the record's position) with its reason.
Refused lines are also kept as dead letters, their source `ingest:<X-Request-Id>:<line>`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import uuid
from typing import Any

import structlog
from aiohttp import web

from uploader.http.body import BodyError, check_body, split_body
from uploader.http.context import SERVICE, Service
from uploader.ingest.pipeline import Chunk, IngestSummary, ingest
from uploader.ingest.validate import Validator, line_of

log = structlog.get_logger("uploader.ingest")


async def post_records(request: web.Request) -> web.Response:
    """Validate and queue the records of one request; 202 with what happened to each line."""
    service = request.app[SERVICE]
    refusal = _refuse(request, service)
    if refusal is not None:
        return refusal
    account = request.query.getone("account")
    try:
        async with asyncio.timeout(service.settings.server.body_timeout_s):
            body = await request.read()
    except web.HTTPRequestEntityTooLarge:  # a chunked body without Content-Length
        return _error(413, _too_large(service))
    except TimeoutError:
        return _too_slow(request, service)
    try:
        entries = await asyncio.to_thread(split_body, body)
    except BodyError as exc:
        return _error(400, str(exc))
    request_id = uuid.uuid4().hex[:12]
    answer = await _ingest(service, account, f"ingest:{request_id}", entries)
    service.uploader.wake(account)
    log.info(
        "ingest",
        account=account,
        request_id=request_id,
        accepted=answer["accepted"],
        queued=answer["queued"],
        unchanged=answer["unchanged"],
        superseded=len(answer["superseded"]),
        rejected=len(answer["rejected"]),
    )
    return web.json_response(answer, status=202, headers={"X-Request-Id": request_id})


def _refuse(request: web.Request, service: Service) -> web.Response | None:
    """The answer to a request that must not reach the queue; None when it may."""
    if service.ingest_token is None:
        return _error(503, "ingest disabled: set [server] ingest_token_env or ingest_token_file")
    if not _authorized(request.headers.get("Authorization", ""), service.ingest_token):
        return _error(401, "a valid 'Authorization: Bearer <token>' is required", bearer=True)
    given = request.query.getall("account", [])
    if len(given) > 1:
        return _error(400, "the account query parameter is given more than once: ?account=ID")
    account = given[0] if given else ""
    if not account:
        return _error(400, "the account query parameter is required: ?account=ID")
    if account not in service.settings.account_ids:
        return _error(400, f"unknown account {account!r}: it is not in the configuration")
    limit = service.settings.server.max_body_bytes
    if (request.content_length or 0) > limit:
        return _error(413, _too_large(service))
    return None


def _too_slow(request: web.Request, service: Service) -> web.Response:
    """408 and `Connection: close` (the server lingers a moment, then closes)."""
    seconds = service.settings.server.body_timeout_s
    response = _error(408, f"the body took longer than {seconds} s to arrive (body_timeout_s)")
    response.force_close()
    log.warning("ingest body too slow", account=request.query.get("account"), seconds=seconds)
    return response


def _too_large(service: Service) -> str:
    return f"the body exceeds {service.settings.server.max_body_bytes} bytes (max_body_bytes)"


def _authorized(header: str, token: str) -> bool:
    scheme, _, presented = header.partition(" ")
    # Compared in constant time whatever the scheme, so a wrong scheme takes as long.
    matches = hmac.compare_digest(presented.strip().encode(), token.encode())
    return matches and scheme.lower() == "bearer"


def _error(status: int, message: str, *, bearer: bool = False) -> web.Response:
    headers = {"WWW-Authenticate": 'Bearer realm="uploader"'} if bearer else None
    return web.json_response({"error": message}, status=status, headers=headers)


async def _ingest(
    service: Service, account: str, source: str, entries: list[tuple[int, bytes]]
) -> dict[str, Any]:
    """Validate every entry, then queue the records; the answer's counts and lines."""
    settings = service.settings
    validator = Validator(
        {account}, today=dt.date.today(), decimals=settings.ingest.decimals, default_account=account
    )
    body = await asyncio.to_thread(check_body, entries, validator, source, account)
    summary = await ingest(iter([body]), service.queue)
    flags = summary.flags
    service.metrics.observe_ingest(
        account,
        summary.queued,
        summary.rejected,
        {"before_claimable": flags.before_claimable, "accumulated_falls": flags.accumulated_falls},
    )
    return _answer(body, summary)


def _answer(body: Chunk, summary: IngestSummary) -> dict[str, Any]:
    rejected = sorted((line_of(dead.source), dead.reason) for dead in body.dead)
    return {
        "accepted": summary.accepted,
        "queued": summary.queued,
        "unchanged": summary.unchanged,
        "superseded": [{"line": row.line, "by": row.by} for row in body.superseded],
        "flagged": summary.flagged,
        "rounded": [
            {"line": line_of(r.source), "field": r.field, "given": r.given, "kept": r.kept}
            for r in body.rounded
        ],
        "rejected": [{"line": line, "reason": reason} for line, reason in rejected],
    }
