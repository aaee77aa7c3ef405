"""Every benchmark script in bench/ keeps working: each runs in its ``--smoke`` mode (a tiny size,
short time limits, the same code path) as a subprocess, and its result table is read back for
its shape and key figures. No timing is asserted (the figures are in BENCHMARKS.md).

The scripts that need PostgreSQL or a Prefect API run against the session's real ones
(``postgres_server``: under CI an unreachable server fails instead of skipping; ``prefect_api``).
bench/solve_blocks.py's smoke is in tests/test_bench_solve_script.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from benchtable import parse_table

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"

# Imported by the scripts, not run: no __main__ block, so no smoke mode of their own.
HELPERS = {"benchtable.py", "pattern.py", "dense_cases.py"}
# Where each script's smoke run is tested.
SMOKE_TESTED = {
    "backup_1m.py": "test_bench_scripts.py",
    "flow_overhead.py": "test_bench_scripts.py",
    "plan_year.py": "planner/test_bench_plan_year.py",
    "prefect_start.py": "test_bench_scripts.py",
    "solve_blocks.py": "test_bench_solve_script.py",
    "solve_dense.py": "test_bench_scripts.py",
    "solve_profiles.py": "test_bench_scripts.py",
    "swap_candidates.py": "test_bench_scripts.py",
    "swap_load.py": "test_bench_scripts.py",
    "validate_year.py": "test_bench_scripts.py",
}


def run_bench(script: str, *args: str, env: dict[str, str] | None = None, expect: int = 0) -> str:
    """Run ``bench/<script> *args`` as BENCHMARKS.md does; its stdout (the code must be ``expect``)."""
    result = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )
    assert result.returncode == expect, f"exit {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def _only_row(out: str, first_header: str, headers: list[str]) -> dict[str, str]:
    found, rows = parse_table(out, first_header)
    assert found == headers
    assert len(rows) == 1, rows
    return rows[0]


def _count(cell: str) -> int:
    return int(cell.replace(",", ""))


def _databases_named(admin_url: str, *names: str) -> list[str]:
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as connection:
        rows = connection.execute("SELECT datname FROM pg_database WHERE datname = ANY(%s)", (list(names),))
        return [name for (name,) in rows]


def _prefect_api_url() -> str:
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    assert url, "the prefect_api fixture sets the harness's URL"
    return url


# -- the inventory ----------------------------------------------------------------------------


def test_every_bench_script_has_a_smoke_run_under_test():
    scripts = {p.name for p in BENCH.glob("*.py") if 'if __name__ == "__main__":' in p.read_text()}
    helpers = {p.name for p in BENCH.glob("*.py")} - scripts
    assert helpers == HELPERS
    assert scripts == set(SMOKE_TESTED)
    for script, test_file in SMOKE_TESTED.items():
        assert '"--smoke"' in (BENCH / script).read_text(), script
        called = re.search(
            rf'run_bench\(\s*"{re.escape(script)}",\s*"--smoke"', (ROOT / "tests" / test_file).read_text()
        )
        assert called, (script, test_file)


def test_bench_scripts_use_no_cli_internals():
    # The CLI's modules are private and move (the split of rotaguard.cli): the scripts use the
    # library's public APIs, or run `rotaguard` as a subprocess.
    importing = [p.name for p in BENCH.glob("*.py") if re.search(r"\brotaguard\.cli\b", p.read_text())]
    assert importing == []


def test_benchmarks_md_cites_only_scripts_that_exist_and_every_script():
    cited = set(re.findall(r"bench/([a-z0-9_]+\.py)", (ROOT / "BENCHMARKS.md").read_text()))
    assert cited - {p.name for p in BENCH.glob("*.py")} == set()
    assert set(SMOKE_TESTED) - cited == set()


# -- the pure ones ----------------------------------------------------------------------------


def test_validate_year_smoke():
    out = run_bench("validate_year.py", "--smoke")
    row = _only_row(
        out,
        "people",
        [
            "people",
            "days",
            "assignments",
            "year validate (median of 1)",
            "Tier 1",
            "Tier 2",
            "one block with N-1/N-2",
            "N-1 failures",
        ],
    )
    assert row["people"] == "12" and row["days"] == "364"
    assert f"people=12 days=364 assignments={_count(row['assignments'])}" in out
    assert _count(row["assignments"]) >= 12 * 364  # AM and PM six days a week for everyone
    # The pattern is deliberately not clean (credentials expire mid-year): the rules must find it.
    assert _count(row["Tier 1"]) > 0
    assert row["year validate (median of 1)"].endswith(")") and row["one block with N-1/N-2"].endswith(" s")


def test_solve_profiles_smoke():
    out = run_bench("solve_profiles.py", "--smoke")
    found, rows = parse_table(out, "profile")
    assert found[:4] == ["profile", "residents", "days", "status"]
    assert {row["profile"] for row in rows} == {"internal-medicine", "family-medicine"}
    for row in rows:
        assert row["residents"] == "24" and row["days"] == "7"
        assert row["status"] in {"OPTIMAL", "FEASIBLE"}, row
        assert row["Tier 1"] == "0" and row["outside plan"] == "0", row
        # The printed line and the table agree on what was judged.
        assert f"{row['profile']} 24: status={row['status']}" in out


def test_solve_dense_smoke_against_a_baseline_revision():
    """Both solvers of the comparison run (this tree's and HEAD's, exported), each case judged."""
    out = run_bench("solve_dense.py", "--smoke", "--cases", "dense", "--baseline", "HEAD")
    found, rows = parse_table(out, "case")
    assert found[:3] == ["case", "people", "solver"] and found[-1] == "penalties = validate"
    assert [row["solver"] for row in rows] == ["before (HEAD)", "now"]
    for row in rows:
        assert row["people"] == "26" and row["status"] in {"OPTIMAL", "FEASIBLE"} and row["Tier 1"] == "0", row
    now = rows[1]
    assert now["penalties = validate"] == "yes" and now["levels (value / bound)"].startswith("staffing "), now


def test_swap_candidates_smoke():
    out = run_bench("swap_candidates.py", "--smoke")
    row = _only_row(
        out,
        "people",
        ["people", "assignments", "requests", "rank median", "p95", "max", "candidates per request (min / max)"],
    )
    assert row["people"] == "18" and row["requests"] == "2" and _count(row["assignments"]) > 0
    assert all(row[column].endswith(" ms") for column in ("rank median", "p95", "max"))
    fewest, most = (int(n) for n in row["candidates per request (min / max)"].split(" / "))
    assert 1 <= fewest <= most <= 10  # ranked to the 10 best


def test_swap_load_refuses_a_scenario_without_its_conflicts():
    result = subprocess.run(
        [sys.executable, str(BENCH / "swap_load.py"), "--swaps", "2"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .endswith("--swaps must be at least 3 (one valid, one rival, one Tier 1 breaker)")
    )


# -- PostgreSQL and Prefect -------------------------------------------------------------------


def test_backup_1m_smoke(postgres_server):
    out = run_bench("backup_1m.py", "--smoke", "--admin-url", postgres_server.admin_url)
    row = _only_row(
        out,
        "assignment rows",
        [
            "assignment rows",
            "raw pg_dump + pg_restore",
            "create + verify",
            "backup status",
            "ratio",
            "28-day range restore",
        ],
    )
    assert row["assignment rows"] == f"{120 * 56 * 3:,}"
    assert row["backup status"] == "verified"
    assert row["28-day range restore"].endswith(f"({120 * 28 * 3:,} rows)")
    assert row["ratio"].endswith("×") and row["create + verify"].endswith(" s")
    created = re.search(r"^throwaway databases: (\S+), (\S+)$", out, re.MULTILINE)
    assert created, out
    assert _databases_named(postgres_server.admin_url, *created.groups()) == []


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_flow_overhead_smoke(kind, request, prefect_api, tmp_path):
    database_args: list[str] = []  # SQLite: the script's own throwaway file
    server = name = None
    if kind == "postgresql":  # an empty database, as BENCHMARKS.md's command takes
        server = request.getfixturevalue("postgres_server")
        name = server.create()
        database_args = ["--database-url", server.url(name)]
    try:
        out = run_bench(
            "flow_overhead.py",
            "--smoke",
            *database_args,
            env={"PREFECT_API_URL": _prefect_api_url(), "TMPDIR": str(tmp_path)},
        )
        assert list(tmp_path.iterdir()) == []  # its temporary home (database, backups) removed
        if server:
            with psycopg.connect(f"{server.admin_url.rpartition('/')[0]}/{name}", connect_timeout=5) as connection:
                (written,) = connection.execute(
                    "SELECT count(*) FROM assignments WHERE date BETWEEN '2026-07-02' AND '2026-07-08'"
                ).fetchone()
            assert written > 0  # the flow wrote its schedule into the database it was given
    finally:
        if server:
            server.drop(name)
    row = _only_row(
        out, "database", ["database", "program", "bare solve", "whole flow", "overhead", "Prefect API first start"]
    )
    assert row["database"] == kind
    assert row["program"] == "8 R + 4 F, 7 days, 5 s limit"
    assert re.fullmatch(r"\d+\.\d\d s \((OPTIMAL|FEASIBLE)\)", row["bare solve"]), row
    assert re.fullmatch(r"\d+\.\d\d s \(published, Tier 1 0\)", row["whole flow"]), row
    assert re.fullmatch(r"-?\d+\.\d\d s", row["overhead"]), row


def test_swap_load_smoke(postgres_server, prefect_api):
    out = run_bench(
        "swap_load.py",
        "--smoke",
        "--prefect-api-url",
        _prefect_api_url(),
        env={"ROTAGUARD_TEST_POSTGRES_URL": postgres_server.admin_url},
    )
    *lines, line = out.strip().splitlines()  # the table, then its JSON line
    table, result = "\n".join(lines), json.loads(line)
    assert result["bench"] == "swap_load" and result["ok"] is True, result
    assert result["people"] == 16 and result["swaps"] == result["clients"] == 7
    assert result["plans"]["valid"] >= 1 and result["plans"]["same-duty"] >= 1 and result["plans"]["breaks-tier1"] >= 1
    assert result["executed"] >= 1 and result["executed"] + result["rejected"] == 7 and result["errors"] == 0
    breakers = [r for r in result["rejections"] if r["intent"] == "breaks-tier1"]
    assert len(breakers) == result["plans"]["breaks-tier1"]
    assert all("Tier 1 rule" in r["reason"] for r in breakers), breakers
    checks = result["checks"]
    assert checks["lost"] == checks["duplicated"] == checks["unexplained"] == checks["double_booked"] == 0
    assert checks["tier1"] == [] and checks["audit_ok"] is True
    assert checks["executed_events"] == result["executed"]
    assert result["generation"]["status"] == "published" and checks["generated_assignments"] > 0
    assert result["latency"]["request"]["n"] == 7
    assert f"executed {result['executed']}, rejected {result['rejected']}, errors 0" in table
    assert table.rstrip().endswith("result: OK")


def test_prefect_start_smoke():
    """One cold and one warm `rotaguard swap execute` on the local Prefect server (about a minute:
    the cold one starts the server); the script stops the server it started."""
    out = run_bench("prefect_start.py", "--smoke")
    document = json.loads(out.splitlines()[-1])
    assert document["bench"] == "prefect_start" and set(document["results"]) == {"cold", "warm"}
    assert all(len(result["samples"]) == 1 for result in document["results"].values())
