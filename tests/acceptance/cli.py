"""Running `uploader` in a subprocess, as a user does, for the acceptance tests."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Run:
    """What one `uploader` process did."""

    code: int
    out: str
    err: str


async def uploader(workdir: Path, *argv: str, env: Mapping[str, str] | None = None) -> Run:
    """`uploader --config uploader.toml ARGV...` in `workdir`, with `env` added."""
    environment = {**os.environ, **(env or {})}
    environment.pop("UPLOADER_CONFIG", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "uploader", "--config", "uploader.toml", *argv,
        cwd=workdir, env=environment,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode is not None
    return Run(process.returncode, out.decode(), err.decode())
