"""The benchmark scripts keep working (a smoke run on a tiny program; no timing asserted)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run_bench(script: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_validate_year_benchmark_runs():
    out = _run_bench("validate_year.py", "--residents", "8", "--faculty", "4", "--repeat", "1")
    assert "people=12 days=364" in out and "year validate" in out


def test_swap_candidates_benchmark_runs():
    out = _run_bench("swap_candidates.py", "--residents", "12", "--faculty", "6", "--requests", "2")
    assert "people=18" in out and "requests=2" in out and "rank median" in out


def test_swap_load_benchmark_refuses_a_scenario_without_its_conflicts():
    # The full run needs PostgreSQL and a Prefect API: tests/chaos/test_swap_load.py runs its
    # scenario (planner, clients, checks, report) in-process; here only the script's own guard.
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "swap_load.py"), "--swaps", "2"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .endswith("--swaps must be at least 3 (one valid, one rival, one Tier 1 breaker)")
    )


def test_prefect_start_benchmark_smoke_runs():
    """One cold and one warm `rotaguard swap execute` on the local Prefect server (about a minute:
    the cold one starts the server); the script stops the server it started."""
    out = _run_bench("prefect_start.py", "--smoke")
    document = json.loads(out.splitlines()[-1])
    assert document["bench"] == "prefect_start" and set(document["results"]) == {"cold", "warm"}
    assert all(len(result["samples"]) == 1 for result in document["results"].values())
