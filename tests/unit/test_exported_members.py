"""Every public package exports exactly its public names, in a sorted __all__ (httpx's test)."""

from __future__ import annotations

import importlib
import types

import pytest

PACKAGES = [
    "uploader",
    "uploader.http",
    "uploader.ingest",
    "uploader.queue",
    "uploader.registration",
    "uploader.registry.wire",
]
INCLUDED_PRIVATE = {"__version__"}


def public_names(module: types.ModuleType) -> set[str]:
    """What a user can take from the module: its own public values and its lazy names."""
    names = {
        name
        for name, value in vars(module).items()
        if (not name.startswith("_") or name in INCLUDED_PRIVATE)
        and not isinstance(value, types.ModuleType)  # submodules, set by the import system
        and not getattr(value, "__module__", "").startswith("__future__")
    }
    return names | set(getattr(module, "_LAZY", {}))


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_exactly_the_public_names(name: str) -> None:
    """__all__ is sorted, every name in it exists, and no public name is missing from it."""
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported)
    assert set(exported) == public_names(module)
    for member in exported:
        assert hasattr(module, member), member
