"""The path every registry request takes before and after its handler.

faults -> IP policy -> authentication -> forbidden account -> script -> account policy ->
content type -> handler -> counters. `/_sim/*` skips all of it. Handler exceptions (404,
405, 413) become envelopes. Time is read once, on arrival (after any injected latency,
which stands for the network), and that moment decides the rate windows.

Every page gives its POSTs `Content-Type: application/json` (the document upload:
`multipart/form-data`, which its handler checks); a POST sent as anything else, or with no
Content-Type, is a 400 that counts like any other answer. A GET has no body, so its
Content-Type is not looked at.
"""

from __future__ import annotations

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from uploader.simulator.core import ACCOUNT, CORE, Core
from uploader.simulator.faults import PROCEED, RESET_MARK, Step
from uploader.simulator.responses import JSON, envelope, error, rate_limited
from uploader.simulator.wire import UNSUPPORTED_MEDIA_TYPE

OPEN_ROUTES = frozenset({"token", "refresh"})  # no bearer token needed
FORM_ROUTES = frozenset({"documents"})  # multipart bodies
SIM_PREFIX = "/_sim/"


@web.middleware
async def pipeline(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Run one request through the registry's checks and count its outcome."""
    if request.path.startswith(SIM_PREFIX):
        return await handler(request)
    core = request.app[CORE]
    response = await _through(core, request, handler)
    account = request.get(ACCOUNT)
    if request.get(RESET_MARK):
        core.state.stats.total += 1
        core.state.stats.faults["reset"] += 1
    else:
        core.state.stats.count(account, response.status)
    return response


async def _through(core: Core, request: web.Request, handler: Handler) -> web.StreamResponse:
    await core.faults.delay()
    fault = core.faults.draw()
    if fault is not None:
        core.state.stats.faults[str(fault)] += 1
        return await core.faults.answer(request, Step(fault))
    name = request.match_info.route.name
    if name is None:  # no such path or method: nothing to count
        return await _handle(request, handler)
    route = name.partition(":")[0]  # a variant path ("statuses:status") is the same endpoint
    now = core.clock()
    ip = request.remote or "unknown"
    retry_after = core.limits.ip_retry_after(ip, now)
    if retry_after is not None:
        return rate_limited(retry_after)
    if route in OPEN_ROUTES:
        core.limits.ip_hit(ip, now)
        return await _handle(request, handler, route)
    return await _as_account(core, request, handler, route, now)


async def _as_account(
    core: Core, request: web.Request, handler: Handler, route: str, now: float
) -> web.StreamResponse:
    ip = request.remote or "unknown"
    account = core.auth.account_for(request.headers.get("Authorization"), now)
    if account is None:
        core.limits.ip_hit(ip, now)
        return envelope(401)
    request[ACCOUNT] = account
    if account in core.options.forbid:
        core.limits.ip_hit(ip, now)
        return error(403, "Forbidden", f"account {account!r} may not use this API")
    step = core.scripts.next(account)
    if step is not None and step.answer != PROCEED:
        return await core.faults.answer(request, step)
    retry_after = core.limits.account_retry_after(account, route, now)
    if retry_after is not None:
        return rate_limited(retry_after)
    core.limits.ip_hit(ip, now)
    core.limits.account_started(account, route, now)
    response = await _handle(request, handler, route)
    core.limits.account_finished(account, route, now, response.status)
    return response


async def _handle(
    request: web.Request, handler: Handler, route: str | None = None
) -> web.StreamResponse:
    if route is not None and request.method == hdrs.METH_POST and route not in FORM_ROUTES:
        refused = _not_json(request.headers.get(hdrs.CONTENT_TYPE))
        if refused is not None:
            return refused
    try:
        return await handler(request)
    except web.HTTPException as exc:
        return envelope(exc.status, message=exc.reason)


def _not_json(content_type: str | None) -> web.Response | None:
    """A 400 unless the Content-Type is application/json (parameters such as charset allowed)."""
    if content_type is not None and content_type.partition(";")[0].strip().lower() == JSON:
        return None
    sent = f"not {content_type!r}" if content_type else "none was sent"
    message = f"Content-Type must be {JSON} ({sent})"
    return error(400, UNSUPPORTED_MEDIA_TYPE, message, "Content-Type")
