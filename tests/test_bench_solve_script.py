"""The solver benchmark script loads and defines every benchmark it documents (no timing asserted)."""

import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_solve_blocks_script_defines_its_benchmarks():
    namespace = runpy.run_path(str(ROOT / "bench" / "solve_blocks.py"), run_name="bench")
    assert {"block", "large", "year", "compare", "main"} <= set(namespace)
