"""Configuration: one TOML file decoded into typed settings, overridable by `UPLOADER_*`.

Unknown keys and bad values are refused with a message that names the key. Secrets are
never values of these settings when they can be avoided: an account names the environment
variable or file that holds its token, and `masked()` hides whatever could be secret.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import msgspec

from uploader.errors import ConfigError
from uploader.push.endpoints import ENDPOINTS
from uploader.queue.schemes import scheme_of, url_forms
from uploader.registry.ratespec import RateSpec
from uploader.secrets import mask_url

ENV_PREFIX = "UPLOADER_"
DEFAULT_PATH = "uploader.toml"
DEFAULT_QUEUE = "sqlite:uploader-queue.db"  # relative to the working directory
DEFAULT_BASE_URL = "https://uat-api.redex.eco"
MAX_RECORDS_PER_REQUEST = 3000  # the registry's documented maximum, all devices counted
MAX_ANSWER_BYTES = 1024 * 1024  # bytes; the registry's answers are a few KiB
RETRY_AFTER_MARGIN_S = 60.0  # seconds beyond the longest rate window a Retry-After may ask
SECRET_KEYS = frozenset({"token", "client_secret", "api_key"})
HEADER_TIMEOUT_S = 10.0  # seconds to send a request's headers (from connecting, or idle)
BODY_TIMEOUT_S = 60.0  # seconds to send an ingest body: 16 MB at about 2 Mbit/s
MAX_CONNECTIONS = 256  # open connections to the HTTP server; the next get 503


class Base(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Every settings table refuses keys it does not know."""


class Paths(Base):
    """Request paths under `base_url` (the registry's pages disagree on some)."""

    token: str = "/public/v2/connect/token"
    refresh: str = "/public/v2/connect/token/refresh"
    legacy: str = "/public/v2/generation-data"
    single: str = "/public/v2/generation-datas"
    batch: str = "/public/v2/generation-datas/batches"
    monthly: str = "/public/v2/generation-datas/monthly-data"
    statuses: str = "/public/v2/generation-datas/statuses"
    query: str = "/public/v2/generation-datas"
    documents: str = "/public/v2/documents/devices"
    register_grouped: str = "/public/v2/device-applications/i-rec/grouped"
    application_devices: str = "/public/v2/device-applications/{id}/devices"
    brands: str = "/public/v2/metadata/inverter-brands"
    applications: str = "/public/v2/device-applications"
    rec_applications: str = "/public/v2/rec-applications"
    issuance: str = "/public/v2/rec-applications/grouped-device"


class RegistrySettings(Base):
    """Where the registry is and how to talk to it."""

    base_url: str = DEFAULT_BASE_URL
    endpoint: str = "batch"  # a name of `uploader.push.endpoints.ENDPOINTS`
    max_records_per_request: int = MAX_RECORDS_PER_REQUEST
    timeout_s: float = 30.0
    max_answer_bytes: int = MAX_ANSWER_BYTES  # a larger answer is cut off and sent again
    numbers: Literal["string", "number"] = "string"  # how decimals go on the wire
    connections: int = 8  # keep-alive connections; 4-8 measured best, 64 only adds latency
    auth_scheme: str = "Bearer"  # "" sends a static token bare, as the seed's `{{token}}` shows
    token_refresh_margin_s: float = 120.0  # refresh an access token this long before it expires
    paths: Paths = msgspec.field(default_factory=Paths)


class LimitSettings(Base):
    """The registry's fixed-window policies, as this client must respect them."""

    account: str = "50/60s"
    account_counts: Literal["any", "success"] = "any"
    account_scope: Literal["shared", "endpoint"] = "shared"
    ip: str = "3000/300s"
    ip_shared: bool = False  # several replicas behind one egress address
    status_poll_share: float = 0.1  # at most this share of an account's budget polls statuses


class RetrySettings(Base):
    """Capped exponential backoff with full jitter for transient failures, and the longest
    Retry-After honoured (None: the longest window of `[limits]` plus a margin)."""

    base_s: float = 0.5
    cap_s: float = 60.0
    max_retry_after_s: float | None = None


