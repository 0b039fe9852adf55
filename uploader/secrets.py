"""Reading an account's secrets from the environment or files, at the moment they are needed."""

from __future__ import annotations

import os
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
