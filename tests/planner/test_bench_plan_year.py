"""bench/plan_year.py keeps working: its --smoke run (24 residents, a few seconds) prints the
table BENCHMARKS.md quotes, every plan passing the compliance engine. No timing is asserted."""

from __future__ import annotations

import sys
from pathlib import Path

from test_bench_scripts import run_bench

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from benchtable import parse_table


def test_plan_year_smoke():
    out = run_bench("plan_year.py", "--smoke")
    headers, rows = parse_table(out, "case")
    assert headers[:3] == ["case", "residents", "status"]
    assert [row["case"].split()[0] for row in rows] == ["scratch", "conflicts", "replan"]
    for row in rows:
        assert row["residents"] == "24"
        assert row["status"] in {"optimal", "feasible"}
        assert row["plan findings"] == "0"
    # The conflicting winter requests cannot all be met: a positive optimum, vacation weeks unmet.
    assert "vacation_request" in rows[1]["terms (units x weight)"]
    # The leave's three published blocks are changes at least; the count is proved minimal.
    changed = rows[2]["changed blocks"]
    assert changed.endswith("(proved minimal)") and int(changed.split()[0]) >= 3
