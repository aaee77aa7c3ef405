"""Issue 19's main line, through the CLI as a coordinator runs it: `program synth --profile
internal-medicine --residents 36` -> `program import` -> `generate` a block on its plan (the
real flow against a real Prefect API) -> `validate`, `grid` and `export`.

Then what a coordinator checks on the published block: 0 Tier 1; every resident duty is one of
their planned rotation's or their clinic or didactics; fill rate >= 0.95 and demand coverage 1.0;
weekly hours 50-80 over the days present; night-float runs; 24-hour calls start in the morning
and are followed by 14 free hours; the weekly clinic where the rotation allows it.
"""

from __future__ import annotations

import json
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from rotaguard.db import AssignmentRepository, Database, ProgramRepository
from rotaguard.domain import ShiftKind
from solve_profiles import coordinator_figures, night_runs

pytestmark = pytest.mark.usefixtures("flow_env")


def test_an_internal_medicine_block_generated_on_its_plan_is_what_a_coordinator_expects(cli, tmp_path, database_url):
    document = tmp_path / "im.json"
    synth = cli(
        "program", "synth", "--profile", "internal-medicine", "--residents", "36", "--seed", "1", "--out", str(document)
    )
    assert synth.code == 0, synth.err
    assert json.loads(document.read_text())["format"] == "rotaguard-program/2"
    imported = cli("program", "import", str(document))
    assert imported.code == 0, imported.err
    blocks = json.loads(document.read_text())["year"]["blocks"]
    start, end = date.fromisoformat(blocks[1]["start"]), date.fromisoformat(blocks[1]["end"])
    generated = cli("generate", "--start", str(start), "--end", str(end), "--yes", "--timeout", "60", "--json")
    assert generated.code == 0, generated.err
    outcome = json.loads(generated.out)
    assert outcome["status"] == "published", outcome
    validated = cli("validate", "--start", str(start), "--end", str(end), "--json")
    assert validated.code == 0, validated.err
    metrics = json.loads(validated.out)["metrics"]
    assert metrics["tier1_violations"] == 0
    assert metrics["demand_coverage"] == 1.0 and metrics["fill_rate"] >= 0.95, metrics

    database = Database(database_url)
    try:
        with database.read() as session:
            program = ProgramRepository(session).load()
            schedule = AssignmentRepository(session).schedule(start=start - timedelta(days=28), end=end)
    finally:
        database.dispose()
    assert program is not None and program.has_plan_model
    figures = coordinator_figures(program, schedule, start, end)
    assert figures.outside_plan == 0
    low, high = figures.weekly_hours
    assert 50 <= low and high <= 80, figures.weekly_hours
    assert figures.calls > 0 and figures.calls_rested == figures.calls
    assert figures.clinic_weeks_expected > 0 and figures.clinic_weeks == figures.clinic_weeks_expected
    in_block = schedule.between(start, end)
    for duty in in_block.assignments:
        if program.shift(duty.slot).kind is ShiftKind.CALL_24:
            assert program.interval(duty).start.hour < 12, duty
    # Night float works its nights in runs (those cut by the block's edges or an absence excepted).
    runs = night_runs(program, in_block)
    assert runs and max(runs) >= 5

    grid = cli("grid", "--start", str(start), "--end", str(end))
    assert grid.code == 0, grid.err
    rows = {line.split()[0]: line.split() for line in grid.out.splitlines() if line.startswith("R")}
    resident_ids = {p.id for p in program.people if p.is_resident}
    assert set(rows) == resident_ids
    for person_id, cells in rows.items():
        planned = program.planned(person_id, start)
        assert planned is not None and cells[1] == planned.rotation_id, cells

    exported = cli("export", "--start", str(start), "--end", str(end), "--format", "json")
    assert exported.code == 0, exported.err
    rows_out = json.loads(exported.out)["assignments"]
    assert rows_out and {"person_id", "rotation_id", "date", "slot", "start", "end", "hours"} <= set(rows_out[0])
    assert {"service_id", "shift", "shift_kind", "rotation"} <= set(rows_out[0])