class IngestSettings(Base):
    """How incoming records are checked."""

    decimals: Literal["round", "reject"] = "round"


class WorkerSettings(Base):
    """The push loop."""

    lease_s: float = 120.0
    shutdown_timeout_s: float = 20.0
    poll_statuses: bool = True
    idle_poll_s: float = 1.0  # how often the queue is read for records enqueued elsewhere
    lanes_per_account: int = 4  # batches of one account in flight at once (the limiter paces)
    status_poll_interval_s: float = 30.0  # how often one ProcessId is asked for its status
    ledger_retention_days: int = 90


class ServerSettings(Base):
    """The HTTP surface of `uploader run`."""

    listen: str = "127.0.0.1:8787"
    ingest_token_env: str | None = None
    ingest_token_file: str | None = None
    max_body_bytes: int = 16 * 1024 * 1024
    header_timeout_s: float = HEADER_TIMEOUT_S
    body_timeout_s: float = BODY_TIMEOUT_S
    max_connections: int = MAX_CONNECTIONS


class LogSettings(Base):
    """Structured logs."""

    format: Literal["json", "console"] = "json"
    level: Literal["debug", "info", "warning", "error"] = "info"


class RegistrationSettings(Base):
    """Local checks of `uploader register-grouped`."""

    # The registration page's locations; a later version adds BR and MX.
    countries: list[str] = msgspec.field(default_factory=lambda: ["SG", "CN", "VN", "MY", "ID"])
    journal: str = ""  # what register-grouped did, per payload; "": beside the SQLite queue


class ReconcileSettings(Base):
    """`uploader run`'s scheduled read-back (see `uploader reconcile`); off unless `every`."""

    every: str = ""  # how often, e.g. "24h" (s, m, h, d); "" never
    days: int = 7  # each pass reads the days before today, this many
    budget_share: float = 0.1  # at most this share of an account's budget reads back


class AccountSettings(Base):
    """A business account and where its credentials come from."""

    id: str
    token_env: str | None = None
    token_file: str | None = None
    token: str | None = None  # discouraged: a secret in a file that is not a secret file
    api_key_env: str | None = None
    api_key_file: str | None = None
    client_id: str | None = None
    client_secret_env: str | None = None
    client_secret_file: str | None = None

    def __repr__(self) -> str:
        return f"AccountSettings(id={self.id!r})"


class Settings(Base):
    """The whole configuration."""

    queue: str = DEFAULT_QUEUE
    registry: RegistrySettings = msgspec.field(default_factory=RegistrySettings)
    limits: LimitSettings = msgspec.field(default_factory=LimitSettings)
    retry: RetrySettings = msgspec.field(default_factory=RetrySettings)
    ingest: IngestSettings = msgspec.field(default_factory=IngestSettings)
    worker: WorkerSettings = msgspec.field(default_factory=WorkerSettings)
    server: ServerSettings = msgspec.field(default_factory=ServerSettings)
    log: LogSettings = msgspec.field(default_factory=LogSettings)
    registration: RegistrationSettings = msgspec.field(default_factory=RegistrationSettings)
    reconcile: ReconcileSettings = msgspec.field(default_factory=ReconcileSettings)
    accounts: list[AccountSettings] = msgspec.field(default_factory=list)

    def account(self, account_id: str) -> AccountSettings:
        """The settings of one account; ConfigError when it is not configured."""
        for account in self.accounts:
            if account.id == account_id:
                return account
        known = ", ".join(a.id for a in self.accounts) or "none"
        raise ConfigError(f"unknown account {account_id!r} (configured: {known})")

    def __repr__(self) -> str:
        accounts = [a.id for a in self.accounts]
        return f"Settings(queue={mask_url(self.queue)!r}, accounts={accounts!r})"

    @property
    def retry_after_cap_s(self) -> float:
        """The longest Retry-After honoured: `retry.max_retry_after_s`, else the longest window
        of the rate policies plus a margin (a window is all a fixed-window limit can ask)."""
        if self.retry.max_retry_after_s is not None:
            return self.retry.max_retry_after_s
        windows = (RateSpec.parse(self.limits.account), RateSpec.parse(self.limits.ip))
        return max(w.window_s for w in windows) + RETRY_AFTER_MARGIN_S

    @property
    def account_ids(self) -> frozenset[str]:
        """The configured account ids."""
        return frozenset(a.id for a in self.accounts)


