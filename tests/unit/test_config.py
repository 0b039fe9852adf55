"""The configuration: defaults, TOML, environment overrides and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from uploader import config
from uploader.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "uploader.toml"
    path.write_text(text)
    return path


def test_defaults_follow_the_seed() -> None:
    """Without a file the limits are the seed's: 3000 records, 50/60s/account, 3000/300s/IP."""
    settings = config.from_dict({})
    assert settings.registry.max_records_per_request == 3000
    assert settings.limits.account == "50/60s"
    assert settings.limits.ip == "3000/300s"
    assert settings.registry.endpoint == "batch"


def test_file_is_read(tmp_path: Path) -> None:
    """Keys of the contract's example file are decoded into typed settings."""
    path = write(
        tmp_path,
        """
queue = "sqlite:///var/lib/uploader/queue.db"
[registry]
base_url = "http://127.0.0.1:9"
timeout_s = 5
[[accounts]]
id = "acme-solar"
token_env = "ACME_TOKEN"
""",
    )
    settings = config.load(path, env={})
    assert settings.registry.timeout_s == 5.0
    assert settings.account("acme-solar").token_env == "ACME_TOKEN"
    assert settings.queue == "sqlite:///var/lib/uploader/queue.db"


def test_unknown_key_is_named(tmp_path: Path) -> None:
    """A typo in a key is refused with the key's dotted path in the message."""
    path = write(tmp_path, "[registry]\ntimeout = 5\n")
    with pytest.raises(ConfigError, match=r"registry\.timeout: unknown key"):
        config.load(path, env={})


def test_bad_value_is_named(tmp_path: Path) -> None:
    """A value of the wrong type is refused naming its key."""
    path = write(tmp_path, '[registry]\ntimeout_s = "soon"\n')
    with pytest.raises(ConfigError, match=r"registry\.timeout_s"):
        config.load(path, env={})


def test_bad_rate_is_named(tmp_path: Path) -> None:
    """A rate that is not N/W is refused naming limits.account."""
    path = write(tmp_path, '[limits]\naccount = "fifty"\n')
    with pytest.raises(ConfigError, match=r"limits\.account"):
        config.load(path, env={})


def test_env_overrides_file(tmp_path: Path) -> None:
    """UPLOADER_REGISTRY__BASE_URL and UPLOADER_LIMITS__ACCOUNT override the file's values."""
    path = write(tmp_path, '[registry]\nbase_url = "http://file"\n')
    env = {
        "UPLOADER_REGISTRY__BASE_URL": "http://env",
        "UPLOADER_LIMITS__ACCOUNT": "60/60s",
        "UPLOADER_QUEUE": "memory:",
        "UPLOADER_REGISTRY__TIMEOUT_S": "2.5",
    }
    settings = config.load(path, env=env)
    assert settings.registry.base_url == "http://env"
    assert settings.limits.account == "60/60s"
    assert settings.queue == "memory:"
    assert settings.registry.timeout_s == 2.5


def test_env_accounts_as_json() -> None:
    """UPLOADER_ACCOUNTS takes a JSON list of account tables."""
    env = {"UPLOADER_ACCOUNTS": '[{"id": "a", "token_env": "A_TOKEN"}]'}
    settings = config.load(None, env=env)
    assert settings.account_ids == {"a"}


def test_missing_named_file_is_an_error(tmp_path: Path) -> None:
    """A configuration file named explicitly must exist."""
    with pytest.raises(ConfigError, match="does not exist"):
        config.load(tmp_path / "nope.toml", env={})


def test_unknown_account_lists_the_known_ones() -> None:
    """Asking for an account that is not configured names the configured ones."""
    settings = config.from_dict({"accounts": [{"id": "a"}]})
    with pytest.raises(ConfigError, match=r"unknown account 'b'.*a"):
        settings.account("b")


def test_masked_hides_secrets() -> None:
    """masked() replaces inline secrets and the repr never shows them."""
    settings = config.from_dict({"accounts": [{"id": "a", "token": "s3cret-value"}]})
    assert "s3cret-value" not in str(config.masked(settings))
    assert "s3cret-value" not in repr(settings)
    assert config.masked(settings)["accounts"][0]["token"] == "***"


def test_max_records_bounded() -> None:
    """max_records_per_request cannot exceed the registry's 3000."""
    with pytest.raises(ConfigError, match="max_records_per_request"):
        config.from_dict({"registry": {"max_records_per_request": 3001}})


@pytest.mark.parametrize("queue", ["memory:", "sqlite:q.db"])
def test_a_shared_ip_budget_needs_a_queue_replicas_share(queue: str) -> None:
    """limits.ip_shared is refused on a queue only one host opens, naming the key."""
    with pytest.raises(ConfigError, match=r"limits\.ip_shared: .*one host.s \(use redis://"):
        config.from_dict({"queue": queue, "limits": {"ip_shared": True}})
    shared = config.from_dict({"queue": "redis://h:6379/0", "limits": {"ip_shared": True}})
    assert shared.limits.ip_shared


def test_secret_variable_with_the_prefix_is_not_a_setting(tmp_path: Path) -> None:
    """A variable named by `ingest_token_env` holds a secret even when it starts with UPLOADER_."""
    path = write(tmp_path, '[server]\ningest_token_env = "UPLOADER_INGEST_TOKEN"\n')
    settings = config.load(path, env={"UPLOADER_INGEST_TOKEN": "s3cret"})
    assert settings.server.ingest_token_env == "UPLOADER_INGEST_TOKEN"
    with pytest.raises(ConfigError, match="ingest_token: unknown key"):
        config.load(write(tmp_path, ""), env={"UPLOADER_INGEST_TOKEN": "s3cret"})


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ({"every": "daily"}, "reconcile.every"),
        ({"every": "0h"}, "reconcile.every"),
        ({"days": 0}, "reconcile.days"),
        ({"budget_share": 0}, "reconcile.budget_share"),
        ({"budget_share": 1.5}, "reconcile.budget_share"),
    ],
)
def test_bad_reconcile_settings_are_named(table: dict[str, object], key: str) -> None:
    """A schedule that is no duration, no days or a share outside (0, 1] names its key."""
    with pytest.raises(ConfigError, match=key):
        config.from_dict({"reconcile": table})


def test_reconcile_is_off_by_default_and_reads_durations() -> None:
    """No schedule unless `every` is set; durations take s, m, h and d."""
    assert config.from_dict({}).reconcile.every == ""
    assert config.from_dict({"reconcile": {"every": "24h"}}).reconcile.days == 7
    seconds = [config.parse_duration(text) for text in ("90s", "30m", "24h", "1.5d")]
    assert seconds == [90.0, 1800.0, 86400.0, 129600.0]
