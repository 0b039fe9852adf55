"""The Redis backend's plumbing: the URL, the connection, the checks on open, the scripts.

Imported only when a `redis://` queue is made, so redis-py is needed only then. The key
layout and why it is shaped this way are described at the top of `scripts.lua`; the fleet's
keys (members, account owners, the queue's identity) at the top of `fleet.lua`, the limiter's
at the top of `limiter.lua`.

On open the server must keep what it is given: no policy that evicts any key, and persistence
(AOF or RDB snapshots) unless the URL says `?durability=none` (tests, demos). A queue whose
server restarts empty would otherwise run on, ready, against nothing. The queue's identity
(`P:identity`, made once with the queue) lets a running replica notice that the data it was
serving vanished (see `uploader.queue.redis.leases`).
"""

from __future__ import annotations

import importlib.resources
import re
import urllib.parse
import uuid
from typing import Any, NamedTuple

import structlog

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

log = structlog.get_logger("uploader.queue")

DEFAULT_PREFIX = "uploader"
CHUNK = 1000  # records (or dead rows) per script call: each call holds the server alone
CONNECT_TIMEOUT_S = 5.0
# A claim or an ack of 3000 records takes milliseconds; a server silent this long is gone.
COMMAND_TIMEOUT_S = 30.0
# Policies that may evict any key, a queued record's included.
EVICTING = ("allkeys-lru", "allkeys-lfu", "allkeys-random")
DURABILITY = ("none",)  # the values `?durability=` takes: only the explicit waiver
LUA_FILES = ("scripts.lua", "fleet.lua", "limiter.lua")  # the queue's, the fleet's, the limiter's


class RedisTarget(NamedTuple):
    """Where a `redis://` URL points."""

    url: str  # for redis-py: the URL without our `prefix` and `durability` parameters
    prefix: str  # every key of the queue starts with `prefix:`
    shown: str  # the URL with its password masked, for messages
    durable: bool = True  # refuse a server that keeps nothing on disk (`?durability=none`: no)


def parse_url(url: str, prefix: str | None = None, durability: str | None = None) -> RedisTarget:
    """Split `redis[s]://[user:password@]host:port/db[?prefix=NAME][&durability=none]`;
    ConfigError if unusable.

    `prefix` and `durability` (when given) override the URL's.
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
    chosen = _parameter(query, "prefix", shown, prefix)
    chosen = DEFAULT_PREFIX if chosen is None else chosen
    if not chosen:
        raise ConfigError(f"queue: {shown!r}: the prefix is empty")
    waiver = _parameter(query, "durability", shown, durability)
    if waiver is not None and waiver not in DURABILITY:
        raise ConfigError(
            f"queue: {shown!r}: durability={waiver!r}; the one value is none (accept a server "
            "that keeps nothing on disk)"
        )
    ours = ("prefix", "durability")
    rest = urllib.parse.urlencode([(name, value) for name, value in query if name not in ours])
    target = urllib.parse.urlunsplit(parts._replace(query=rest))
    return RedisTarget(target, chosen, shown, durable=waiver is None)


def _parameter(
    query: list[tuple[str, str]], name: str, shown: str, given: str | None
) -> str | None:
    """The URL's one value of `name` (None when absent), or `given` when that is not None."""
    values = [value for key, value in query if key == name]
    if len(values) > 1:
        raise ConfigError(f"queue: {shown!r} names the {name} twice")
    if given is not None:
        return given
    return values[0] if values else None


def _sections(name: str) -> dict[str, str]:
    text = importlib.resources.files(__package__ or "").joinpath(name).read_text()
    parts = re.split(r"^-- (\w+) --$", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def _load_scripts() -> dict[str, str]:
    """Each section of the Lua files, the `common` helpers of its file (and of the files
    before it) in front; no two sections share a name."""
    common, scripts = "", dict[str, str]()
    for name in LUA_FILES:
        sections = _sections(name)
        common += sections.pop("common", "")
        assert not sections.keys() & scripts.keys(), f"{name} names a script again"
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

    def __init__(
        self, url: str, *, prefix: str | None = None, durability: str | None = None
    ) -> None:
        self.target = parse_url(url, prefix, durability)
        self._client: aioredis.Redis | None = None
        self._scripts: dict[str, AsyncScript] = {}
        self.identity = ""  # the queue's identity, read (or made) on open

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
            if self.target.durable:
                await self._check_persistence(client)
            self._scripts = {name: client.register_script(body) for name, body in SCRIPTS.items()}
            async with client.pipeline(transaction=False) as pipe:
                for body in SCRIPTS.values():
                    pipe.script_load(body)
                await pipe.execute()
            made = await self._scripts["identity"](args=[self.target.prefix, uuid.uuid4().hex])
            self.identity = made.decode()
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

    async def _check_persistence(self, client: aioredis.Redis) -> None:
        aof, rdb = await _persistence(client)
        if aof:
            return
        if rdb is None:
            log.warning(
                "cannot tell whether the Redis queue's server keeps anything on disk (CONFIG is "
                "forbidden and no snapshot was taken yet); it needs appendonly yes",
                queue=self.target.shown,
            )
            return
        if rdb:
            log.warning(
                "the Redis queue's server keeps RDB snapshots only: a crash loses what changed "
                "since the last one; appendonly yes keeps every write",
                queue=self.target.shown,
            )
            return
        raise ConfigError(
            f"queue {self.target.shown}: the server keeps nothing on disk (neither appendonly "
            "nor RDB snapshots), so a restart would empty the queue; turn on appendonly yes, "
            "or add ?durability=none to the queue URL to accept that (tests, demos)"
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


async def _persistence(client: aioredis.Redis) -> tuple[bool, bool | None]:
    """Whether the server appends every write (AOF) and whether it takes RDB snapshots (None:
    cannot tell). CONFIG first; where a hosted server forbids it, INFO persistence, which
    shows AOF but RDB only once a snapshot was taken."""
    try:
        aof = await client.config_get("appendonly")
        save = await client.config_get("save")
    except ResponseError:
        pass
    else:
        return aof.get("appendonly") == "yes", bool(str(save.get("save", "")).strip())
    try:
        info = await client.info("persistence")
    except ResponseError:  # neither answers: nothing to check against
        return False, None
    snapshots = int(info.get("rdb_saves", 0)) > 0 or info.get("rdb_last_bgsave_time_sec", -1) != -1
    return info.get("aof_enabled") == 1, snapshots or None