def load(
    path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Read the file (`path`, else `$UPLOADER_CONFIG`, else `./uploader.toml`) and the env.

    A missing default file is an empty configuration; a missing named file is an error. An
    error in a value set by an `UPLOADER_*` variable names the variable, not the file.
    """
    env = os.environ if env is None else env
    file = config_file(path, env)
    raw = _read_toml(file) if file is not None else {}
    overrides = _apply_env(raw, env)
    return from_dict(raw, source=str(file) if file is not None else "environment", env=overrides)


def config_file(path: str | os.PathLike[str] | None, env: Mapping[str, str]) -> Path | None:
    """The file `load` reads; None when none is named and ./uploader.toml does not exist."""
    named = path or env.get(f"{ENV_PREFIX}CONFIG")
    file = Path(named or DEFAULT_PATH)
    if file.exists():
        return file
    if named:
        raise ConfigError(f"configuration file {file} does not exist (--config / UPLOADER_CONFIG)")
    return None


def from_dict(
    raw: Mapping[str, Any], source: str = "configuration", env: Mapping[str, str] | None = None
) -> Settings:
    """Decode and check a configuration mapping; `env` maps keys set by a variable to it."""
    origin = _Origin(source, env or {})
    try:
        settings = msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise origin.error(*_key_message(exc)) from None
    _check(settings, origin)
    return settings


class _Origin:
    """Who set a key: the variable that overrode it (or a table above it), else the file."""

    def __init__(self, source: str, env: Mapping[str, str]) -> None:
        self.source = source
        self.env = env

    def error(self, key: str, message: str) -> ConfigError:
        """The error of a key, prefixed by where its value came from."""
        setters = [k for k in self.env if key == k or key.startswith((f"{k}.", f"{k}["))]
        where = self.env[max(setters, key=len)] if setters else self.source
        return ConfigError(f"{where}: {key}: {message}")


def _read_toml(file: Path) -> dict[str, Any]:
    try:
        with file.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read: {exc.strerror}") from None


def _apply_env(raw: dict[str, Any], env: Mapping[str, str]) -> dict[str, str]:
    """`UPLOADER_REGISTRY__BASE_URL=x` sets `registry.base_url`; JSON for lists and tables.

    A variable the file names as a secret's source (`token_env = "UPLOADER_TOKEN"`) holds that
    secret, not a setting, even when its name starts with the prefix. Returns each key set
    and the variable that set it.
    """
    secret_sources = set(_env_names(raw))
    overrides: dict[str, str] = {}
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or name == f"{ENV_PREFIX}CONFIG":
            continue
        if name in secret_sources:
            continue
        keys = name[len(ENV_PREFIX) :].lower().split("__")
        node = raw
        for key in keys[:-1]:
            child = node.setdefault(key, {})
            if not isinstance(child, dict):
                raise ConfigError(f"{name}: {'.'.join(keys)} is not a table")
            node = child
        node[keys[-1]] = _env_value(value)
        overrides[".".join(keys)] = name
    return overrides


def _env_names(node: Any) -> list[str]:
    """Every value of a `*_env` key anywhere in the raw configuration."""
    if isinstance(node, dict):
        names = [v for k, v in node.items() if k.endswith("_env") and isinstance(v, str)]
        return names + [n for v in node.values() for n in _env_names(v)]
    if isinstance(node, list):
        return [n for item in node for n in _env_names(item)]
    return []


def _env_value(value: str) -> Any:
    if value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _key_message(exc: msgspec.ValidationError) -> tuple[str, str]:
    """msgspec's `… - at `$.registry`` as (`registry.timeout`, `unknown key`): what a user wrote."""
    text, _, where = str(exc).partition(" - at `$")
    path = where.rstrip("`").lstrip(".")
    unknown = re.match(r"Object contains unknown field `(.+)`", text)
    if unknown:
        return (f"{path}.{unknown.group(1)}" if path else unknown.group(1)), "unknown key"
    return path or "top level", f"{text[:1].lower()}{text[1:]}"


def _check(settings: Settings, origin: _Origin) -> None:
    for key, text in (
        ("limits.account", settings.limits.account),
        ("limits.ip", settings.limits.ip),
    ):
        try:
            RateSpec.parse(text)
        except ValueError as exc:
            raise origin.error(key, str(exc)) from None
    if settings.registry.endpoint not in ENDPOINTS:
        names = ", ".join(sorted(ENDPOINTS))
        raise origin.error(
            "registry.endpoint", f"{settings.registry.endpoint!r} is not one of {names}"
        )
    limit = settings.registry.max_records_per_request
    if not 1 <= limit <= MAX_RECORDS_PER_REQUEST:
        raise origin.error(
            "registry.max_records_per_request", f"must be 1..{MAX_RECORDS_PER_REQUEST}"
        )
    _check_queue(settings, origin)
    try:
        parse_listen(settings.server.listen)
    except ConfigError as exc:
        raise origin.error("server.listen", str(exc).removeprefix("server.listen: ")) from None
    _check_server(settings.server, origin)
    if (settings.retry.max_retry_after_s or 0.0) < 0:
        raise origin.error("retry.max_retry_after_s", "must not be negative")
    if settings.registry.max_answer_bytes < 1:
        raise origin.error("registry.max_answer_bytes", "must be a positive number of bytes")
    ids = [a.id for a in settings.accounts]
    if len(ids) != len(set(ids)):
        raise origin.error("accounts", "an account id is listed twice")
    _check_reconcile(settings.reconcile, origin)


def _check_queue(settings: Settings, origin: _Origin) -> None:
    scheme = scheme_of(settings.queue)
    if scheme is None:
        raise origin.error("queue", f"must be {url_forms()}")
    if settings.limits.ip_shared and not scheme.hosts:
        raise origin.error(
            "limits.ip_shared",
            f"a budget shared by replicas lives in the queue they share, and {scheme.prefix} "
            "is one host's (use redis://, or ip_shared = false)",
        )


def _check_server(server: ServerSettings, origin: _Origin) -> None:
    for key, value, unit in (
        ("max_body_bytes", server.max_body_bytes, "bytes"),
        ("header_timeout_s", server.header_timeout_s, "seconds"),
        ("body_timeout_s", server.body_timeout_s, "seconds"),
        ("max_connections", server.max_connections, "connections"),
    ):
        if not value > 0:
            raise origin.error(f"server.{key}", f"must be a positive number of {unit}")


def _check_reconcile(reconcile: ReconcileSettings, origin: _Origin) -> None:
    if reconcile.every:
        try:
            parse_duration(reconcile.every)
        except ValueError as exc:
            raise origin.error("reconcile.every", str(exc)) from None
    if reconcile.days < 1:
        raise origin.error("reconcile.days", "must be at least 1")
    if not 0 < reconcile.budget_share <= 1:
        raise origin.error("reconcile.budget_share", "must be above 0 and at most 1")


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(s|m|h|d)")
_DURATION_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(text: str) -> float:
    """Seconds of a duration such as `90s`, `30m`, `24h` or `7d`; ValueError otherwise."""
    match = _DURATION.fullmatch(text.strip())
    if match is None or float(match[1]) <= 0:
        raise ValueError(f"{text!r} is not a duration such as '24h' (s, m, h or d)")
    return float(match[1]) * _DURATION_UNITS[match[2]]


def parse_listen(text: str) -> tuple[str, int]:
    """`host:port` (`[::1]:8787` for IPv6; port 0 picks a free one) as (host, port)."""
    host, sep, port = text.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ConfigError(f"server.listen: {text!r} is not host:port (e.g. 127.0.0.1:8787)")
    return host, int(port)


def masked(settings: Settings) -> dict[str, Any]:
    """The effective settings as plain data, with every secret value replaced by `***`."""
    data: dict[str, Any] = msgspec.to_builtins(settings)
    data["queue"] = mask_url(settings.queue)
    for account in data["accounts"]:
        for key in SECRET_KEYS & account.keys():
            if account[key] is not None:
                account[key] = "***"
    return data
