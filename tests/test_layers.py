"""The one dependency rule of DESIGN.md: imports point down, and nothing below tasks/ imports Prefect."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "rotaguard"

# What each layer may import from rotaguard (besides itself).
ALLOWED = {
    "domain": {"errors"},
    "db": {"domain", "settings", "errors"},
    "solver": {"domain", "errors"},
    # The year planner, beside the block solver: neither imports the other.
    "planner": {"domain", "errors"},
    "compliance": {"domain", "errors"},
    "backups": {"db", "domain", "settings", "errors"},
    "interchange": {"db", "domain", "errors"},
    "swaps": {"db", "domain", "compliance", "settings", "notify", "errors", "authorization"},
    # The registry and the matrix, modules rather than packages: the swaps build on the matrix's identities.
    "operations": set(),
    "authorization": {"domain", "operations", "errors"},
    # Which year a program plans, read by the `plan` command before Prefect is set up.
    "academic_year": {"domain"},
}
BELOW_TASKS = (
    "domain",
    "db",
    "solver",
    "planner",
    "compliance",
    "backups",
    "interchange",
    "swaps",
    "operations",
    "authorization",
    "academic_year",
)


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _layer_files(layer: str) -> list[Path]:
    module = PACKAGE / f"{layer}.py"
    return [module] if module.is_file() else sorted((PACKAGE / layer).rglob("*.py"))


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layer_imports_point_down(layer):
    for path in _layer_files(layer):
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] != "rotaguard" or len(parts) < 2 or parts[1] == layer:
                continue
            assert parts[1] in ALLOWED[layer], f"{path.relative_to(PACKAGE)} imports {name}"


@pytest.mark.parametrize("layer", BELOW_TASKS)
def test_nothing_below_tasks_imports_prefect(layer):
    for path in _layer_files(layer):
        assert not any(name.split(".")[0] == "prefect" for name in _imports(path)), path


def test_the_rule_checker_sees_imports():
    """Guard against a checker that passes because it finds nothing."""
    assert "rotaguard.domain" in _imports(PACKAGE / "db" / "repositories.py")
    assert _layer_files("authorization") == [PACKAGE / "authorization.py"]
    assert "rotaguard.operations" in _imports(PACKAGE / "authorization.py")
