"""The benchmark scripts keep working (a smoke run on a tiny program; no timing asserted)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_validate_year_benchmark_runs():
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "validate_year.py"), "--residents", "8", "--faculty", "4", "--repeat", "1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "people=12 days=364" in result.stdout and "year validate" in result.stdout
