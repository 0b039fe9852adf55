"""`uploader config check|init`: effective settings, masked secrets, errors that name the key."""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path
from typing import Any

import msgspec
import pytest

from uploader import cli, config
from uploader.commands.config_cmd import example_text, to_toml


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No UPLOADER_* variable of the developer's shell, and no ./uploader.toml, leaks in."""
    for name in list(os.environ):
        if name.startswith("UPLOADER_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def run(*argv: str) -> int:
    return cli.main(list(argv))


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "u.toml"
    path.write_text(text)
    return path


def test_init_writes_an_example_that_check_accepts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`config init PATH` writes the example and `config check` accepts it with exit 0."""
    monkeypatch.setenv("ACME_TOKEN", "acme-token")  # the example's account reads its token here
    path = tmp_path / "new.toml"
    assert run("config", "init", str(path)) == 0
    assert path.read_text() == example_text()
    assert run("--config", str(path), "config", "check") == 0
    printed = tomllib.loads(capsys.readouterr().out)
    assert printed["accounts"] == [{"id": "acme-solar", "token_env": "ACME_TOKEN"}]


def test_init_defaults_to_uploader_toml_in_the_working_directory(tmp_path: Path) -> None:
    """Without a path, init writes ./uploader.toml, which later commands read by default."""
    assert run("config", "init") == 0
    assert (tmp_path / "uploader.toml").read_text() == example_text()


def test_init_refuses_to_overwrite_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An existing file is kept (exit 2) unless --force is given."""
    path = write(tmp_path, "# mine\n")
    assert run("config", "init", str(path)) == 2
    assert path.read_text() == "# mine\n"
    assert "--force" in capsys.readouterr().err
    assert run("config", "init", str(path), "--force") == 0
    assert path.read_text() == example_text()


def _keys(struct_type: type[msgspec.Struct], prefix: str = "") -> list[str]:
    """Dotted keys of every setting, tables included."""
    keys = []
    for field in msgspec.structs.fields(struct_type):
        key = f"{prefix}{field.name}"
        keys.append(key)
        inner = field.type
        args = getattr(inner, "__args__", ())
        if isinstance(inner, type) and issubclass(inner, msgspec.Struct):
            keys += _keys(inner, f"{key}.")
        elif args and isinstance(args[0], type) and issubclass(args[0], msgspec.Struct):
            keys += _keys(args[0], f"{key}.")
    return keys


def _documented(text: str) -> set[str]:
    """Dotted keys the example sets or shows commented, tables included."""
    found: set[str] = set()
    table = ""
    for line in text.splitlines():
        header = re.match(r"^#?\s*\[\[?([\w.]+)\]\]?\s*(#.*)?$", line)
        key = re.match(r"^#?\s*(\w+)\s*=", line)
        if header:
            table = header.group(1)
            found.add(table)
        elif key:
            found.add(f"{table}.{key.group(1)}" if table else key.group(1))
    return found


def test_example_documents_every_setting() -> None:
    """Every key of the settings types appears in the example, set or commented, in its table."""
    assert set(_keys(config.Settings)) - _documented(example_text()) == set()


def test_check_prints_toml_that_loads_back_to_the_same_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The printed settings are valid TOML describing exactly the effective configuration."""
    monkeypatch.setenv("A", "a-token")
    (tmp_path / "b-token").write_text("b-token\n")
    path = write(
        tmp_path,
        '[registry]\ntimeout_s = 5\n[[accounts]]\nid = "a"\ntoken_env = "A"\n'
        f'[[accounts]]\nid = "b"\ntoken_file = "{tmp_path / "b-token"}"\n',
    )
    assert run("--config", str(path), "config", "check") == 0
    printed = capsys.readouterr().out
    assert config.from_dict(tomllib.loads(printed)) == config.load(path, env={})


def test_check_json_is_the_masked_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--json prints the masked settings as JSON."""
    monkeypatch.setenv("A", "a-token")
    path = write(tmp_path, '[[accounts]]\nid = "a"\ntoken_env = "A"\n')
    assert run("--config", str(path), "config", "check", "--json") == 0
    printed: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert printed == config.masked(config.load(path, env={}))


def test_check_masks_inline_secrets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An inline token is printed as *** in both formats, never as its value."""
    path = write(tmp_path, '[[accounts]]\nid = "a"\ntoken = "s3cret-value"\n')
    for extra in ((), ("--json",)):
        assert run("--config", str(path), "config", "check", *extra) == 0
        out = capsys.readouterr().out
        assert "s3cret-value" not in out
        assert "***" in out


def test_env_overrides_show_in_the_effective_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """UPLOADER_* variables override the file, and check prints the overridden values."""
    path = write(
        tmp_path, '[registry]\nbase_url = "http://from-file"\n[[accounts]]\nid = "a"\ntoken = "t"\n'
    )
    monkeypatch.setenv("UPLOADER_REGISTRY__BASE_URL", "http://from-env")
    monkeypatch.setenv("UPLOADER_WORKER__SHUTDOWN_TIMEOUT_S", "7.5")
    monkeypatch.setenv("UPLOADER_CONFIG", str(path))
    assert run("config", "check") == 0
    printed = tomllib.loads(capsys.readouterr().out)
    assert printed["registry"]["base_url"] == "http://from-env"
    assert printed["worker"]["shutdown_timeout_s"] == 7.5


@pytest.mark.parametrize(
    ("toml", "env", "named"),
    [
        ("[registry]\ntimeout = 5\n", {}, "registry.timeout: unknown key"),
        ('[worker]\nlease_s = "long"\n', {}, "worker.lease_s"),
        ("", {"UPLOADER_LIMITS__ACCOUNT": "fast"}, "limits.account"),
        ("", {"UPLOADER_SERVER__LISTEN": "8787"}, "server.listen"),
        ("[server]\nmax_body_bytes = 0\n", {}, "server.max_body_bytes"),
        ("[server]\nheader_timeout_s = 0\n", {}, "server.header_timeout_s: must be a positive"),
        ("[server]\nbody_timeout_s = -1\n", {}, "server.body_timeout_s: must be a positive"),
        ("", {"UPLOADER_SERVER__MAX_CONNECTIONS": "0"}, "server.max_connections: must be"),
    ],
)
def test_check_errors_name_the_key(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    toml: str,
    env: dict[str, str],
    named: str,
) -> None:
    """A bad key or value, in the file or the environment, exits 2 naming the key."""
    path = write(tmp_path, toml)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert run("--config", str(path), "config", "check") == 2
    captured = capsys.readouterr()
    assert named in captured.err
    assert captured.out == ""


def test_check_secrets_reads_every_named_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--secrets fails naming an unset variable, and passes without printing the value once set."""
    path = write(tmp_path, '[server]\ningest_token_env = "INGEST"\n[[accounts]]\nid = "a"\n')
    monkeypatch.delenv("INGEST", raising=False)
    assert run("--config", str(path), "config", "check", "--no-secrets") == 0
    assert run("--config", str(path), "config", "check", "--secrets") == 2
    assert "INGEST is not set" in capsys.readouterr().err
    monkeypatch.setenv("INGEST", "ingest-secret-value")
    assert run("--config", str(path), "config", "check", "--secrets") == 0
    captured = capsys.readouterr()
    assert "ingest-secret-value" not in captured.out + captured.err


def test_config_without_an_action_is_a_usage_error() -> None:
    """`uploader config` alone exits 2."""
    with pytest.raises(SystemExit) as exited:
        run("config")
    assert exited.value.code == 2


def test_to_toml_writes_arrays_and_nested_tables() -> None:
    """Lists of scalars, nested tables and arrays of tables survive a TOML round trip."""
    data = {"a": 1, "s": 'q"uote', "t": {"b": [1, 2], "u": {"c": True}}, "rows": [{"x": 1.5}]}
    assert tomllib.loads(to_toml(data)) == data


@pytest.mark.parametrize(
    "queue",
    [
        "redis://:hunter2-secret@127.0.0.1:6379/0",
        "redis://user:hunter2-secret@127.0.0.1:6379/0?prefix=q",
        "rediss://127.0.0.1:6379/0?password=hunter2-secret",
    ],
)
def test_check_masks_a_redis_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], queue: str
) -> None:
    """A password in the queue URL is printed as ***, in TOML and JSON alike."""
    path = write(tmp_path, f'queue = "{queue}"\n[[accounts]]\nid = "a"\ntoken = "t"\n')
    for extra in ((), ("--json",)):
        assert run("--config", str(path), "config", "check", *extra) == 0
        out = capsys.readouterr().out
        assert "hunter2-secret" not in out
        assert "***" in out
        assert "127.0.0.1:6379/0" in out
    assert "hunter2-secret" not in repr(config.load(path, env={}))


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"UPLOADER_LIMITS__ACCOUNT": "fast"}, "UPLOADER_LIMITS__ACCOUNT: limits.account: "),
        ({"UPLOADER_WORKER__LEASE_S": "long"}, "UPLOADER_WORKER__LEASE_S: worker.lease_s: "),
        ({"UPLOADER_REGISTRY__TIMEOUT": "5"}, "UPLOADER_REGISTRY__TIMEOUT: registry.timeout: "),
        ({"UPLOADER_SERVER__LISTEN": "8787"}, "UPLOADER_SERVER__LISTEN: server.listen: "),
        ({"UPLOADER_ACCOUNTS": '[{"id": 5}]'}, "UPLOADER_ACCOUNTS: accounts[0].id: "),
        ({"UPLOADER_REGISTRY__ENDPOINT": "bulk"}, "UPLOADER_REGISTRY__ENDPOINT: registry.endpoint"),
    ],
)
def test_an_error_in_an_override_names_the_variable_not_the_file(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    env: dict[str, str],
    named: str,
) -> None:
    """A bad UPLOADER_* value is reported under the variable's name, not the TOML file's."""
    path = write(tmp_path, '[[accounts]]\nid = "a"\ntoken = "t"\n')
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert run("--config", str(path), "config", "check") == 2
    err = capsys.readouterr().err
    assert named in err
    assert str(path) not in err


