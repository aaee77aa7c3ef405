"""`rotaguard validate`: read-only; exit 0 clean, 1 with Tier 1 violations, 2 on bad input."""

import json
from pathlib import Path

from dbstate import digest
from factories import dumps, program_document
from rotaguard.db import Database

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _import(cli, tmp_path, document) -> None:
    path = tmp_path / "program.json"
    path.write_text(dumps(document))
    assert cli("program", "import", str(path)).code == 0


def _clean_document():
    document = program_document()
    document["rotations"][0]["residents"]["min"] = 0
    document["rotations"][0]["faculty"]["min"] = 0
    document["rotations"][1]["residents"]["min"] = 0
    return document


def test_clean_schedule_exits_zero_with_the_documented_json(cli, tmp_path):
    _import(cli, tmp_path, _clean_document())
    result = cli("validate", "--start", "2026-03-12", "--end", "2026-03-12", "--json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["violations"] == [] and data["coverage_gaps"] == []
    assert {"demand_coverage", "slot_fill_rate", "tier1_violations", "tier2_warnings", "n1_compliant"} <= set(
        data["metrics"]
    )
    assert data["metrics"]["tier1_violations"] == 0 and data["metrics"]["demand_coverage"] == 1.0


def test_known_violations_exit_one_and_change_nothing(cli, tmp_path, database_url):
    document = _clean_document()
    document["assignments"].append({"person_id": "R1-01", "date": "2026-03-13", "slot": "CALL", "rotation_id": "NIGHT"})
    document["assignments"].append({"person_id": "R1-01", "date": "2026-03-14", "slot": "AM", "rotation_id": "WARDS"})
    _import(cli, tmp_path, document)
    database = Database(database_url)
    before = digest(database)
    result = cli("validate", "--start", "2026-03-12", "--end", "2026-03-14", "--json")
    after = digest(database)
    database.dispose()
    assert result.code == 1
    assert (
        result.err.strip()
        == "rotaguard: error: 3 Tier 1 violations in 2026-03-12..2026-03-14: this schedule must not be published"
    )
    found = sorted(
        (v["rule_id"], v["person_id"] if "person_id" in v else v["rotation_id"], v["date"])
        for v in json.loads(result.out)["violations"]
    )
    # The PGY-1 on the senior call without ACLS, then alone on wards the next morning.
    assert found == [
        ("program.supervision", "WARDS", "2026-03-14"),
        ("schedule.credentials", "R1-01", "2026-03-13"),
        ("schedule.eligibility", "R1-01", "2026-03-13"),
    ]
    assert before == after


def test_bad_dates_exit_two(cli, tmp_path):
    _import(cli, tmp_path, _clean_document())
    assert cli("validate", "--start", "2026-02-30", "--end", "2026-03-01").code == 2
    reversed_range = cli("validate", "--start", "2026-03-12", "--end", "2026-03-01")
    assert (
        reversed_range.code == 2
        and reversed_range.err.strip() == "rotaguard: error: --end: 2026-03-01 is before --start 2026-03-12"
    )


def test_synthetic_demo_program_validates(cli, tmp_path):
    path = tmp_path / "synthetic.json"
    path.write_text((EXAMPLES / "synthetic-program.json").read_text())
    assert cli("program", "import", str(path)).code == 0
    result = cli("validate", "--start", "2026-03-12", "--end", "2026-04-08", "--json")
    assert result.code == 0  # nothing scheduled yet: no violation, only coverage gaps
    data = json.loads(result.out)
    assert data["metrics"]["tier1_violations"] == 0 and data["metrics"]["demand_coverage"] == 0.0
    assert len(data["coverage_gaps"]) > 0
