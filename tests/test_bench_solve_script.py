"""The solver benchmark runs every benchmark it documents in its ``--smoke`` mode (the smallest
synthetic programs, one week instead of a block, a "year" of two weeks, time limits of a few
seconds as caps) and prints its table; no timing asserted."""

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
    assert [row["algorithm"] for row in rows[:3]] == ["cp_sat free-running, 5 s", "cp_sat deterministic, 5 s", "greedy"]
    assert (
        rows[0]["instance"] == "real block (8 R + 4 F, 7 days)" and rows[3]["instance"] == "large (10 R + 4 F, 7 days)"
    )
    assert [row["instance"][-6:] for row in rows[7:]] == ["seed 1", "seed 1", "seed 2", "seed 2"]
    # A status under a short time limit is a timing: on a loaded machine CP-SAT may run out of it
    # before a first schedule (UNKNOWN, nothing returned), so that is allowed; a schedule it does
    # return is judged clean, and the greedy baseline, which has no limit, always finds one.
    for row in rows:
        assert row["Tier 1"].split(" ")[0] == "0", row  # every solved schedule judged clean
        coverage = float(row["demand coverage"].rstrip("%"))
        if row["instance"].startswith("year"):
            assert re.fullmatch(r"\d× (OPTIMAL|FEASIBLE|UNKNOWN)( \d× (OPTIMAL|FEASIBLE|UNKNOWN))*", row["status"]), row
            assert (
                "2 blocks of 7 days" in row["instance"] and "14-day range" in row["Tier 1"] and 0 <= coverage <= 100
            ), row
        elif row["algorithm"] == "greedy":
            assert row["status"] == "FEASIBLE" and row["solver"] == "—" and 0 < coverage <= 100, row
        else:
            assert row["status"] in ("OPTIMAL", "FEASIBLE", "UNKNOWN"), row
            assert re.fullmatch(r"[\d,]+ / [\d,]+", row["variables / constraints"]), row  # the model was built
            assert (0 < coverage <= 100) if row["status"] != "UNKNOWN" else coverage == 0, row
