"""What the registration commands share: the account, the client session, error output."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Iterable

from uploader.config import Settings
from uploader.errors import ConfigError, RegistryError, Rejected
from uploader.registry.applications import RegistrationApi
from uploader.registry.client import RegistryClient


def pick_account(settings: Settings, requested: str | None) -> str:
    """The account named by --account, else the first configured one (ConfigError if none)."""
    if requested is not None:
        return settings.account(requested).id
    if not settings.accounts:
        raise ConfigError("--account: no account is configured ([[accounts]] in the config file)")
    return settings.accounts[0].id


def print_problems(lines: Iterable[str], summary: str) -> None:
    """Each problem on its own line (`Field.Path: message`), then a summary, on stderr."""
    for line in lines:
        print(line, file=sys.stderr)
    print(f"uploader: {summary}", file=sys.stderr)


async def with_api(
    settings: Settings, account: str, work: Callable[[RegistrationApi], Awaitable[int]]
) -> int:
    """Run `work` with the account's API over one client; a registry refusal exits 1."""
    async with RegistryClient.from_settings(settings) as client:
        api = RegistrationApi(client, settings.registry.paths, account)
        try:
            return await work(api)
        except Rejected as exc:
            print_problems(exc.errors, str(exc))
        except RegistryError as exc:
            print_problems((), str(exc))
    return 1
