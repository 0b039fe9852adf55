"""The import graph of `uploader`: no circles, and a simulator that reads nothing of the client.

The graph is built from the source, not by importing it: every module under `uploader/`
is parsed, and each import statement at module level is an edge, including those under
`if TYPE_CHECKING:` (a circle that only type checkers follow still ties two modules
together). Imports inside functions are the deliberate way to load something late and do
not count. `from pkg import name` leads to `pkg.name` when that is a module, else to `pkg`.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import uploader

ROOT = Path(uploader.__file__).parent
PACKAGE = "uploader"
SIMULATOR = "uploader.simulator"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def _top_level(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Import statements run at import time: module level, and inside if/try blocks there."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If):
            yield from _top_level(node.body)
            yield from _top_level(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                yield from _top_level(block)
            for handler in node.handlers:
                yield from _top_level(handler.body)


def _absolute(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def imports_of(module: str) -> set[str]:
    """The `uploader` modules that `module` imports at module level."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in _top_level(tree.body):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
            continue
        source = _absolute(module, node)
        for alias in node.names:
            submodule = f"{source}.{alias.name}"
            found.add(submodule if submodule in MODULES else source)
    return {name for name in found if name in MODULES}


GRAPH = {module: imports_of(module) for module in MODULES}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (or a module importing itself)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's algorithm; the graph has ~150 nodes
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in graph[node]:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_the_graph_is_built_from_real_imports() -> None:
    """The parser sees known edges: relative, `from pkg import module`, and type-only ones."""
    assert "uploader.simulator.core" in GRAPH["uploader.simulator.app"]
    assert "uploader.simulator.responses" in GRAPH["uploader.simulator.metadata"]
    assert "uploader.simulator.app" in GRAPH["uploader.simulator"]  # under TYPE_CHECKING
    relative = ast.parse("from ..wire import codec").body[0]
    assert isinstance(relative, ast.ImportFrom)
    assert _absolute("uploader.simulator.app", relative) == "uploader.wire"
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"a"}, "b": set()}) == [["a"]]


def test_no_import_circle_in_the_simulator() -> None:
    """No module of `uploader.simulator` is part of an import circle."""
    tangled = [group for group in circles(GRAPH) if any(m.startswith(SIMULATOR) for m in group)]
    assert tangled == []


def test_no_import_circle_anywhere_in_uploader() -> None:
    """No two modules of `uploader` import each other, directly or through others."""
    assert circles(GRAPH) == []


def test_the_simulator_imports_nothing_of_the_client() -> None:
    """The simulator is an independent reading of the registry's documentation."""
    simulator = {m for m in MODULES if m == SIMULATOR or m.startswith(SIMULATOR + ".")}
    outside = {
        (module, target)
        for module in sorted(simulator)
        for target in GRAPH[module]
        if target not in simulator
    }
    assert outside == set()
    assert simulator >= {"uploader.simulator.app", "uploader.simulator.registration"}


def test_the_simulators_options_state_and_rules_load_without_aiohttp() -> None:
    """The simulator's package, options, state and rules do not load aiohttp; its app does."""
    code = (
        "import sys\n"
        "from uploader.simulator import SimOptions, ManualClock, RateSpec\n"
        "import uploader.simulator.state, uploader.simulator.checks, uploader.simulator.fastpath\n"
        "import uploader.simulator.registration_rules, uploader.simulator.bodies\n"
        "print('aiohttp' in sys.modules)\n"
        "from uploader.simulator import FakeRegistry\n"
        "print('aiohttp' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "True"]
