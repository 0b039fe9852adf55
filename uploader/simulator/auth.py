"""Who a request acts for: static bearer tokens, and tokens of the api-key grant.

Access tokens live `token_ttl_s`, refresh tokens `refresh_ttl_s`; an expired token is
refused like an unknown one. With no token and no credentials configured, any non-empty
bearer token is accepted and is itself the account id. A grant names the part of the
credentials it refused: the API key, or the client pair, never the one that was right.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from uploader.simulator.options import Credentials, SimOptions
from uploader.simulator.wire import RefreshRequest, Token, TokenRequest

SCOPE = "REConnect_api REDEX_api REHash_api"  # as the docs' token example shows


@dataclass(frozen=True, slots=True)
class _Issued:
    account: str
    client_id: str
    expires: float


def bearer(header: str | None, *, bare: bool = False) -> str | None:
    """The token of an Authorization header: `Bearer X`, and with `bare` the seed's `X` too."""
    if not header:
        return None
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() == "bearer":  # auth schemes are case-insensitive (RFC 9110)
        return rest.strip() or None
    return scheme if bare and not rest else None


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _client_refused(client_id: str, secret: str, creds: Credentials) -> str | None:
    """Which half of the client pair is wrong, if any (the id is not secret; the secret is)."""
    if not _same(client_id, creds.client_id):
        return "ClientId"
    return None if _same(secret, creds.client_secret) else "ClientSecret"


class Authenticator:
    """Maps tokens to accounts and runs the two grants."""

    def __init__(self, options: SimOptions) -> None:
        self._static = {token: account for account, token in options.tokens.items()}
        self._keys: dict[str, tuple[str, Credentials]] = {
            c.api_key: (account, c) for account, c in options.credentials.items()
        }
        self._open = options.open_auth
        self._bare = options.bare_token
        self.token_ttl_s = options.token_ttl_s
        self.refresh_ttl_s = options.refresh_ttl_s
        self._access: dict[str, _Issued] = {}
        self._refresh: dict[str, _Issued] = {}

    def account_for(self, header: str | None, now: float) -> str | None:
        """The account a request's Authorization header acts for, or None (401)."""
        token = bearer(header, bare=self._bare)
        if token is None:
            return None
        account = self._static.get(token)
        if account is not None:
            return account
        issued = self._access.get(token)
        if issued is not None and now < issued.expires:
            return issued.account
        return token if self._open and issued is None else None

    def grant(self, request: TokenRequest, now: float) -> Token | str:
        """The api-key grant, or the field it refused (`ApiKey`, `ClientId`, `ClientSecret`)."""
        found = self._keys.get(request.ApiKey)
        if found is None:
            return "ApiKey"
        account, creds = found
        refused = _client_refused(request.ClientId, request.ClientSecret, creds)
        return refused or self.issue(account, creds.client_id, now)

    def refresh(self, request: RefreshRequest, now: float) -> Token | str:
        """The refresh grant, or the field it refused (`RefreshToken`, `ClientId`, ...)."""
        issued = self._refresh.get(request.RefreshToken)
        if issued is None or now >= issued.expires:
            return "RefreshToken"
        creds = next((c for a, c in self._keys.values() if a == issued.account), None)
        if creds is None:  # the account's credentials were removed by a reconfiguration
            return "RefreshToken"
        refused = _client_refused(request.ClientId, request.ClientSecret, creds)
        return refused or self.issue(issued.account, issued.client_id, now)

    def issue(self, account: str, client_id: str, now: float) -> Token:
        """A fresh access token and refresh token for the account."""
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        self._access[access] = _Issued(account, client_id, now + self.token_ttl_s)
        self._refresh[refresh] = _Issued(account, client_id, now + self.refresh_ttl_s)
        return Token(
            AccessToken=access,
            RefreshToken=refresh,
            ExpiresIn=int(self.token_ttl_s),
            TokenType="Bearer",
            Scope=SCOPE,
        )

    def adopt(self, other: Authenticator) -> None:
        """Keep the tokens another authenticator issued (after a reconfiguration)."""
        self._access.update(other._access)
        self._refresh.update(other._refresh)

    def __repr__(self) -> str:
        return f"<Authenticator static={len(self._static)} issued={len(self._access)}>"
