"""The command line: its table of commands, and that a command imports only its own module."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from uploader import cli


def test_table_names_the_commands_the_modules_register() -> None:
    """Each COMMANDS entry's module registers a subcommand of exactly that name."""
    parser = cli.build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert list(subparsers.choices) == list(cli.COMMANDS)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["run", "--drain"], "run"),
        (["--config", "u.toml", "status", "--json"], "status"),
        (["--config=u.toml", "dead-letter", "list"], "dead-letter"),
        (["--help"], None),
        (["runn"], None),
        ([], None),
    ],
)
def test_command_in(argv: list[str], expected: str | None) -> None:
    """The subcommand is found after global options, and unknown words name none."""
    assert cli.command_in(argv) == expected


def test_a_light_command_does_not_import_aiohttp() -> None:
    """`uploader earliest-claim-date` runs without loading the HTTP stack."""
    code = (
        "import sys; from uploader.cli import main; "
        "main(['earliest-claim-date', '--on', '2024-06-01']); "
        "print('aiohttp' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30
    )
    assert result.stdout.split() == ["2023-07-01", "False"]


def test_unknown_command_lists_every_command() -> None:
    """A typo is refused with exit 2 and the list of real commands."""
    result = subprocess.run(
        [sys.executable, "-m", "uploader", "runn"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "earliest-claim-date" in result.stderr
    assert "dead-letter" in result.stderr


def test_run_without_accounts_is_a_configuration_error(tmp_path: Path) -> None:
    """`uploader run` with no [[accounts]] exits 2 and says what to add."""
    config = tmp_path / "uploader.toml"
    config.write_text(f'queue = "sqlite:///{tmp_path / "q.db"}"\n')
    result = subprocess.run(
        [sys.executable, "-m", "uploader", "--config", str(config), "run", "--drain"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "no account is configured" in result.stderr


@pytest.mark.parametrize(
    "given", ["20240101", "2024-1-01", "2024-01-0١", "2024-02-30", " 2024-01-01"]
)
def test_earliest_claim_date_takes_only_yyyy_mm_dd(
    given: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--on` must be a calendar date written YYYY-MM-DD in ASCII digits; else exit 2 naming it."""
    assert cli.main(["earliest-claim-date", "--on", given]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"--on: {given!r} is not a date in the form YYYY-MM-DD" in captured.err


def test_simulate_help_lists_the_rules_without_loading_the_simulator() -> None:
    """`simulate --help` names the auth, limit, body and inverter rules, and imports no server."""
    code = (
        "import sys\n"
        "from uploader.cli import main\n"
        "try:\n"
        "    main(['simulate', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "light = {'uploader.simulator', 'uploader.simulator.routes'}  # the package, a table\n"
        "heavy = [m for m in sys.modules\n"
        "         if m.startswith('uploader.simulator') and m not in light or m == 'aiohttp']\n"
        "print('HEAVY', sorted(heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30
    )
    assert "HEAVY []" in result.stdout
    text = " ".join(result.stdout.split())  # argparse wraps lines
    for rule in [
        "--token ACCOUNT=TOKEN makes TOKEN act for ACCOUNT",
        "any non-empty token is accepted and is itself the account id",
        "429 with Retry-After",
        "at most 3000 daily records per request",
        "3 decimal places",
        "unless --open-inverters",
        "register-grouped",
    ]:
        assert rule in text, rule
