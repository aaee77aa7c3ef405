"""The CLI package's shape: command-group modules that import shared helpers, never each other in a
circle (an import inside a function counts too: it would only hide the circle), none over 450 lines."""

from __future__ import annotations

import ast
from pathlib import Path

CLI = Path(__file__).resolve().parents[2] / "src" / "rotaguard" / "cli"
PACKAGE = "rotaguard.cli"
MAX_LINES = 450


def _modules() -> dict[str, Path]:
    return {path.stem: path for path in sorted(CLI.glob("*.py")) if path.stem != "__init__"}


def _cli_imports(path: Path, modules: set[str]) -> set[str]:
    """The rotaguard.cli modules ``path`` imports anywhere in it (module level or inside functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}: relative import (the package imports absolutely)"
            base = node.module or ""
            # `from rotaguard.cli import admin` names modules; `from rotaguard.cli.common import x` one module.
            names = [f"{base}.{alias.name}" for alias in node.names] if base == PACKAGE else [base]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[:2] == ["rotaguard", "cli"] and len(parts) > 2 and parts[2] in modules:
                found.add(parts[2])
    return found


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _cli_imports(path, set(modules)) - {name} for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a path that ends where it began, or None."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return path[path.index(node) :] + [node]
        if node in done:
            return None
        for target in sorted(graph[node]):
            found = visit(target, [*path, node])
            if found:
                return found
        done.add(node)
        return None

    for start in sorted(graph):
        found = visit(start, [])
        if found:
            return found
    return None


def test_no_cli_module_imports_itself_back_through_another():
    cycle = _cycle(import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_finds_cycles():
    """Guard against a checker that passes because it finds nothing."""
    graph = import_graph()
    assert {"common", "gated", "output"} <= graph["backup"] and "swap" in graph["main"]
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_main_only_assembles_the_app_and_the_groups_share_one_helper_module():
    graph = import_graph()
    assert graph["main"] >= {"admin", "audit", "backup", "export", "program", "schedule", "swap"}
    assert all("main" not in imported for imported in graph.values()), "a command module imports main"
    commands = {"admin", "audit", "backup", "export", "program", "schedule", "swap"}
    assert not (graph["common"] | graph["gated"]) & commands, "the shared helpers import a command module"


def test_no_cli_module_is_over_450_lines():
    lengths = {name: len(path.read_text().splitlines()) for name, path in _modules().items()}
    assert {name: n for name, n in lengths.items() if n > MAX_LINES} == {}, lengths
