"""The README's first command: `uploader demo` runs end to end and prints its summary."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_quick_demo_prints_its_summary(tmp_path: Path) -> None:
    """`uploader demo --quick` drains its fleet, refuses the two bad records, and exits 0."""
    result = subprocess.run(
        [sys.executable, "-m", "uploader", "demo", "--quick", "--workdir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "registry holds 90,000 of 90,000 good records, every value exact" in out
    assert "429s the registry sent: 0" in out
    assert (tmp_path / "queue.db").exists()
    assert (tmp_path / "uploader.toml").exists()
