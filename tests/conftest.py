"""Fixtures shared by every test layer."""

from __future__ import annotations

import os
import random

import pytest


@pytest.fixture
def rand(request: pytest.FixtureRequest) -> random.Random:
    """A seeded random generator; the seed is printed so a failure can be replayed."""
    seed = int(os.environ.get("TEST_SEED", random.randrange(2**32)))
    print(f"rand seed: {seed} (TEST_SEED={seed} replays it)")
    return random.Random(seed)


pytest_plugins = ["tests.redis_server"]
