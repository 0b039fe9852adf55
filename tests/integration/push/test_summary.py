"""`uploader run --drain` ends with a human summary on stderr and an honest exit code."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from tests.integration.push.conftest import TOKENS, over_capacity
from uploader.observe.summary import drain_summary
from uploader.push.events import Stats
from uploader.queue import AccountCounts, open_queue
from uploader.simulator import FakeRegistry, SimOptions


async def drain_cli(config_path: Path) -> tuple[int, str, str]:
    """`uploader run --drain` in a subprocess: its exit code, stdout and stderr."""
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "uploader", "--config", str(config_path), "run", "--drain"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_a_drain_summary_names_what_was_sent_refused_and_left(tmp_path: Path) -> None:
    """One record over capacity, one 429: exit 1, and stderr sums up records sent, re-sent,
    dead-lettered with their reason, still pending and the 429s received."""
    async with FakeRegistry(SimOptions(tokens=TOKENS)) as sim:
        records, bad = over_capacity(sim)
        sim.script("acme", [429], retry_after_s=1)
        queue = f"sqlite:///{tmp_path / 'queue.db'}"
        async with open_queue(queue) as opened:
            await opened.enqueue([*records, bad])
        config_path = tmp_path / "uploader.toml"
        config_path.write_text(
            f'queue = "{queue}"\n[registry]\nbase_url = "{sim.url}"\n'
            '[server]\nlisten = "127.0.0.1:0"\n'
            f'[[accounts]]\nid = "acme"\ntoken = "{TOKENS["acme"]}"\n'
        )
        code, out, err = await drain_cli(config_path)
    summary = err.strip().splitlines()
    assert code == 1
    assert summary[0] == (
        "drain: 50 records sent (101 re-sent), 1 dead-lettered, 0 still pending, 1 429s received"
    )
    assert summary[1] == "dead-lettered, by reason:"
    assert summary[2].split()[0] == "1"
    assert summary[2].split()[1] == "422"
    assert '"outcome": "refused"' in out  # the JSON logs stay on stdout


def test_the_summary_lists_the_top_reasons_and_paused_accounts() -> None:
    """Reasons come most frequent first (the rest summed up); paused accounts are named."""
    stats = Stats()
    stats.records_sent.update({"acme": 7})
    stats.records_rejected.update({"acme": 9})
    stats.dead_reasons.update({f"422 E{n}": n + 1 for n in range(6)} | {"422 E5": 4})
    stats.records_rejected.update({"acme": 12})
    left = {"acme": AccountCounts(pending=2, delayed=3, leased=1), "bolt": AccountCounts()}
    text = drain_summary(stats, left, {"acme": None, "bolt": "401: token refused"})
    assert text.splitlines() == [
        "drain: 7 records sent (0 re-sent), 21 dead-lettered, 6 still pending, 0 429s received",
        "dead-lettered, by reason:",
        "         5  422 E4",
        "         4  422 E3",
        "         4  422 E5",
        "         3  422 E2",
        "         2  422 E1",
        "         3  (other reasons: uploader dead-letter list)",
        "account bolt paused (401: token refused): its records stay queued",
    ]
    assert "? (the queue could not be read) still pending" in drain_summary(stats, None, {})
