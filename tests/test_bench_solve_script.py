"""The solver benchmark script imports and its pieces run (no timing asserted)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_solve_blocks_script_is_valid_python_with_its_entry_points():
    result = subprocess.run(
        [sys.executable, "-c", "import runpy, sys; sys.argv=['x']; ns = runpy.run_path(sys.argv[0] if False else %r, run_name='bench'); print(sorted(k for k in ns if k in {'block','large','year','compare','main'}))" % str(ROOT / "bench" / "solve_blocks.py")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "['block', 'compare', 'large', 'main', 'year']" in result.stdout
