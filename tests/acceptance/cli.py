"""Running `uploader` in a subprocess, as a user does, for the acceptance tests."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from uploader.simulator import FakeRegistry

TOKENS = {"ACME_TOKEN": "tok-acme"}  # the environment every test's config names acme's token by


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


@dataclass(frozen=True)
class Site:
    """A running simulator and a working directory whose config points at it."""

    sim: FakeRegistry
    workdir: Path

    async def uploader(self, *argv: str) -> Run:
        """`uploader ARGV...` in the working directory, with its config and acme's token."""
        return await uploader(self.workdir, *argv, env=TOKENS)

    def requests(self) -> int:
        """How many requests the simulator has seen."""
        total: int = self.sim.state(summary=True)["requests"]["total"]
        return total
