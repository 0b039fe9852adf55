"""The README's first-delivery walkthrough, run line for line in bash against the simulator."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "## A first delivery, step by step"


def walkthrough() -> str:
    """The shell block of the README's walkthrough section, exactly as printed."""
    section = README.read_text().split(SECTION, 1)[1].split("\n## ", 1)[0]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


@pytest.mark.slow
def test_the_readme_walkthrough_delivers_a_record(tmp_path: Path) -> None:
    """Pasted into bash, the walkthrough ends with the record sent and held by the simulator."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("UPLOADER_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    # The one addition: this machine runs other tests at once, so `run` serves its own HTTP
    # surface on a free port instead of the example's 127.0.0.1:8787.
    env["UPLOADER_SERVER__LISTEN"] = "127.0.0.1:0"
    shell = subprocess.Popen(
        ["bash", "-e", "-c", walkthrough()],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # the simulator runs in the background: one group to stop
    )
    try:
        out, err = shell.communicate(timeout=90)
    finally:
        if shell.poll() is None:
            os.killpg(shell.pid, signal.SIGKILL)
    assert shell.returncode == 0, err
    lines = out.splitlines()
    assert "configuration OK" in lines
    assert "accepted 1 (1 queued, 0 unchanged, 0 superseded), rejected 0" in out
    status = next(line.split() for line in lines if line.startswith("acme-solar"))
    assert status[:5] == ["acme-solar", "0", "0", "1", "0"]  # pending, leased, sent, dead
    state = json.loads(next(line for line in lines if line.startswith("{")))
    assert state["records_stored"] == 1
    assert state["processes"]["Success"] == 1
    assert "simulator stopped" in err
