"""`rotaguard solve`: solves without writing, reports compliance metrics, explains infeasibility."""

import json

from dbstate import digest
from factories import dumps, program_document
from rotaguard.db import Database


def _small_program(cli, tmp_path, locks=()):
    document = program_document()
    document["rotations"][0]["residents"]["min"] = 1
    document["rotations"][0]["days"] = ["thu", "fri"]
    document["rotations"][1]["residents"]["min"] = 0  # one senior cannot take call every night
    document["assignments"] = list(locks)
    path = tmp_path / "program.json"
    path.write_text(dumps(document))
    assert cli("program", "import", str(path)).code == 0


def test_solve_reports_and_writes_only_its_output_file(cli, tmp_path, database_url):
    _small_program(cli, tmp_path)
    database = Database(database_url)
    before = digest(database)
    out = tmp_path / "solved.json"
    result = cli("solve", "--start", "2026-03-12", "--end", "2026-03-14", "--workers", "1", "--json", "--out", str(out))
    after = digest(database)
    database.dispose()
    assert result.code == 0, result.err
    summary = json.loads(result.out)
    for key in (
        "solver_status",
        "objective",
        "best_bound",
        "gap",
        "solve_seconds",
        "first_feasible_seconds",
        "variables",
        "constraints",
        "metrics",
    ):
        assert key in summary
    assert summary["solver_status"] == "OPTIMAL" and summary["metrics"]["tier1_violations"] == 0
    assert summary["metrics"]["demand_coverage"] == 1.0
    exported = json.loads(out.read_text())
    assert set(exported) == {"people", "rotations", "assignments"}
    assert {"R1-01", "R2-01", "F-01"} >= {
        a["person_id"] for a in exported["assignments"] if a["rotation_id"] == "WARDS"
    }
    assert before == after


def test_infeasible_locks_exit_one_with_the_reason(cli, tmp_path):
    locks = [
        {"person_id": "R2-01", "date": d, "slot": "CALL", "rotation_id": "NIGHT", "locked": True}
        for d in ("2026-03-12", "2026-03-13")
    ]
    _small_program(cli, tmp_path, locks)
    result = cli("solve", "--start", "2026-03-12", "--end", "2026-03-14", "--workers", "1")
    assert result.code == 1
    line = result.err.strip()
    assert line.count("\n") == 0 and line.startswith("rotaguard: error: no schedule satisfies every Tier 1 rule: ")
    assert "no call on consecutive nights: R2-01" in line and "locked assignment" in line


def test_bad_arguments_exit_two(cli, tmp_path):
    _small_program(cli, tmp_path)
    assert cli("solve", "--start", "2026-03-12", "--end", "2026-03-14", "--algorithm", "magic").code == 2
    assert cli("solve", "--start", "2026-03-12", "--end", "2027-06-30").code == 2
    assert cli("solve", "--start", "2026-03-12", "--end", "2026-03-14", "--timeout", "0").code == 2


def test_the_greedy_is_refused_on_a_plan_program_before_anything_is_read_or_written(cli, tmp_path, database_url):
    """The greedy baseline fills v1's pool: on a program with a rotation plan it would ignore the
    plan, so solve and generate refuse it with one line (exit 2), before any backup."""
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "examples" / "program-v2.json"
    assert cli("program", "import", str(example)).code == 0
    database = Database(database_url)
    try:
        before = digest(database)
        backups = tmp_path / "home" / "backups"

        def files() -> dict[str, bytes]:  # the import's audit anchor is there already; no backup may join it
            return {p.name: p.read_bytes() for p in backups.iterdir()} if backups.exists() else {}

        stored = files()
        assert not any(name.endswith(".json") and name != "audit-anchor.json" for name in stored)
        for command in (("solve",), ("generate", "--yes")):
            result = cli(*command, "--start", "2026-09-23", "--end", "2026-10-20", "--algorithm", "greedy")
            assert result.code == 2, (command, result.err)
            assert result.err == (
                "rotaguard: error: --algorithm: the greedy solver cannot follow a rotation plan; use cp-sat (the default)\n"
            )
        assert digest(database) == before
        assert files() == stored
    finally:
        database.dispose()
