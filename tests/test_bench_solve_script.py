"""The solver benchmark runs every benchmark it documents in its ``--smoke`` mode (the smallest
synthetic programs, 2 s time limits, a two-block year) and prints its table; no timing asserted."""

from __future__ import annotations

import re

from test_bench_scripts import parse_table, run_bench


def test_solve_blocks_smoke():
    out = run_bench("solve_blocks.py", "--smoke")
    headers, rows = parse_table(out, "instance")
    assert headers == [
        "instance",
        "algorithm",
        "status",
        "wall",
        "solver",
        "first feasible",
        "objective / bound / gap",
        "variables / constraints",
        "Tier 1",
        "Tier 2",
        "demand coverage",
    ]
    instances = [row["instance"].split(" (")[0].split(":")[0] for row in rows]
    # block: free-running, deterministic, greedy; large: two limits, greedy; the year; 2 seeds x 2.
    assert instances == ["real block"] * 3 + ["large"] * 3 + ["year"] + ["real block"] * 4
    assert [row["algorithm"] for row in rows[:3]] == ["cp_sat free-running, 2 s", "cp_sat deterministic, 2 s", "greedy"]
    assert [row["instance"][-6:] for row in rows[7:]] == ["seed 1", "seed 1", "seed 2", "seed 2"]
    for row in rows:
        assert row["Tier 1"].split(" ")[0] == "0", row  # every solved schedule judged clean
        assert 0 < float(row["demand coverage"].rstrip("%")) <= 100, row
        if row["instance"].startswith("year"):
            assert re.fullmatch(r"(\d× (OPTIMAL|FEASIBLE) ?)+", row["status"]), row
            assert "2 blocks" in row["instance"] and "56-day range" in row["Tier 1"]
        elif row["algorithm"] == "greedy":
            assert row["status"] == "FEASIBLE" and row["solver"] == "—", row
        else:
            assert row["status"] in ("OPTIMAL", "FEASIBLE"), row
            assert re.fullmatch(r"[\d,]+ / [\d,]+", row["variables / constraints"]), row