def test_an_error_in_the_file_still_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With an unrelated override set, a bad key of the file is still the file's."""
    path = write(tmp_path, '[limits]\naccount = "fast"\n[[accounts]]\nid = "a"\ntoken = "t"\n')
    monkeypatch.setenv("UPLOADER_LIMITS__IP", "3000/300s")
    assert run("--config", str(path), "config", "check") == 2
    assert f"{path}: limits.account: " in capsys.readouterr().err


def test_check_without_a_file_or_accounts_says_so_and_exits_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """No file and no account: exit 2 (as `run` would refuse), saying both, printing nothing."""
    assert run("config", "check") == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no configuration file: uploader.toml does not exist" in captured.err
    assert "no account is configured" in captured.err


def test_check_of_a_file_without_accounts_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file that configures no account is refused as `run` would refuse it."""
    path = write(tmp_path, "[registry]\ntimeout_s = 5\n")
    assert run("--config", str(path), "config", "check") == 2
    err = capsys.readouterr().err
    assert "accounts: no account is configured" in err
    assert "no configuration file" not in err


def test_check_reads_the_secrets_by_default_and_no_secrets_turns_it_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With accounts, an unset token variable fails the check unless --no-secrets is given."""
    path = write(tmp_path, '[[accounts]]\nid = "a"\ntoken_env = "A_TOKEN_FOR_CHECK"\n')
    monkeypatch.delenv("A_TOKEN_FOR_CHECK", raising=False)
    assert run("--config", str(path), "config", "check") == 2
    assert "A_TOKEN_FOR_CHECK is not set" in capsys.readouterr().err
    assert run("--config", str(path), "config", "check", "--no-secrets") == 0
    monkeypatch.setenv("A_TOKEN_FOR_CHECK", "token-value-for-check")
    assert run("--config", str(path), "config", "check") == 0
    captured = capsys.readouterr()
    assert "token-value-for-check" not in captured.out + captured.err
