"""The layers of docs/architecture.md hold: imports only point down, and nothing imports in a circle.

The layer table is read from docs/architecture.md itself, so the document and the check cannot drift apart.
For the layers every import counts, also one inside a function or under ``TYPE_CHECKING``: moving an import
there hides an arrow from Python but not from the design. For cycles between modules, the imports made when
the code runs count (also those inside functions); an import for annotations only is no cycle.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "backendai_jupyter"
ARCHITECTURE = ROOT / "docs" / "architecture.md"

#: A table row of docs/architecture.md's layer table: ``| 2 | `cellrun`, `settings` | ... | ... |``.
_ROW = re.compile(r"^\|\s*(\d+)\s*\|([^|]*)\|([^|]*)\|")
_NAME = re.compile(r"`([A-Za-z_]+)`")


@dataclass(frozen=True)
class Layers:
    """Units (subpackages or top-level modules) by rank, and the libraries each unit may not import."""

    rank: Mapping[str, int]
    banned: Mapping[str, frozenset[str]]


def read_layers(text: str) -> Layers:
    """The layer table of docs/architecture.md: rank, units, and the libraries they must not import."""
    rank: dict[str, int] = {}
    banned: dict[str, frozenset[str]] = {}
    for line in text.splitlines():
        match = _ROW.match(line)
        if not match:
            continue
        units = _NAME.findall(match.group(2))
        never = frozenset(_NAME.findall(match.group(3)))
        for unit in units:
            rank[unit] = int(match.group(1))
            banned[unit] = never
    return Layers(rank, banned)


def unit_of(module: str) -> str:
    """``backendai_jupyter.sdk.client`` -> ``sdk``; ``backendai_jupyter`` -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def module_name(path: Path, root: Path) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _nodes(tree: ast.AST, *, type_checking: bool) -> Iterator[ast.AST]:
    """Every node, without the bodies of ``if TYPE_CHECKING:`` unless ``type_checking``."""
    for node in ast.iter_child_nodes(tree):
        if not type_checking and isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (n for child in node.orelse for n in (child, *_nodes(child, type_checking=False)))
            continue
        yield node
        yield from _nodes(node, type_checking=type_checking)


def imports_of(path: Path, root: Path, *, type_checking: bool = True) -> Iterator[str]:
    """Every module ``path`` imports, as absolute names (relative imports resolved)."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in _nodes(ast.parse(path.read_text(encoding="utf-8")), type_checking=type_checking):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            if node.module is None or node.level:
                # ``from . import x`` / ``from .mod import x``: x may be a module itself
                for alias in node.names:
                    candidate = f"{prefix}.{alias.name}"
                    yield candidate if _is_module(candidate, root) else prefix
            else:
                yield prefix


def _is_module(name: str, root: Path) -> bool:
    rel = Path(*name.split(".")[1:]) if "." in name else Path()
    base = root / rel
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the package's own modules it imports when it runs (annotations only are no cycle)."""
    top = root.name
    graph: dict[str, set[str]] = {}
    for path in sorted(root.rglob("*.py")):
        imported = imports_of(path, root, type_checking=False)
        graph[module_name(path, root)] = {m for m in imported if m.split(".")[0] == top}
    return graph


def violations(root: Path, layers: Layers) -> list[str]:
    """Every import that breaks the layers: up or sideways between units, banned libraries, cycles."""
    problems: list[str] = []
    top = root.name
    for path in sorted(root.rglob("*.py")):
        module = module_name(path, root)
        unit = unit_of(module)
        if unit not in layers.rank:
            problems.append(f"{module}: unit {unit!r} is missing from the layer table")
            continue
        for imported in sorted(set(imports_of(path, root))):
            first = imported.split(".")[0]
            if first in layers.banned[unit]:
                problems.append(f"{module} imports {imported} ({unit} must not use {first})")
            if first != top:
                continue
            target = unit_of(imported)
            if target == unit:
                continue
            if target not in layers.rank:
                problems.append(f"{module} imports {imported}: unit {target!r} is not in the layer table")
            elif layers.rank[target] >= layers.rank[unit]:
                how = "sideways" if layers.rank[target] == layers.rank[unit] else "up"
                problems.append(f"{module} imports {imported}: {unit} -> {target} points {how}")
    problems.extend(f"import cycle: {' -> '.join(c)}" for c in cycles(import_graph(root)))
    return problems


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected group of modules (Tarjan), shortest path shown."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    # a package's __init__ importing its own modules is how packages work, not a cycle of design
    return [g for g in groups if not _only_package_init(g)]


def _only_package_init(group: list[str]) -> bool:
    inits = [m for m in group if any(other.startswith(m + ".") for other in group)]
    return len(inits) >= 1 and all(any(o.startswith(i + ".") for i in inits) or o in inits for o in group)


def test_the_package_keeps_its_layers() -> None:
    layers = read_layers(ARCHITECTURE.read_text(encoding="utf-8"))
    assert {"wire", "sdk", "local", "cellrun", "kernel", "magics"} <= set(layers.rank), layers.rank
    assert violations(PACKAGE, layers) == []


def _write(root: Path, files: Mapping[str, str]) -> Path:
    pkg = root / "backendai_jupyter"
    for rel, text in files.items():
        path = pkg / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return pkg


@pytest.fixture
def layers() -> Layers:
    return read_layers(ARCHITECTURE.read_text(encoding="utf-8"))


def test_the_check_fails_on_the_cycles_this_package_once_had(tmp_path: Path, layers: Layers) -> None:
    # the kernel <-> magics cycle as it was: each took things from the other
    pkg = _write(
        tmp_path,
        {
            "__init__.py": "",
            "kernel/__init__.py": "",
            "kernel/kernel.py": "def f():\n    from ..magics.binding import bind_kernel\n",
            "kernel/execution.py": "",
            "magics/__init__.py": "",
            "magics/binding.py": "",
            "magics/cmd_cell.py": "from ..kernel.execution import CellRun\n",
            "magics/magic.py": "from ..kernel.config import env_value\n",
            "kernel/config.py": "",
        },
    )
    found = violations(pkg, layers)
    assert any("kernel.kernel imports backendai_jupyter.magics.binding" in p for p in found), found
    assert any("magics.cmd_cell imports backendai_jupyter.kernel.execution" in p for p in found), found


def test_the_check_fails_on_banned_libraries_upward_arrows_and_module_cycles(
    tmp_path: Path, layers: Layers
) -> None:
    pkg = _write(
        tmp_path,
        {
            "__init__.py": "",
            "sdk/__init__.py": "",
            "sdk/a.py": "def f():\n    from .b import x\n",
            "sdk/c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import f\n",
            "sdk/b.py": "from . import a\nimport traitlets\n",
            "display/__init__.py": "",
            "display/m.py": "from IPython.display import display\n",
            "local/__init__.py": "",
            "local/s.py": "from ..sdk import a\n",
            "wire.py": "from .cellrun import run\n",
            "cellrun/__init__.py": "",
            "cellrun/run.py": "",
        },
    )
    found = "\n".join(violations(pkg, layers))
    assert "sdk.b imports traitlets" in found
    assert "display.m imports IPython.display" in found
    assert "local.s imports backendai_jupyter.sdk.a: local -> sdk points sideways" in found
    assert "wire imports backendai_jupyter.cellrun.run: wire -> cellrun points up" in found
    assert "import cycle: backendai_jupyter.sdk.a -> backendai_jupyter.sdk.b" in found
    assert "sdk.c" not in found  # an import for annotations only is no cycle
