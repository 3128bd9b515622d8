"""Shared checks of a subpackage's layout (``printing/``, ``webmap/``): its modules, what each
imports when it runs, no circle, and the order its ``__init__`` docstring's table documents."""

from __future__ import annotations

import ast
from pathlib import Path


def modules(package: Path) -> list[str]:
    """The submodules of ``package`` (its folder), ``__init__`` left out."""
    return sorted(p.stem for p in package.glob("*.py") if p.stem != "__init__")


def runtime_imports(package: Path, module: str) -> set[str]:
    """Sibling modules that ``module`` imports when it runs, at module level or in a function
    (not under ``if TYPE_CHECKING:``, which only annotations read)."""
    tree = ast.parse((package / f"{module}.py").read_text(encoding="utf-8"))
    typing_only = {id(node) for stmt in ast.walk(tree) if isinstance(stmt, ast.If)
                   and getattr(stmt.test, "id", None) == "TYPE_CHECKING" for node in ast.walk(stmt)}
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1 and id(node) not in typing_only:
            if node.module:
                out.add(node.module.split(".")[0])
            else:
                out.update(alias.name for alias in node.names)
    return out & set(modules(package))


def import_graph(package: Path) -> dict[str, set[str]]:
    return {module: runtime_imports(package, module) for module in modules(package)}


def assert_no_circle(graph: dict[str, set[str]]) -> None:
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, " → ".join(path + (module,))
        if module in done:
            return
        for dep in sorted(graph[module]):
            visit(dep, path + (module,))
        done.add(module)

    for module in graph:
        visit(module, ())


def assert_documented_order(graph: dict[str, set[str]], docstring: str) -> list[str]:
    """The modules as the docstring's table lists them (between its two ``====`` rules): every
    module is listed, and each imports only those above it. Returns the order."""
    lines = docstring.splitlines()
    rules = [i for i, line in enumerate(lines) if line.startswith("====")]
    order = [line.split()[0] for line in lines[rules[0] + 1:rules[1]]]
    assert sorted(order) == sorted(graph)
    for i, module in enumerate(order):
        assert graph[module] <= set(order[:i]), (module, graph[module] - set(order[:i]))
    return order


def assert_small_and_declared(package: Path, dotted: str, module: str, most: int = 600) -> None:
    """``module`` has at most ``most`` lines and an ``__all__`` whose every name it defines."""
    import importlib

    path = package / f"{module}.py"
    lines = path.read_text(encoding="utf-8").count("\n")
    assert lines <= most, f"{path.name}: {lines} lignes"
    mod = importlib.import_module(f"{dotted}.{module}")
    assert mod.__all__, module
    for name in mod.__all__:
        assert hasattr(mod, name), f"{module}.__all__ names {name!r}, which it does not define"
