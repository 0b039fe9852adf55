"""Access tokens per account: a static token, or the api-key grant with refresh before expiry.

The token endpoint's answers are classified like any other (`classify`, with the `TOKEN`
shape): refused credentials raise `AuthError`, anything else that is not a token (a 5xx, a
429, a garbage 200, a 200 without `Data`) `TransientError`; the caller decides what to do.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from uploader.config import AccountSettings, Settings
from uploader.errors import AuthError, ConfigError, TransientError
from uploader.registry.answers import TOKEN, Accepted, Denied, Refused, RegistryResponse, classify
from uploader.registry.wire import RefreshRequest, TokenRequest
from uploader.registry.wire.codec import string_encoder, token_envelope
from uploader.secrets import read_secret

# A raw POST to a path with a JSON body; the client supplies it.
PostJson = Callable[[str, bytes], Awaitable[RegistryResponse]]

REFRESH_TOKEN_LIFETIME_S = 30 * 24 * 3600.0  # the Authentication page: 30 days


@dataclass(slots=True)
class _Grant:
    access: str
    access_until: float
    refresh: str | None
    refresh_until: float

    def __repr__(self) -> str:
        return f"_Grant(access_until={self.access_until:.0f})"


class TokenProvider:
    """Hands out the `Authorization` header value of each configured account."""

    def __init__(self, settings: Settings, post: PostJson) -> None:
        self._settings = settings
        self._post = post
        self._grants: dict[str, _Grant] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def __repr__(self) -> str:
        return (
            f"<TokenProvider accounts={len(self._settings.accounts)} granted={len(self._grants)}>"
        )

    async def header(self, account_id: str) -> str:
        """The header value for the account, fetching or refreshing its token when due."""
        account = self._settings.account(account_id)
        if not _uses_grant(account):
            return self._with_scheme(_static_token(account))
        async with self._locks.setdefault(account_id, asyncio.Lock()):
            grant = self._grants.get(account_id)
            margin = self._settings.registry.token_refresh_margin_s
            if grant is None or time.time() >= grant.access_until - margin:
                grant = await self._renew(account, grant)
                self._grants[account_id] = grant
            return self._with_scheme(grant.access)

    async def invalidate(self, account_id: str, header: str) -> bool:
        """Forget a token the registry refused; True when a fresh one can be tried.

        A static token can only be re-read (it may have been rotated in its file or variable).
        """
        account = self._settings.account(account_id)
        if not _uses_grant(account):
            return self._with_scheme(_static_token(account)) != header
        grant = self._grants.get(account_id)
        if grant is not None and self._with_scheme(grant.access) == header:
            del self._grants[account_id]
        return True

    def _with_scheme(self, token: str) -> str:
        scheme = self._settings.registry.auth_scheme
        if not scheme or token.startswith(f"{scheme} "):
            return token
        return f"{scheme} {token}"

    async def _renew(self, account: AccountSettings, grant: _Grant | None) -> _Grant:
        if grant is not None and grant.refresh and time.time() < grant.refresh_until:
            try:
                return await self._request(account, self._refresh_body(account, grant.refresh))
            except AuthError:
                pass  # the refresh token was refused: fall back to the api-key grant
        return await self._request(account, self._grant_body(account))

    async def _request(self, account: AccountSettings, body: tuple[str, bytes]) -> _Grant:
        path, payload = body
        response = await self._post(path, payload)
        answer = classify(response, TOKEN)
        status = response.status
        match answer:
            case Refused() | Denied():
                raise AuthError(
                    f"account {account.id}: the registry refused its credentials ({status})",
                    status=status,
                    account=account.id,
                )
            case Accepted():
                token = token_envelope.decode(response.body).Data
            case _:  # the body is never quoted: it may hold a token in a shape not read here
                raise TransientError(
                    f"account {account.id}: the token endpoint answered {status} "
                    f"({type(answer).__name__}), not a token",
                    status=status,
                    account=account.id,
                )
        assert token is not None, "the TOKEN shape has Data"
        now = time.time()
        return _Grant(
            token.AccessToken,
            now + token.expires_in_s,
            token.RefreshToken,
            now + REFRESH_TOKEN_LIFETIME_S,
        )

    def _grant_body(self, account: AccountSettings) -> tuple[str, bytes]:
        api_key, client_secret = _grant_secrets(account)
        request = TokenRequest(
            ApiKey=api_key, ClientId=account.client_id or "", ClientSecret=client_secret
        )
        return self._settings.registry.paths.token, string_encoder.encode(request)

    def _refresh_body(self, account: AccountSettings, refresh: str) -> tuple[str, bytes]:
        _, client_secret = _grant_secrets(account)
        request = RefreshRequest(
            RefreshToken=refresh, ClientId=account.client_id or "", ClientSecret=client_secret
        )
        return self._settings.registry.paths.refresh, string_encoder.encode(request)


def _uses_grant(account: AccountSettings) -> bool:
    return bool(account.api_key_env or account.api_key_file)


def _static_token(account: AccountSettings) -> str:
    token = read_secret(
        what=f"accounts.{account.id}.token",
        env_name=account.token_env,
        file=account.token_file,
        inline=account.token,
    )
    if not token:
        raise ConfigError(
            f"accounts.{account.id}: no credentials (token_env, token_file, token, or api_key_env "
            "with client_id and client_secret_env)"
        )
    return token


def _grant_secrets(account: AccountSettings) -> tuple[str, str]:
    what = f"accounts.{account.id}"
    api_key = read_secret(
        what=f"{what}.api_key", env_name=account.api_key_env, file=account.api_key_file
    )
    secret = read_secret(
        what=f"{what}.client_secret",
        env_name=account.client_secret_env,
        file=account.client_secret_file,
    )
    if not api_key or not secret or not account.client_id:
        raise ConfigError(
            f"{what}: the api-key grant needs api_key_env, client_id and "
            "client_secret_env (or their _file forms)"
        )
    return api_key, secret
