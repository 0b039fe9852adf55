"""The registry client: one long-lived aiohttp session, tokens, the limiter, typed failures.

Every request passes every rate policy that covers it (the account's operation policy and
the client IP's global policy, token calls included) and a 401 is retried once with a fresh
token. HTTP statuses are returned, not raised: `uploader.registry.answers` says what an
answer means, and each caller decides what to do about it. Only transport failures raise
(`TransportError`). A 429 puts its Retry-After floor on the account's key here, for every
caller alike. Redirects are never followed (a 302 would turn a POST into a GET elsewhere, a
307 re-send the body to another host): they come back as answers. An answer is read up to
`registry.max_answer_bytes`; a larger one is cut off and comes back marked `oversized`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Protocol, Self

import aiohttp
import structlog

from uploader.config import Settings
from uploader.errors import TransportError
from uploader.queue.schemes import scheme_of
from uploader.registry.answers import RegistryResponse, parse_retry_after, throttle_floor
from uploader.registry.history import HistoryStore, SlotJournal
from uploader.registry.limiter import Key, KeyedLimiter, Policy, SlotContext
from uploader.registry.ratespec import RateSpec
from uploader.registry.shared import Budget, SharedKey
from uploader.registry.tokens import TokenProvider

log = structlog.get_logger("uploader.registry.client")
IP_KEY: Key = ("ip", "default")
CHUNK_BYTES = 64 * 1024  # read size while an answer is read up to its cap

# Told of every request: its endpoint, the HTTP status (None: no answer) and the seconds it took.
ResponseHook = Callable[[str, int | None, float], None]


class LimiterStore(HistoryStore, Protocol):
    """What the limiter keeps in the queue: its history and, if shared, the IP budget."""

    def shared_budget(self, name: str) -> Budget:
        """The budget every replica on the store shares (ConfigError where there is none)."""
        ...


def limiter_from_settings(settings: Settings, store: LimiterStore | None = None) -> KeyedLimiter:
    """The limiter of `[limits]`: per-account operation policy, per-IP global policy, and the
    shares of an account's budget that status polls and scheduled read-backs may use.

    With `store` (the queue) it keeps its history there (see `keep_history`).
    """
    limits = settings.limits
    account = RateSpec.parse(limits.account)

    def share(fraction: float) -> Policy:
        return Policy(RateSpec(max(1, int(account.limit * fraction)), account.window_s), "any")

    limiter = KeyedLimiter(
        {
            "account": Policy(account, limits.account_counts),
            "ip": Policy(RateSpec.parse(limits.ip), "any"),
            "poll": share(limits.status_poll_share),
            "reconcile": share(settings.reconcile.budget_share),
        }
    )
    if store is not None:
        keep_history(limiter, settings, store)
    return limiter


def keep_history(limiter: KeyedLimiter, settings: Settings, store: LimiterStore) -> None:
    """Let `limiter` keep its history in `store` and, with `limits.ip_shared`, take the IP
    budget from it; before its first request. `uploader run` does this with its queue."""
    timeout_s = settings.registry.timeout_s
    shared = {}
    if settings.limits.ip_shared:
        ip = Policy(RateSpec.parse(settings.limits.ip), "any")
        budget = store.shared_budget(f"{IP_KEY[0]}:{IP_KEY[1]}")
        shared[IP_KEY[0]] = SharedKey(budget, ip, timeout_s=timeout_s)
    journal = SlotJournal(store, timeout_s=timeout_s, owner_of=_owner_of(settings))
    limiter.attach(journal, shared)


def history_owners(settings: Settings, accounts: Sequence[str]) -> list[str]:
    """Whose history a process serving `accounts` restores at start: theirs and, unless the
    IP budget is shared (the store holds it), the IP budget's."""
    ip = [] if settings.limits.ip_shared else [_ip_owner(settings)]
    return [*accounts, *ip]


def _ip_owner(settings: Settings) -> str:
    # A queue only one host opens has one address behind it, whatever the host is called
    # after a container is made anew. Replicas each have their own address (unless shared):
    # their rows are their host's, so a replica restarting counts only what its host sent.
    scheme = scheme_of(settings.queue)
    return f"ip@{socket.gethostname()}" if scheme is not None and scheme.hosts else "ip"


def _owner_of(settings: Settings) -> Callable[[Key], str | None]:
    """Whose a key's rows are: the account's (of either scope), the IP's, or nobody's."""
    by_endpoint = settings.limits.account_scope == "endpoint"
    ip = _ip_owner(settings)

    def owner(key: Key) -> str | None:
        kind, name = key
        if kind == "account":
            return name.rpartition(":")[0] if by_endpoint else name  # see `account_key`
        # A poll key is a share of its account's budget, which the account's key counts.
        return ip if kind == "ip" else None

    return owner


