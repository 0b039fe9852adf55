"""Fixtures of the validator's tests."""

from __future__ import annotations

from typing import Any

import pytest

from .payloads import seed_payload


@pytest.fixture
def payload() -> dict[str, Any]:
    """The seed page's valid example payload (a fresh copy per test)."""
    return seed_payload()
