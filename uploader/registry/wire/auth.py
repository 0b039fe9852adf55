"""Bodies of the token endpoints (`connect/token`, `connect/token/refresh`)."""

from __future__ import annotations

from typing import Literal

import msgspec


class TokenRequest(msgspec.Struct, kw_only=True):
    """The api-key grant: an account's API key and the integrator's client pair."""

    ApiKey: str
    ClientId: str
    ClientSecret: str
    GrantType: Literal["api_key"] = "api_key"

    def __repr__(self) -> str:
        return f"TokenRequest(ClientId={self.ClientId!r}, ApiKey=***, ClientSecret=***)"


class RefreshRequest(msgspec.Struct, kw_only=True):
    """The refresh grant: a refresh token for a new access token."""

    RefreshToken: str
    ClientId: str
    ClientSecret: str
    GrantType: Literal["refresh_token"] = "refresh_token"

    def __repr__(self) -> str:
        return f"RefreshRequest(ClientId={self.ClientId!r}, RefreshToken=***, ClientSecret=***)"


class Token(msgspec.Struct, kw_only=True):
    """`Data` of a token answer. `ExpiresIn` is typed int but the docs' example is a string."""

    AccessToken: str
    RefreshToken: str | None = None
    ExpiresIn: int | str = 3600
    TokenType: str = "Bearer"
    Scope: str | None = None

    @property
    def expires_in_s(self) -> int:
        """Lifetime in seconds, whichever way the registry wrote it."""
        return int(self.ExpiresIn)

    def __repr__(self) -> str:
        return f"Token(TokenType={self.TokenType!r}, ExpiresIn={self.ExpiresIn!r}, ...)"
