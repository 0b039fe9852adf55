"""The queue URL schemes: one table behind open_queue and the configuration's check."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from uploader import config
from uploader.errors import ConfigError
from uploader.queue import open_queue
from uploader.queue.schemes import SCHEMES, url_forms

REPO = Path(__file__).parents[3]
EXAMPLES = {
    "memory": "memory:",
    "sqlite": "sqlite:///var/lib/uploader/q.db",
    "redis": "redis://127.0.0.1:6379/0",
    "rediss": "rediss://127.0.0.1:6380/0?prefix=site-a",
}


@pytest.mark.parametrize("name", sorted(SCHEMES))
def test_every_scheme_passes_the_check_and_opens_its_backend(name: str) -> None:
    """Each scheme of the table is accepted by the configuration and made by its backend."""
    url = EXAMPLES[name]
    assert config.from_dict({"queue": url}).queue == url
    queue = open_queue(url)  # made, not opened
    assert type(queue).__name__ == SCHEMES[name].backend.rpartition(":")[2]


@pytest.mark.parametrize("url", ["postgres://h/db", "redis:h", "sqlite", ""])
def test_an_unknown_scheme_is_refused_alike_by_both(url: str) -> None:
    """The configuration and open_queue refuse the same URLs, listing the same forms."""
    assert url_forms().startswith("memory:, sqlite:PATH")
    with pytest.raises(ConfigError, match=f"queue: must be {url_forms()}"):
        config.from_dict({"queue": url})
    with pytest.raises(ConfigError, match=f"is not {url_forms()}"):
        open_queue(url)


def test_the_configuration_loads_no_queue_backend() -> None:
    """Checking a queue URL imports neither sqlite3 nor redis-py (nor asyncio)."""
    child = subprocess.run(
        [sys.executable, "-c", "import sys, uploader.config\n"
         "print(sorted(m for m in sys.modules if m.split('.')[0] in "
         "('sqlite3', 'redis', 'asyncio') or m.startswith('uploader.queue.')))"],
        capture_output=True, text=True, cwd=REPO, check=False,
    )  # fmt: skip
    assert child.stdout.split() == [
        "['uploader.queue.base',",
        "'uploader.queue.delivery',",
        "'uploader.queue.schemes',",
        "'uploader.queue.slots',",
        "'uploader.queue.types']",
    ], child.stderr
