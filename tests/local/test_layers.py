"""The modules of ``local/`` form layers: no import cycle between any two of them, at any nesting level.

Every import counts, also one inside a function or under ``TYPE_CHECKING``: moving an import there hides a
cycle from Python but not from the design.
"""

from __future__ import annotations

import ast
from pathlib import Path

import backendai_jupyter.local as local_package

LOCAL = Path(local_package.__file__).parent
FORBIDDEN = ("backendai_jupyter.sdk", "IPython", "ipywidgets", "traitlets")


def _imports(path: Path) -> tuple[set[str], set[str]]:
    """(sibling modules of ``local/`` that ``path`` imports, absolute module names it imports)."""
    siblings, absolute = set(), set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level == 1:
                siblings.update([module.split(".")[0]] if module else [a.name for a in node.names])
            elif node.level == 2:
                absolute.add("backendai_jupyter." + module)
            elif module.startswith("backendai_jupyter.local."):
                siblings.add(module.split(".")[2])
            else:
                absolute.add(module)
        elif isinstance(node, ast.Import):
            absolute.update(alias.name for alias in node.names)
    return siblings - {path.stem}, absolute


def _graph() -> dict[str, set[str]]:
    modules = {p.stem: p for p in LOCAL.glob("*.py")}
    return {name: _imports(path)[0] & modules.keys() for name, path in modules.items()}


def _cycle_from(graph: dict[str, set[str]], start: str) -> list[str] | None:
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        for nxt in graph[node]:
            if nxt == start:
                return [*path, start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return None


def test_no_import_cycle_inside_local() -> None:
    graph = _graph()
    cycles = [cycle for name in sorted(graph) if (cycle := _cycle_from(graph, name))]
    assert not cycles, " ; ".join(" -> ".join(c) for c in cycles)


def test_local_imports_neither_the_sdk_nor_ipython() -> None:
    for path in LOCAL.glob("*.py"):
        _, absolute = _imports(path)
        bad = sorted(m for m in absolute if m.startswith(FORBIDDEN))
        assert not bad, f"{path.name} imports {bad}"


def test_run_logic_does_not_know_the_registry() -> None:
    graph = _graph()
    assert not graph["execute"] & {"registry", "context", "sessions", "execute_routes"}
