"""The package's shape, read from the source with ``ast`` (nothing is imported but for ``__all__``).

- No import circle among the modules of ``ptce_geo`` (any depth of subpackage): every import
  counts, at module level or inside a function — an import hidden in a function to dodge a circle
  is still a circle of design. Imports under ``if TYPE_CHECKING:`` are not run and do not count.
- ``app.py`` and ``app_pages/*.py`` stay thin: no geo library imported at module level.
- Every name a module lists in ``__all__`` exists.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "ptce_geo"
GEO_LIBRARIES = {"geopandas", "shapely", "pyproj", "pyogrio", "folium", "matplotlib"}


def _modules(package: Path = PACKAGE) -> dict[str, tuple[Path, bool]]:
    """Dotted name → (file, is a package ``__init__``), for every module under ``package``."""
    out = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        out[".".join(parts)] = (path, is_package)
    return out


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST):
    """Every import node of ``tree`` except those under ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Module → the modules of the package it imports (``from . import x`` names module ``x``;
    ``from .x import y`` names ``x.y`` when that is a module, else ``x``)."""
    modules = _modules(package)
    graph: dict[str, set[str]] = {}
    for name, (path, is_package) in modules.items():
        deps: set[str] = set()
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name in modules)
                continue
            if node.level:
                here = name.split(".") if is_package else name.split(".")[:-1]
                here = here[: len(here) - (node.level - 1)]
                base = ".".join(here + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                if f"{base}.{alias.name}" in modules:
                    deps.add(f"{base}.{alias.name}")
                elif base in modules:
                    deps.add(base)
        deps.discard(name)
        graph[name] = deps
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_the_circle_finder_sees_a_circle(tmp_path):
    """The finder itself: a two-module circle through a function-level import, one through a
    subpackage, and a TYPE_CHECKING import that does not count."""
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from . import b\n")
    (pkg / "b.py").write_text("def f():\n    from .a import x\n")
    (pkg / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import d\n")
    (pkg / "d.py").write_text("from . import c\n")
    (pkg / "sub" / "__init__.py").write_text("from .one import f\n")
    (pkg / "sub" / "one.py").write_text("from ..e import g\n")
    (pkg / "e.py").write_text("from .sub import f\n")
    assert sorted(circles(import_graph(pkg))) == [["pkg.a", "pkg.b"], ["pkg.e", "pkg.sub", "pkg.sub.one"]]


def test_no_import_circle_among_the_modules():
    found = circles(import_graph())
    assert not found, "import circles (each list imports itself through the others): " + "; ".join(
        " ↔ ".join(c) for c in found)


def _top_level_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("script", ["app.py"] + sorted(p.relative_to(ROOT).as_posix()
                                                         for p in (ROOT / "app_pages").glob("*.py")))
def test_page_scripts_import_no_geo_library(script):
    """Page scripts are thin: the work (and the geo libraries) is in the package."""
    assert not _top_level_imports(ROOT / script) & GEO_LIBRARIES


def _declares_all(path: Path) -> bool:
    return any(isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in n.targets)
               for n in ast.parse(path.read_text(encoding="utf-8")).body)


@pytest.mark.parametrize("name", sorted(n for n, (p, _) in _modules().items() if _declares_all(p)))
def test_every_name_in_all_exists(name):
    module = importlib.import_module(name)
    assert [n for n in module.__all__ if not hasattr(module, n)] == []
