"""`connect/token` (the api-key grant) and `connect/token/refresh`."""

from __future__ import annotations

import msgspec
from aiohttp import web

from uploader.simulator.core import CORE
from uploader.simulator.responses import bad_body, envelope, error
from uploader.simulator.wire import RefreshRequest, TokenRequest

_REFUSED = "Invalid credentials"
_token_request = msgspec.json.Decoder(TokenRequest)
_refresh_request = msgspec.json.Decoder(RefreshRequest)


async def post_token(request: web.Request) -> web.Response:
    """Trade an API key and the client pair for an access token and a refresh token."""
    try:
        grant = _token_request.decode(await request.read())
    except msgspec.DecodeError as exc:
        return bad_body(exc)
    core = request.app[CORE]
    token = core.auth.grant(grant, core.clock())
    if token is None:
        return error(401, "InvalidCredentials", _REFUSED, "ApiKey")
    return envelope(200, token)


async def post_refresh(request: web.Request) -> web.Response:
    """Trade a valid refresh token for a new access token."""
    try:
        grant = _refresh_request.decode(await request.read())
    except msgspec.DecodeError as exc:
        return bad_body(exc)
    core = request.app[CORE]
    token = core.auth.refresh(grant, core.clock())
    if token is None:
        return error(401, "InvalidRefreshToken", "The refresh token is invalid", "RefreshToken")
    return envelope(200, token)
