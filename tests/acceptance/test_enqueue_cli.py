"""`uploader enqueue`, `status` and `dead-letter` in a subprocess, on an SQLite queue file."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

HEADER = "RemoteInvId,Timestamp,PeriodProductionInKWh,AccumulatedEnergyInKWh\n"
TODAY = dt.date.today()
DAY = [(TODAY - dt.timedelta(days=n)).isoformat() for n in range(10, 0, -1)]
FUTURE = (TODAY + dt.timedelta(days=1)).isoformat()

CONFIG = """\
queue = "sqlite:///{db}"

[[accounts]]
id = "acme"
token_env = "ACME_TOKEN"

[[accounts]]
id = "bolt"
token_env = "BOLT_TOKEN"
"""


@dataclass(frozen=True)
class Run:
    """What one `uploader` process did."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        """stdout as JSON."""
        return json.loads(self.out)


Cli = Callable[..., Run]


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """`uploader --config uploader.toml ARGS...` run in tmp_path, stdin optional."""
    (tmp_path / "uploader.toml").write_text(CONFIG.format(db=tmp_path / "queue.db"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("UPLOADER_")}

    def run(*args: str, stdin: str | None = None) -> Run:
        command = [sys.executable, "-m", "uploader", "--config", "uploader.toml", *args]
        done = subprocess.run(
            command, cwd=tmp_path, env=env, input=stdin, capture_output=True, text=True, timeout=60
        )
        return Run(done.returncode, done.stdout, done.stderr)

    return run


MIXED = HEADER + "".join(
    [
        f"INV1,{DAY[0]},1.5,100\n",  # line 2: good
        f"INV1,{DAY[1]},abc,101\n",  # line 3: not a number
        f"INV1,{DAY[2]},2.25,102.25\n",  # line 4: good
        f"INV1,{FUTURE},1,110\n",  # line 5: future day
        f",{DAY[3]},1,1\n",  # line 6: empty RemoteInvId
        f"INV2,{DAY[3]},0.1234,5\n",  # line 7: good, rounded
        f"INV2,{DAY[4]}\n",  # line 8: short row
        f"INV2,{DAY[5]},-2,7\n",  # line 9: negative
    ]
)
BAD_LINES = {
    3: "not a number",
    5: "in the future",
    6: "RemoteInvId is empty",
    8: "expected 4 fields",
    9: "is negative",
}


def test_a_mixed_file_queues_every_good_row_and_lists_every_bad_one(
    cli: Cli, tmp_path: Path
) -> None:
    """Exit 1; the good rows are pending; each bad row is a dead letter with line and reason."""
    (tmp_path / "mixed.csv").write_text(MIXED)
    run = cli("enqueue", "--account", "acme", "mixed.csv")
    assert run.code == 1, run.err
    assert "accepted 3 (3 queued, 0 unchanged, 0 superseded), rejected 5" in run.out
    assert "rounded 1" in run.out
    assert "mixed.csv:3: PeriodProductionInKWh 'abc' is not a number" in run.err

    status = cli("status", "--json").json()
    assert status["accounts"]["acme"]["pending"] == 3
    assert status["total"]["pending"] == 3
    assert status["accounts"]["bolt"]["pending"] == 0

    dead = cli("dead-letter", "list", "--json").json()
    found = {int(d["source"].rsplit(":", 1)[1]): d["reason"] for d in dead}
    assert found.keys() == BAD_LINES.keys()
    for line, reason in BAD_LINES.items():
        assert reason in found[line]
    assert all(d["source"].startswith("mixed.csv:") for d in dead)


def test_status_before_any_enqueue_shows_zeros_and_creates_no_file(
    cli: Cli, tmp_path: Path
) -> None:
    """`status` on a queue file that does not exist yet lists zeros and leaves no file behind."""
    run = cli("status", "--json")
    assert run.code == 0, run.err
    assert run.json()["accounts"]["acme"]["pending"] == 0
    assert "nothing was enqueued" in run.err
    assert not (tmp_path / "queue.db").exists()


def test_running_the_same_file_again_changes_nothing(cli: Cli, tmp_path: Path) -> None:
    """The second run finds every good row unchanged and adds no dead letter."""
    (tmp_path / "mixed.csv").write_text(MIXED)
    cli("enqueue", "--account", "acme", "mixed.csv")
    before = (cli("status", "--json").json(), cli("dead-letter", "list", "--json").json())
    again = cli("enqueue", "--account", "acme", "mixed.csv")
    after = (cli("status", "--json").json(), cli("dead-letter", "list", "--json").json())
    assert again.code == 1
    assert "accepted 3 (0 queued, 3 unchanged, 0 superseded), rejected 5" in again.out
    for document in (before[0], after[0]):
        for counts in [*document["accounts"].values(), document["total"]]:
            counts.pop("oldest_pending_age_s")
        document.pop("generated_at")
    assert before == after


def test_a_clean_file_exits_0_and_a_correction_is_queued(cli: Cli, tmp_path: Path) -> None:
    """All rows accepted: exit 0; a changed value of a queued row counts as queued again."""
    (tmp_path / "a.csv").write_text(HEADER + f"INV1,{DAY[0]},1,10\nINV1,{DAY[1]},2,12\n")
    (tmp_path / "b.csv").write_text(HEADER + f"INV1,{DAY[1]},2.5,12.5\n")
    first = cli("enqueue", "--account", "acme", "a.csv")
    second = cli("enqueue", "--account", "acme", "b.csv", "a.csv")
    assert (first.code, second.code) == (0, 0)
    assert (
        "accepted 3 (2 queued, 1 unchanged, 0 superseded)" in second.out
    )  # b corrects, a rewinds it
    assert cli("status", "--json").json()["accounts"]["acme"]["pending"] == 2


def test_stdin_json_lines_with_an_account_key(cli: Cli) -> None:
    """`-` reads stdin; JSON Lines rows may name their account; numbers stay exact."""
    lines = [
        {"Account": "bolt", "RemoteInvId": "B1", "Timestamp": DAY[0],
         "PeriodProductionInKWh": 0.1, "AccumulatedEnergyInKWh": 1234567.891},
        {"Account": "zed", "RemoteInvId": "Z1", "Timestamp": DAY[0],
         "PeriodProductionInKWh": 1, "AccumulatedEnergyInKWh": 1},
    ]  # fmt: skip
    stdin = "".join(json.dumps(line) + "\n" for line in lines)
    run = cli("enqueue", "--format", "jsonl", "-", stdin=stdin)
    assert run.code == 1
    assert "stdin:2: unknown account 'zed'" in run.err
    assert cli("status", "--json").json()["accounts"]["bolt"]["pending"] == 1
    (dead,) = cli("dead-letter", "list", "--json").json()
    assert dead["account"] is None
    assert dead["raw"].startswith('{"Account": "zed"')


@pytest.mark.parametrize(
    ("args", "files", "message"),
    [
        (["--account", "nobody", "a.csv"], {"a.csv": HEADER}, "unknown account 'nobody'"),
        (["--account", "acme", "a.csv", "gone.csv"], {"a.csv": HEADER + "X,2024-01-01,1,1\n"},
         "gone.csv: cannot read"),
        (["--account", "acme", "c.csv"], {"c.csv": "RemoteInvId,Timestamp\n"},
         "c.csv: the header has no column PeriodProductionInKWh"),
        (["a.csv"], {"a.csv": HEADER}, "a.csv: no Account column; give --account ID"),
        (["--account", "acme", "a.txt"], {"a.txt": HEADER}, "cannot tell the format"),
        (["--account", "acme", "-"], {}, "reading stdin (-) needs --format"),
    ],
)  # fmt: skip
def test_usage_errors_exit_2_and_queue_nothing(
    cli: Cli, tmp_path: Path, args: list[str], files: dict[str, str], message: str
) -> None:
    """A bad account, file, header or format stops the command before any row is queued."""
    for name, content in files.items():
        (tmp_path / name).write_text(content)
    run = cli("enqueue", *args)
    assert run.code == 2
    assert message in run.err
    assert cli("status", "--json").json()["total"]["pending"] == 0


def test_a_bad_configuration_exits_2(cli: Cli, tmp_path: Path) -> None:
    """A queue URL the uploader cannot use, or a file it cannot open, is a configuration error."""
    (tmp_path / "uploader.toml").write_text('queue = "redis://127.0.0.1:6379/zero"\n')
    run = cli("status")
    assert run.code == 2
    assert "the database must be a number" in run.err
    (tmp_path / "plain").write_text("")
    (tmp_path / "uploader.toml").write_text('queue = "sqlite:plain/queue.db"\n')
    run = cli("dead-letter", "list")
    assert run.code == 2
    assert "cannot create plain" in run.err


def test_status_shows_every_configured_account(cli: Cli, tmp_path: Path) -> None:
    """The table lists each configured account, then the total."""
    (tmp_path / "a.csv").write_text(HEADER + f"INV1,{DAY[0]},1,10\n")
    cli("enqueue", "--account", "bolt", "a.csv")
    lines = cli("status").out.splitlines()
    assert lines[0].split()[:5] == ["ACCOUNT", "PENDING", "LEASED", "SENT", "DEAD"]
    assert [line.split()[:2] for line in lines[1:]] == [["acme", "0"], ["bolt", "1"],
                                                         ["total", "1"]]  # fmt: skip


def test_dead_letters_can_be_listed_replayed_and_purged(cli: Cli, tmp_path: Path) -> None:
    """Raw rows cannot be replayed (and say so); purge forgets them; a bad date exits 2."""
    (tmp_path / "mixed.csv").write_text(MIXED)
    cli("enqueue", "--account", "acme", "mixed.csv")
    listing = cli("dead-letter", "list").out.splitlines()
    assert len(listing) == 5
    assert "mixed.csv:3: PeriodProductionInKWh 'abc' is not a number" in listing[0]
    replay = cli("dead-letter", "replay")
    assert "replayed 0 records" in replay.out
    assert "5 rows refused at ingest cannot be replayed" in replay.out
    assert cli("dead-letter", "purge", "--before", "yesterday").code == 2
    assert (
        "not a date in the form YYYY-MM-DD"
        in cli("dead-letter", "purge", "--before", "20240101").err
    )
    assert "purged 0 dead letters" in cli("dead-letter", "purge", "--before", DAY[0]).out
    assert "purged 5 dead letters" in cli("dead-letter", "purge").out
    assert cli("dead-letter", "list", "--json").json() == []


def test_reinterpreted_input_is_refused_naming_file_line_and_field(
    cli: Cli, tmp_path: Path
) -> None:
    """CSV and JSON Lines alike refuse values and ids that would be silently read otherwise."""
    (tmp_path / "odd.csv").write_text(
        HEADER
        + f"INV1,{DAY[0]},1_000,1\n"  # line 2
        + f"INV1,{DAY[1]},١٢,1\n"  # line 3
        + f"INV1,{DAY[2]},1,999999999999999.9999\n"  # line 4
        + f"INV1\t,{DAY[3]},1,1\n"  # line 5
        + f"INV1\x00,{DAY[4]},1,1\n"  # line 6
        + f"INV1,{DAY[5]},1,1\n"  # line 7: good
    )
    rows = [
        {"RemoteInvId": "J1\u0000", "Timestamp": DAY[0], "PeriodProductionInKWh": "1",
         "AccumulatedEnergyInKWh": "1"},
        {"RemoteInvId": "J1", "Timestamp": DAY[1], "PeriodProductionInKWh": "١",
         "AccumulatedEnergyInKWh": "1"},
        {"RemoteInvId": "J1\u2028", "Timestamp": DAY[2], "PeriodProductionInKWh": "1",
         "AccumulatedEnergyInKWh": "1"},
    ]  # fmt: skip
    (tmp_path / "odd.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    run = cli("enqueue", "--account", "acme", "odd.csv", "odd.jsonl")
    assert run.code == 1
    assert "accepted 1 (1 queued" in run.out
    for expected in [
        "odd.csv:2: PeriodProductionInKWh '1_000' is not a number",
        "odd.csv:3: PeriodProductionInKWh '١٢' is not a number",
        "odd.csv:4: AccumulatedEnergyInKWh 999999999999999.9999 is too large",
        "odd.csv:5: RemoteInvId 'INV1\\t' contains the non-printable character U+0009",
        "odd.csv:6: RemoteInvId 'INV1\\x00' contains the non-printable character U+0000",
        "odd.jsonl:1: RemoteInvId 'J1\\x00' contains the non-printable character U+0000",
        "odd.jsonl:2: PeriodProductionInKWh '١' is not a number",
        "odd.jsonl:3: RemoteInvId 'J1\\u2028' contains the non-printable character U+2028",
    ]:
        assert expected in run.err


def test_a_bad_json_line_is_a_dead_letter_and_reading_goes_on(cli: Cli, tmp_path: Path) -> None:
    """Undecodable bytes and deep nesting mid-file: dead letters with line numbers; rest queued."""
    good = [
        json.dumps({"RemoteInvId": f"INV{n}", "Timestamp": DAY[0], "PeriodProductionInKWh": "1",
                    "AccumulatedEnergyInKWh": "1"}).encode()
        for n in range(12_000)
    ]  # fmt: skip
    bad = [b'{"RemoteInvId": "INV-\xff"}', b"[" * 5000 + b"]" * 5000]
    (tmp_path / "big.jsonl").write_bytes(b"\n".join([*good[:10_000], *bad, *good[10_000:]]) + b"\n")
    run = cli("enqueue", "--account", "acme", "big.jsonl")
    assert run.code == 1, run.err
    assert "Traceback" not in run.err
    assert "12,002 rows from 1 file: accepted 12,000" in run.out
    assert "big.jsonl:10001: not JSON: not UTF-8" in run.err
    assert "big.jsonl:10002: not JSON: nested too deeply" in run.err
    assert cli("status", "--json").json()["accounts"]["acme"]["pending"] == 12_000
    dead = cli("dead-letter", "list", "--json").json()
    assert sorted(d["source"] for d in dead) == ["big.jsonl:10001", "big.jsonl:10002"]


def test_a_repeated_row_is_reported_as_superseded_with_its_line(cli: Cli, tmp_path: Path) -> None:
    """Two rows for one inverter and day: the later wins, the earlier is superseded by line."""
    (tmp_path / "twice.csv").write_text(
        HEADER
        + f"INV1,{DAY[0]},1,10\n"  # line 2: replaced by line 4
        + f"INV1,{DAY[1]},2,12\n"  # line 3
        + f"INV1,{DAY[0]},1.5,10.5\n"  # line 4
        + f"INV2,{DAY[0]},1,1\n"  # line 5: replaced by line 6, with the same values
        + f"INV2,{DAY[0]},1,1\n"  # line 6
    )
    run = cli("enqueue", "--account", "acme", "twice.csv")
    assert run.code == 0, run.err
    assert "5 rows from 1 file: accepted 5 (3 queued, 0 unchanged, 2 superseded)" in run.out
    assert "twice.csv:2: superseded by line 4 (same RemoteInvId and Timestamp)" in run.err
    assert "twice.csv:5: superseded by line 6 (same RemoteInvId and Timestamp)" in run.err
    status = cli("status", "--json").json()
    assert status["accounts"]["acme"]["pending"] == 3
    again = cli("enqueue", "--account", "acme", "twice.csv")
    assert "accepted 5 (0 queued, 3 unchanged, 2 superseded)" in again.out


def test_a_row_superseded_from_an_earlier_chunk_counts_once(cli: Cli, tmp_path: Path) -> None:
    """A repeat 6,000 lines later (another queue transaction) still counts as superseded."""
    rows = [f"INV{n},{DAY[0]},1,{n}\n" for n in range(6000)]
    rows += [f"INV0,{DAY[0]},1,0\n", f"INV1,{DAY[0]},2,1\n"]  # same values; a new value
    (tmp_path / "long.csv").write_text(HEADER + "".join(rows))
    run = cli("enqueue", "--account", "acme", "long.csv")
    assert "accepted 6,002 (6,000 queued, 0 unchanged, 2 superseded)" in run.out
    assert "long.csv:2: superseded by line 6002" in run.err
    assert "long.csv:3: superseded by line 6003" in run.err
    assert cli("status", "--json").json()["accounts"]["acme"]["pending"] == 6000
    again = cli("enqueue", "--account", "acme", "long.csv")  # line 3 changes INV1, 6003 back
    assert "accepted 6,002 (1 queued, 5,999 unchanged, 2 superseded)" in again.out
