"""The Dockerfile's promises, checked without a Docker engine.

No engine runs here, so the image is never built; instead its final stage is read and what it
would run is run: the ENTRYPOINT and CMD with the image's ENV (paths moved into tmp_path, the
port to a free one on 127.0.0.1), then the HEALTHCHECK command against it, then SIGTERM.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from tests.ports import free_port
from uploader.config import WorkerSettings
from uploader.http.server import SHUTDOWN_TIMEOUT_S

ROOT = Path(__file__).resolve().parents[2]
VOLUME = "/var/lib/uploader"


@dataclass
class Stage:
    """The instructions of one build stage, as Docker reads them."""

    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, name: str) -> list[str]:
        return [args for op, args in self.instructions if op == name]

    def last(self, name: str) -> str:
        found = self.all(name)
        assert found, f"no {name} in the stage"
        return found[-1]

    def env(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for args in self.all("ENV"):
            for word in shlex.split(args):
                key, _, value = word.partition("=")
                values[key] = value
        return values


def stages() -> list[Stage]:
    """The Dockerfile's stages; continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    found: list[Stage] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        op, _, args = line.strip().partition(" ")
        if op.upper() == "FROM":
            found.append(Stage())
        found[-1].instructions.append((op.upper(), args.strip()))
    return found


def image_env(tmp_path: Path, port: int) -> dict[str, str]:
    """The environment the image's process would see, moved onto this machine."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("UPLOADER_")}
    for key, value in stages()[-1].env().items():
        if key != "PATH":
            env[key] = value.replace(VOLUME, str(tmp_path))
    env["UPLOADER_SERVER__LISTEN"] = f"127.0.0.1:{port}"
    return env


def test_final_stage_is_a_non_root_service_on_a_volume() -> None:
    """Non-root user, the queue on the volume, SIGTERM, entrypoint `uploader` and command `run`."""
    final = stages()[-1]
    assert final.last("USER").split(":")[0] not in ("root", "0")
    assert final.last("VOLUME") == VOLUME
    assert final.env()["UPLOADER_QUEUE"] == f"sqlite://{VOLUME}/queue.db"
    assert final.env()["UPLOADER_SERVER__LISTEN"] == "0.0.0.0:8787"
    assert final.last("STOPSIGNAL") == "SIGTERM"
    assert json.loads(final.last("ENTRYPOINT")) == ["uploader"]
    assert json.loads(final.last("CMD")) == ["run"]
    assert final.last("FROM").startswith("python:3.11-slim")


def test_the_image_installs_with_the_makefile_target_ci_runs() -> None:
    """The build stage runs `make install`, the Makefile target that `make test` also runs."""
    build = stages()[0]
    assert any(run.startswith("make install ") for run in build.all("RUN"))
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^install:", makefile, re.MULTILINE)
    assert re.search(r"^test:.*\binstall-check\b", makefile, re.MULTILINE)
    assert re.search(r"^install-check: install\b", makefile, re.MULTILINE)


def test_the_build_stage_copies_the_pins_the_install_reads() -> None:
    """`make install` installs under constraints.txt, and the build stage copies that file."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\ninstall:", 1)[1].split("\n\n", 1)[0]
    assert "-c constraints.txt" in recipe
    copied = " ".join(stages()[0].all("COPY"))
    assert "constraints.txt" in copied.split()


def test_constraints_agree_with_the_direct_pins() -> None:
    """Every dependency pinned in pyproject.toml has the same version in constraints.txt."""
    with (ROOT / "pyproject.toml").open("rb") as file:
        project = tomllib.load(file)["project"]
    extras = project["optional-dependencies"].values()
    direct = [*project["dependencies"], *(pin for extra in extras for pin in extra)]
    pins = dict(_pin(line) for line in (ROOT / "constraints.txt").read_text().splitlines()
                if line and not line.startswith("#"))  # fmt: skip
    for requirement in direct:
        name, version = _pin(requirement)
        assert pins.get(name) == version, requirement


def _pin(requirement: str) -> tuple[str, str]:
    name, _, version = requirement.partition("==")
    return re.sub(r"[-_.]+", "-", name.strip().lower()), version.strip()


def test_compose_grace_period_outlasts_the_shutdown() -> None:
    """compose's stop_grace_period outlasts the default shutdown: batches, then HTTP requests."""
    compose = (ROOT / "compose.yaml").read_text()
    periods = [int(s) for s in re.findall(r"stop_grace_period:\s*(\d+)s", compose)]
    assert periods
    assert min(periods) > WorkerSettings().shutdown_timeout_s + SHUTDOWN_TIMEOUT_S


def test_entrypoint_serves_the_health_check_and_stops_on_sigterm(tmp_path: Path) -> None:
    """ENTRYPOINT + CMD with the image's ENV serve the HEALTHCHECK; SIGTERM then exits 0."""
    final = stages()[-1]
    port = free_port()
    env = image_env(tmp_path, port)
    # An operator configures at least one account; the image refuses to run without one.
    env["UPLOADER_ACCOUNTS"] = '[{"id": "acme", "token_env": "ACME_TOKEN"}]'
    env["ACME_TOKEN"] = "token-of-acme"
    entry = json.loads(final.last("ENTRYPOINT")) + json.loads(final.last("CMD"))
    entry[0] = str(Path(sys.executable).parent / entry[0])  # the console script pip installed
    check = json.loads(final.last("HEALTHCHECK").partition("CMD ")[2])
    check[0] = sys.executable if check[0] == "python" else check[0]
    with subprocess.Popen(
        entry, env=env, cwd=tmp_path, stdout=subprocess.PIPE, text=True
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:  # the JSON log line saying the HTTP surface is up
            if json.loads(line).get("event") == "serving":
                break
        healthy = subprocess.run(check, env=env, check=False, timeout=10)
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=WorkerSettings().shutdown_timeout_s + 10)
    assert healthy.returncode == 0
    assert code == 0
    assert (tmp_path / "queue.db").exists()
    assert subprocess.run(check, env=env, check=False, capture_output=True).returncode != 0
