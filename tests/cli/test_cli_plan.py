"""`rotaguard plan`: bad input refused with one line and nothing written; `plan show` and `plan export`
read the stored plan; `plan --year` runs the plan-year flow at a real terminal (a pseudo-terminal),
against a real Prefect API, on SQLite and PostgreSQL (with --yes: tests/chaos/test_crash_matrix.py)."""

from __future__ import annotations

import json

import pytest
from openpyxl import load_workbook
from test_cli_assign_clear import Terminal, _terminal_env

from dbstate import digest
from factories import dumps, program_document
from rotaguard.db import Database
from year_plans import LABEL, YEAR, plan_rows, store_program, stored, year_program


@pytest.fixture
def database(cli, flow_env):
    made = Database(flow_env)
    store_program(made, year_program())
    yield made
    made.dispose()


def replan_start(database: Database):
    from rotaguard.academic_year import replan_range

    return replan_range(stored(database), 7)[0]


def _one_line(result) -> str:
    assert result.code not in (0, 70), (result.code, result.out, result.err)
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("rotaguard: error:") and "Traceback" not in result.err, result.err
    return lines[0]


def test_bad_input_is_one_line_and_writes_nothing(cli, database, tmp_path):
    before = digest(database)
    cases = {
        ("plan", "--year", str(YEAR + 1), "--yes"): f"academic year is {YEAR} ({LABEL}), not {YEAR + 1}",
        ("plan", "--year", str(YEAR), "--from-block", "14", "--yes"): "has blocks 1..13; block 14 is not one of them",
        ("plan", "--year", str(YEAR), "--from-block", "0", "--yes"): "--from-block",
        ("plan", "--year", "1999", "--yes"): "--year",
        ("plan", "--yes"): "give the academic year to plan",
        ("plan", "export", "--format", "pdf", "--out", str(tmp_path / "plan.pdf")): "--format",
        ("plan", "export", "--format", "csv", "--out", str(tmp_path)): "is a directory",
    }
    for args, wanted in cases.items():
        line = _one_line(cli(*args))
        assert wanted in line, (args, line)
    assert digest(database) == before
    assert not (tmp_path / "plan.pdf").exists()


def test_a_program_without_a_year_has_no_plan_to_make_or_show(cli, flow_env, tmp_path):
    path = tmp_path / "v1.json"
    path.write_text(dumps(program_document()))
    assert cli("program", "import", str(path)).code == 0
    assert "has no academic year" in _one_line(cli("plan", "--year", "2026", "--yes"))
    assert "has no academic year" in _one_line(cli("plan", "show"))


def test_show_and_export_read_the_stored_plan(cli, database, tmp_path):
    before = digest(database)
    program = stored(database)
    shown = cli("plan", "show")
    assert shown.code == 0, shown.err
    assert "\x1b[" not in shown.out  # not a terminal: no colours
    residents = [p.id for p in program.people if p.is_resident]
    assert all(person in shown.out for person in residents)
    as_json = json.loads(cli("plan", "show", "--json").out)
    assert as_json["year"] == LABEL and len(as_json["rows"]) == len(program.plan)
    assert set(as_json["curriculum"]) == set(residents)

    rows_csv, rows_json, book = tmp_path / "plan.csv", tmp_path / "plan.json", tmp_path / "plan.xlsx"
    for fmt, out in (("csv", rows_csv), ("json", rows_json), ("xlsx", book)):
        done = cli("plan", "export", "--format", fmt, "--out", str(out), "--json")
        assert done.code == 0, done.err
        assert json.loads(done.out) == {"ok": True, "path": str(out), "format": fmt, "rows": len(program.plan)}
    assert len(rows_csv.read_text().splitlines()) == len(program.plan) + 1
    assert json.loads(rows_json.read_text())["rows"] == as_json["rows"]
    assert "Blocks" in load_workbook(book).sheetnames
    assert digest(database) == before


def test_at_a_terminal_plan_asks_first_and_a_no_writes_nothing(cli, database, flow_env):
    # With --yes it publishes unattended: the crash matrix's run left alone (tests/chaos) is that run.
    published = plan_rows(database)

    refused = Terminal(["plan", "--year", str(YEAR), "--from-block", "7", "--timeout", "5"], _terminal_env(flow_env))
    refused.expect(f"Approve the year plan {LABEL} ({YEAR}), blocks 7..13")
    refused.expect("| PGY-1 | ICU | 2 | 2 |")
    refused.expect(f"Publish a new plan for {YEAR} from block 7 on?")
    refused.type("n")
    assert refused.finish() == 1
    assert "not published: rejected: rejected by C-01" in refused.screen and "Traceback" not in refused.screen
    assert plan_rows(database) == published

    approved = Terminal(["plan", "--year", str(YEAR), "--from-block", "7", "--timeout", "5"], _terminal_env(flow_env))
    approved.expect(f"Publish a new plan for {YEAR} from block 7 on?")
    approved.type("y")
    assert approved.finish() == 0, approved.screen
    assert "published" in approved.screen and "findings" in approved.screen
    assert {e.source.value for e in stored(database).plan if e.start >= replan_start(database)} == {"solver"}
