"""The Redis backend's plumbing: the URL, the connection, the scripts.

Imported only when a `redis://` queue is made, so redis-py is needed only then. The key
layout and why it is shaped this way are described at the top of `scripts.lua` (the limiter's
keys at the top of `limiter.lua`).
"""

from __future__ import annotations

import importlib.resources
import re
import urllib.parse
from typing import Any, NamedTuple

from uploader.errors import ConfigError, QueueError
from uploader.secrets import mask_url

try:
    import redis.asyncio as aioredis
    from redis.commands.core import AsyncScript
    from redis.exceptions import RedisError, ResponseError
except ImportError:  # the optional extra is not installed
    raise ConfigError(
        "queue: the Redis backend needs redis-py: pip install 'redex-uploader[redis]'"
    ) from None

DEFAULT_PREFIX = "uploader"
CHUNK = 1000  # records (or dead rows) per script call: each call holds the server alone
CONNECT_TIMEOUT_S = 5.0
# A claim or an ack of 3000 records takes milliseconds; a server silent this long is gone.
COMMAND_TIMEOUT_S = 30.0
# Policies that may evict any key, a queued record's included.
EVICTING = ("allkeys-lru", "allkeys-lfu", "allkeys-random")
LUA_FILES = ("scripts.lua", "limiter.lua")  # the queue's, then the limiter's


class RedisTarget(NamedTuple):
    """Where a `redis://` URL points."""

    url: str  # for redis-py: the URL without our `prefix` parameter
    prefix: str  # every key of the queue starts with `prefix:`
    shown: str  # the URL with its password masked, for messages


def parse_url(url: str, prefix: str | None = None) -> RedisTarget:
    """Split `redis[s]://[user:password@]host:port/db[?prefix=NAME]`; ConfigError if unusable.

    `prefix` (when given) overrides the URL's.
    """
    parts = urllib.parse.urlsplit(url)
    shown = mask_url(url)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise ConfigError(f"queue: {shown!r} is not redis://host:port/db")
    try:
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError:
        raise ConfigError(f"queue: {shown!r}: the port is not a number") from None
    if not re.fullmatch(r"/?|/\d+", parts.path):
        raise ConfigError(f"queue: {shown!r}: the database must be a number, as in /0")
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    named = [value for name, value in query if name == "prefix"]
    if len(named) > 1:
        raise ConfigError(f"queue: {shown!r} names the prefix twice")
    chosen = prefix if prefix is not None else (named[0] if named else DEFAULT_PREFIX)
    if not chosen:
        raise ConfigError(f"queue: {shown!r}: the prefix is empty")
    rest = urllib.parse.urlencode([(name, value) for name, value in query if name != "prefix"])
    return RedisTarget(urllib.parse.urlunsplit(parts._replace(query=rest)), chosen, shown)


def _sections(name: str) -> dict[str, str]:
    text = importlib.resources.files(__package__ or "").joinpath(name).read_text()
    parts = re.split(r"^-- (\w+) --$", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def _load_scripts() -> dict[str, str]:
    """Each section of scripts.lua and limiter.lua, the `common` helpers of its file (and of
    the files before it) in front."""
    common, scripts = "", {}
    for name in LUA_FILES:
        sections = _sections(name)
        common += sections.pop("common", "")
        scripts.update({section: common + body for section, body in sections.items()})
    return scripts


SCRIPTS = _load_scripts()


def text(seconds: float) -> str:
    """A time as the scripts take it: Python's shortest exact text of the float."""
    return repr(float(seconds))


def optional(value: object | None) -> str:
    """An optional argument as the scripts take it: '' for None, else '=' and the text."""
    return "" if value is None else f"={value}"


class RedisConnection:
    """A queue's client and its scripts; every operation is one script call."""

    def __init__(self, url: str, *, prefix: str | None = None) -> None:
        self.target = parse_url(url, prefix)
        self._client: aioredis.Redis | None = None
        self._scripts: dict[str, AsyncScript] = {}

    def describe(self) -> str:
        """The URL (password masked), the prefix and whether it is open, for reprs."""
        target, opened = self.target, self._client is not None
        return f"url={target.shown!r} prefix={target.prefix!r} open={opened}"

    @property
    def client(self) -> aioredis.Redis:
        """The open client (a pool of connections)."""
        if self._client is None:
            raise QueueError("the queue is not open")
        return self._client

    async def open(self) -> None:
        """Connect, check the server keeps what it is given, and load the scripts."""
        if self._client is not None:
            return
        try:
            client = aioredis.Redis.from_url(
                self.target.url,
                socket_connect_timeout=CONNECT_TIMEOUT_S,
                socket_timeout=COMMAND_TIMEOUT_S,
            )
        except (TypeError, ValueError) as exc:  # an option redis-py does not know
            raise ConfigError(f"queue: {self.target.shown!r}: {exc}") from None
        try:
            await client.ping()
            await self._check_eviction(client)
            self._scripts = {name: client.register_script(body) for name, body in SCRIPTS.items()}
            async with client.pipeline(transaction=False) as pipe:
                for body in SCRIPTS.values():
                    pipe.script_load(body)
                await pipe.execute()
        except BaseException as exc:
            await client.aclose()
            if isinstance(exc, RedisError):
                raise QueueError(f"queue {self.target.shown}: cannot use Redis: {exc}") from exc
            raise
        self._client = client

    async def _check_eviction(self, client: aioredis.Redis) -> None:
        try:
            memory = await client.info("memory")
        except ResponseError:  # INFO renamed or forbidden (some hosted servers): cannot tell
            return
        policy = memory.get("maxmemory_policy")
        if policy in EVICTING:
            raise QueueError(
                f"queue {self.target.shown}: the server's maxmemory-policy {policy} may evict "
                "queued records; use noeviction (or a volatile-* policy)"
            )

    async def close(self) -> None:
        """Close the connections."""
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def run(self, name: str, *args: Any) -> Any:
        """Run one script with the prefix in front of `args`; QueueError when it fails."""
        if self._client is None:
            raise QueueError("the queue is not open")
        try:
            return await self._scripts[name](args=[self.target.prefix, *args])
        except ResponseError as exc:  # the script refused: its message says why
            raise QueueError(str(exc)) from exc
        except RedisError as exc:
            raise QueueError(f"queue {self.target.shown}: {exc}") from exc
