"""Every knob of the simulator, in one frozen dataclass."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from uploader.simulator.rates import Rate, RateSpec

DEFAULT_COUNTRIES = frozenset({"SG", "CN", "VN", "MY", "ID"})  # Part 1; a later page adds BR, MX
TOKEN_TTL_S = 3600.0  # the access token's documented lifetime
REFRESH_TTL_S = 30 * 86400.0  # the refresh token's documented lifetime (30 days)
STALL_S = 120.0  # how long a "timeout" fault holds the response
MAX_RECORDS = 3000  # daily records per request, all devices counted
ACCOUNT_LIMIT = RateSpec(50, 60.0)  # the seed's operation policy (counted on success)
IP_LIMIT = RateSpec(3000, 300.0)  # the global policy per client IP


@dataclass(frozen=True, slots=True)
class Credentials:
    """One account's api-key grant: the user's API key and the integrator's client pair."""

    api_key: str
    client_id: str
    client_secret: str

    def __repr__(self) -> str:
        return f"Credentials(client_id={self.client_id!r}, api_key=***, client_secret=***)"


@dataclass(frozen=True)
class SimOptions:
    """How the simulated registry behaves.

    With neither `tokens` nor `credentials`, any non-empty bearer token is accepted and is
    itself the account id (handy for demos). `Authorization` must read `Bearer <token>`;
    `bare_token` also takes the token alone, as the seed page's `{{token}}` may be read. A
    rate is any object with `limit` and `window_s`, e.g. `RateSpec.parse("50/60s")`.
    Probabilities are in [0, 1]. A registered device application is Approved
    `approval_delay_s` after registration (0: at once).
    """

    tokens: Mapping[str, str] = field(default_factory=dict, repr=False)  # account -> token
    credentials: Mapping[str, Credentials] = field(default_factory=dict, repr=False)
    token_ttl_s: float = TOKEN_TTL_S
    refresh_ttl_s: float = REFRESH_TTL_S
    bare_token: bool = False
    account_limit: Rate = ACCOUNT_LIMIT
    account_counts: Literal["success", "any"] = "success"
    account_scope: Literal["shared", "endpoint"] = "shared"
    ip_limit: Rate = IP_LIMIT
    window_phase_s: float | None = None  # None: a random phase per policy, unseen by clients
    open_inverters: bool = False
    forbid: frozenset[str] = frozenset()
    latency_ms: tuple[float, float] = (0.0, 0.0)
    fail_rate: float = 0.0
    reset_rate: float = 0.0
    timeout_rate: float = 0.0
    stall_s: float = STALL_S
    process_delay_s: float = 0.0
    process_fail_rate: float = 0.0
    approval_delay_s: float = 0.0
    seed: int | None = None
    keep_bodies: int = 64  # accepted bodies remembered per account, for assertions
    countries: frozenset[str] = DEFAULT_COUNTRIES
    max_records: int = MAX_RECORDS
    grouped_decimals: int = 3
    legacy_decimals: int = 4  # the legacy seed's own example has 4

    @property
    def open_auth(self) -> bool:
        """Whether any bearer token is accepted as its own account id."""
        return not self.tokens and not self.credentials
