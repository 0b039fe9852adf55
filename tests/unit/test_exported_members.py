"""Every public package re-exports exactly the names in its sorted __all__."""

from __future__ import annotations

import importlib

import pytest

PACKAGES = [
    "uploader",
    "uploader.http",
    "uploader.ingest",
    "uploader.queue",
    "uploader.registration",
    "uploader.registry.wire",
]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_sorted_and_importable(name: str) -> None:
    """__all__ is sorted and every name in it exists."""
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported)
    for member in exported:
        assert hasattr(module, member), member
