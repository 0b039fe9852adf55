"""The patched loop clock every limiter test moves by hand."""

from __future__ import annotations

import asyncio

import pytest

from tests.unit.registry.loopclock import Clock


@pytest.fixture
async def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Patch the running loop's clock."""
    fake = Clock()
    monkeypatch.setattr(asyncio.get_running_loop(), "time", fake)
    return fake
