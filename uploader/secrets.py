"""Reading an account's secrets from the environment or files, at the moment they are needed;
and hiding the one secret a setting may hold in plain sight, a URL's password."""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Mapping
from pathlib import Path

from uploader.errors import ConfigError


def read_secret(
    *,
    what: str,
    env_name: str | None,
    file: str | None,
    inline: str | None = None,
    env: Mapping[str, str] | None = None,
) -> str | None:
    """The secret from `env_name`, else `file`, else the inline value; None when none is set.

    The message of a failure names the variable or file, never the value.
    """
    env = os.environ if env is None else env
    if env_name:
        value = env.get(env_name)
        if not value:
            raise ConfigError(f"{what}: environment variable {env_name} is not set")
        return value.strip()
    if file:
        try:
            return Path(file).read_text().strip()
        except OSError as exc:
            raise ConfigError(f"{what}: cannot read {file}: {exc.strerror}") from None
    return inline


def mask_url(url: str) -> str:
    """A URL fit to print: a password, in the userinfo or a `password=` parameter, as ***."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is not None:
        host = parts.netloc.rpartition("@")[2]
        parts = parts._replace(netloc=f"{parts.username or ''}:***@{host}")
    pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    if any(name == "password" for name, _ in pairs):
        hidden = [(name, "***" if name == "password" else value) for name, value in pairs]
        parts = parts._replace(query=urllib.parse.urlencode(hidden, safe="*"))
    return parts.geturl()
