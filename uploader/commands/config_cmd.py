"""`uploader config check|init`: validate and show the effective settings; write an example.

`check` prints the settings after the file and every `UPLOADER_*` override are applied, with
secrets masked (a Redis URL's password included), as TOML that `config check` itself accepts
(or as JSON). It also reads every secret the accounts name, unless `--no-secrets`, and refuses
a configuration without accounts, as `run` would. Errors go through `ConfigError`, so the
message names the key (and the variable, for an override) and the exit code is 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from uploader import config
from uploader.commands import Subparsers, settings
from uploader.errors import ConfigError
from uploader.secrets import read_secret

EXAMPLE_RESOURCE = "example.toml"  # inside the uploader package


def add_parser(subparsers: Subparsers) -> None:
    """Register `config check` and `config init`."""
    parser = subparsers.add_parser(
        "config",
        help="check the configuration, or write a commented example file",
        description="Check the configuration (`check`) or write a commented example (`init`).",
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check",
        help="validate and print the effective settings, secrets masked",
        description=(
            "Validate the configuration file and its UPLOADER_* overrides, read every secret "
            "it names, and print the effective settings with secrets masked. Exit 0 when "
            "`uploader run` could start with them, 2 otherwise (no account configured "
            "included)."
        ),
    )
    check.add_argument("--json", action="store_true", help="print JSON instead of TOML")
    check.add_argument(
        "--secrets",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="read every secret the configuration names, values never printed (default: yes; "
        "--no-secrets checks the settings alone, e.g. where the secrets are not mounted)",
    )
    check.set_defaults(handler=check_command)
    init = actions.add_parser(
        "init",
        help="write a commented example uploader.toml",
        description="Write a commented example configuration that `config check` accepts.",
    )
    init.add_argument(
        "path", nargs="?", default=config.DEFAULT_PATH, help="default ./uploader.toml"
    )
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    init.set_defaults(handler=init_command)


def check_command(args: argparse.Namespace) -> int:
    """Print the effective settings; ConfigError (exit 2) names what is wrong."""
    effective = settings(args)
    if not effective.accounts:
        raise ConfigError(_no_accounts(args))
    if args.secrets:
        check_secrets(effective)
    data = config.masked(effective)
    sys.stdout.write(json.dumps(data, indent=2) + "\n" if args.json else to_toml(data))
    return 0


def _no_accounts(args: argparse.Namespace) -> str:
    """Why a configuration without accounts is refused, and whether a file was read at all."""
    message = (
        "accounts: no account is configured, so `uploader run` would refuse to start; add an "
        "[[accounts]] table with id and token_env"
    )
    if config.config_file(args.config, os.environ) is None:
        return (
            f"no configuration file: {config.DEFAULT_PATH} does not exist and neither --config "
            f"nor UPLOADER_CONFIG names one (`uploader config init` writes an example); "
            f"{message}"
        )
    return message


def init_command(args: argparse.Namespace) -> int:
    """Write the example file; exit 2 rather than overwrite without --force."""
    path = Path(args.path)
    if path.exists() and not args.force:
        raise ConfigError(f"{path} exists; pass --force to overwrite it")
    path.write_text(example_text())
    print(f"wrote {path}; check it with: uploader --config {path} config check", file=sys.stderr)
    return 0


def example_text() -> str:
    """The commented example configuration shipped with the package."""
    return resources.files("uploader").joinpath(EXAMPLE_RESOURCE).read_text()


def check_secrets(effective: config.Settings) -> None:
    """Read every secret the settings name; ConfigError names the first that cannot be read."""
    for what, env_name, file in _secret_sources(effective):
        read_secret(what=what, env_name=env_name, file=file)


def _secret_sources(effective: config.Settings) -> Iterator[tuple[str, str | None, str | None]]:
    """(key, variable, file) of every secret the settings name."""
    server = effective.server
    yield "server.ingest_token", server.ingest_token_env, server.ingest_token_file
    for account in effective.accounts:
        key = f"accounts.{account.id}"
        yield f"{key}.token", account.token_env, account.token_file
        yield f"{key}.api_key", account.api_key_env, account.api_key_file
        yield f"{key}.client_secret", account.client_secret_env, account.client_secret_file


def to_toml(data: Mapping[str, Any]) -> str:
    """Plain settings data as TOML: scalars, lists of scalars, tables, arrays of tables."""
    lines: list[str] = []
    _table(lines, "", data)
    return "\n".join(lines) + "\n"


def _table(lines: list[str], name: str, data: Mapping[str, Any]) -> None:
    nested = {k: v for k, v in data.items() if isinstance(v, dict | list) and _is_tables(v)}
    for key, value in data.items():
        if key not in nested and value is not None:  # TOML has no null: unset keys are left out
            lines.append(f"{key} = {_value(value)}")
    for key, value in nested.items():
        path = f"{name}.{key}" if name else key
        for item in [value] if isinstance(value, dict) else value:
            lines.extend(["", f"[{path}]" if isinstance(value, dict) else f"[[{path}]]"])
            _table(lines, path, item)


def _is_tables(value: dict[str, Any] | list[Any]) -> bool:
    return isinstance(value, dict) or (bool(value) and all(isinstance(v, dict) for v in value))


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return json.dumps(str(value))  # JSON's string escapes are valid TOML basic strings
