"""`connect/token` (the api-key grant) and `connect/token/refresh`."""

from __future__ import annotations

import msgspec
from aiohttp import web

from uploader.simulator.core import CORE
from uploader.simulator.responses import bad_body, envelope, error
from uploader.simulator.wire import RefreshRequest, Token, TokenRequest

# What a refused grant says, by the field it names; an error never blames a right value.
_REFUSALS = {
    "ApiKey": ("InvalidApiKey", "The API key is invalid"),
    "ClientId": ("InvalidClient", "The client id is invalid"),
    "ClientSecret": ("InvalidClient", "The client secret is invalid"),
    "RefreshToken": ("InvalidRefreshToken", "The refresh token is invalid"),
}
_token_request = msgspec.json.Decoder(TokenRequest)
_refresh_request = msgspec.json.Decoder(RefreshRequest)


async def post_token(request: web.Request) -> web.Response:
    """Trade an API key and the client pair for an access token and a refresh token."""
    try:
        grant = _token_request.decode(await request.read())
    except msgspec.DecodeError as exc:
        return bad_body(exc)
    core = request.app[CORE]
    return _answer(core.auth.grant(grant, core.clock()))


async def post_refresh(request: web.Request) -> web.Response:
    """Trade a valid refresh token for a new access token."""
    try:
        grant = _refresh_request.decode(await request.read())
    except msgspec.DecodeError as exc:
        return bad_body(exc)
    core = request.app[CORE]
    return _answer(core.auth.refresh(grant, core.clock()))


def _answer(outcome: Token | str) -> web.Response:
    """200 with the token, or 401 naming the refused field."""
    if isinstance(outcome, Token):
        return envelope(200, outcome)
    code, message = _REFUSALS[outcome]
    return error(401, code, message, outcome)