class RegistryClient:
    """Talks to the registry for every configured account over one `aiohttp.ClientSession`."""

    def __init__(
        self,
        settings: Settings,
        limiter: KeyedLimiter,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self._settings = settings
        self.limiter = limiter
        self._session = session
        self._owns_session = session is None
        self.tokens = TokenProvider(settings, self._post_unauthenticated)
        self.response_hooks: list[ResponseHook] = []

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        """A client with the limiter the settings describe."""
        return cls(settings, limiter_from_settings(settings))

    async def __aenter__(self) -> Self:
        if self._session is None:
            registry = self._settings.registry
            self._session = aiohttp.ClientSession(
                base_url=registry.base_url.rstrip("/") + "/",
                connector=aiohttp.TCPConnector(
                    limit=registry.connections, limit_per_host=registry.connections
                ),
                timeout=aiohttp.ClientTimeout(total=registry.timeout_s),
                headers={"Accept": "application/json"},
            )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    def __repr__(self) -> str:
        return f"<RegistryClient base_url={self._settings.registry.base_url!r} {self.limiter!r}>"

    def account_key(self, account: str, endpoint: str) -> Key:
        """The operation-policy key of a request (per account, or per account and endpoint)."""
        if self._settings.limits.account_scope == "endpoint":
            return ("account", f"{account}:{endpoint}")
        return ("account", account)

    async def call(
        self,
        account: str,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        form: Callable[[], aiohttp.FormData] | None = None,
        params: Mapping[str, str] | None = None,
        endpoint: str = "other",
        extra_keys: Sequence[Key] = (),
    ) -> RegistryResponse:
        """Send one request for an account; retries once with a fresh token after a 401."""
        keys = (self.account_key(account, endpoint), *extra_keys, IP_KEY)
        header = await self.tokens.header(account)
        response = await self._send(method, path, endpoint, keys, header, body, form, params)
        if response.status == 401 and await self.tokens.invalidate(account, header):
            header = await self.tokens.header(account)
            response = await self._send(method, path, endpoint, keys, header, body, form, params)
        floor = throttle_floor(response)
        if floor is not None:
            # A 429 we did not cause means someone else spends this account's budget: the
            # whole key waits at least Retry-After (a floor), not just the refused request.
            self.limiter.block_until(keys[0], asyncio.get_running_loop().time() + floor)
        return response

    async def _post_unauthenticated(self, path: str, body: bytes) -> RegistryResponse:
        return await self._send("POST", path, "token", (IP_KEY,), None, body, None, None)

    async def _send(
        self,
        method: str,
        path: str,
        endpoint: str,
        keys: Sequence[Key],
        authorization: str | None,
        body: bytes | None,
        form: Callable[[], aiohttp.FormData] | None,
        params: Mapping[str, str] | None,
    ) -> RegistryResponse:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if authorization is not None:
            headers["Authorization"] = authorization
        data: bytes | aiohttp.FormData | None = form() if form is not None else body
        async with self.limiter.slot(*keys) as slot:
            started = time.perf_counter()
            try:
                response = await self._request(method, path, headers, data, params, slot)
            except TransportError:
                self._told(endpoint, None, time.perf_counter() - started)
                raise
            if not response.ok:
                slot.refund()  # only success-counting policies take it back
        elapsed = time.perf_counter() - started
        self._told(endpoint, response.status, elapsed)
        return dataclasses.replace(
            response, elapsed_s=elapsed, retry_after_s=self._capped(response, endpoint)
        )

    def _capped(self, response: RegistryResponse, endpoint: str) -> float | None:
        """Retry-After, at most `retry_after_cap_s`: a registry (or a proxy) asking for a day
        would park records and the account's key that long, restarts included."""
        asked, cap = response.retry_after_s, self._settings.retry_after_cap_s
        if asked is None or asked <= cap:
            return asked
        log.warning("Retry-After capped", endpoint=endpoint, asked_s=asked, cap_s=cap)
        return cap

    def _told(self, endpoint: str, status: int | None, elapsed_s: float) -> None:
        for hook in self.response_hooks:
            hook(endpoint, status, elapsed_s)

    async def _request(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        data: bytes | aiohttp.FormData | None,
        params: Mapping[str, str] | None,
        slot: SlotContext,
    ) -> RegistryResponse:
        assert self._session is not None, "use `async with RegistryClient(...)`"
        cap = self._settings.registry.max_answer_bytes
        timeout = self._timeout(self._session, slot, f"{method} {path}")
        try:
            async with self._session.request(
                method,
                path.lstrip("/"),
                headers=headers,
                data=data,
                params=params,
                allow_redirects=False,
                timeout=timeout,
            ) as http:
                raw, complete = await read_capped(http, cap)
                if not complete:
                    http.close()  # the rest is never read: the connection cannot be reused
                return RegistryResponse(
                    http.status,
                    raw,
                    parse_retry_after(http.headers.get("Retry-After"), time.time()),
                    0.0,
                    location=http.headers.get("Location"),
                    oversized=None if complete else cap,
                )
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TransportError(f"{method} {path}: {type(exc).__name__}: {exc}") from exc

    def _timeout(
        self, session: aiohttp.ClientSession, slot: SlotContext, what: str
    ) -> aiohttp.ClientTimeout:
        """The session's timeout, less the time spent recording the slots: the history counts
        an unanswered request until `recorded_at` + timeout, so we must give up by then."""
        if slot.recorded_at is None:
            return session.timeout
        left = self._settings.registry.timeout_s - (time.time() - slot.recorded_at)
        if left <= 0:
            raise TransportError(f"{what}: its time ran out while its slots were recorded")
        return aiohttp.ClientTimeout(total=left)


async def read_capped(http: aiohttp.ClientResponse, cap: int) -> tuple[bytes, bool]:
    """The body up to `cap` bytes, and whether that was all of it.

    A declared length is read whole when it is within the cap, and not at all when it is
    over; an undeclared one is read in chunks until the end or until they go over the cap, so
    memory stays bounded whatever is sent.
    """
    if http.content_length is not None:
        if http.content_length > cap:
            return b"", False
        return await http.read(), True
    chunks: list[bytes] = []
    size = 0
    async for chunk in http.content.iter_chunked(CHUNK_BYTES):
        size += len(chunk)
        if size > cap:
            return b"".join(chunks), False
        chunks.append(chunk)
    return b"".join(chunks), True
