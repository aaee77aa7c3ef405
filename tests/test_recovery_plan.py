"""A plan-year run that died mid-write (issue 21): recovery tells it by its algorithm ("plan") and puts
back the rotation plan's rows of its range from its pre-op backup, never the duties, and a failed gate's
restore proves the plan equals its state before. The flow's steps are called as plain functions (a
task's ``.fn``) in the flow's order, and the process "dies" where the test stops calling them: no
Prefect API is needed. On SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest

from rotaguard.academic_year import replan_range
from rotaguard.backups import BackupStore
from rotaguard.db import Database
from rotaguard.db.runs import ScheduleRunRepository
from rotaguard.domain import PlanEntry
from rotaguard.errors import RotaGuardError
from rotaguard.flows.gate import create_run, mark_gate_held
from rotaguard.planner import PlanResult, PlanStatus
from rotaguard.recovery import PLAN_ALGORITHM, recover_interrupted
from rotaguard.tasks.planning import mark_writing_plan, restore_plan_range, write_plan
from year_plans import block_span, plan_digest, plan_rows, store_program, stored, year_program

FROM_BLOCK = 7


@pytest.fixture
def planned(database_url, tmp_path, monkeypatch):
    """The profile's year with its plan in the test's database, and the settings the steps read."""
    monkeypatch.setenv("ROTAGUARD_DATABASE_URL", database_url)
    monkeypatch.setenv("ROTAGUARD_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ROTAGUARD_BACKUP_DIR", str(tmp_path / "backups"))
    database = Database(database_url)
    store_program(database, year_program())
    yield database, BackupStore(database=database, directory=tmp_path / "backups")
    database.dispose()


def _shifted(entries: tuple[PlanEntry, ...], start, rotations: list[str]) -> tuple[PlanEntry, ...]:
    """Another plan for the range: each unlocked row from ``start`` on on the next rotation."""
    return tuple(
        e.model_copy(update={"rotation_id": rotations[(rotations.index(e.rotation_id) + 1) % len(rotations)]})
        for e in entries
        if e.start >= start and not e.locked
    )


def _started_plan_run(database: Database, store: BackupStore) -> tuple[str, str, str, tuple]:
    """A plan run from block 7 that wrote another plan and died before validating it."""
    program = stored(database)
    start, end = replan_range(program, FROM_BLOCK)
    run_id = str(uuid.uuid4())
    create_run(run_id, start=start, end=end, algorithm=PLAN_ALGORITHM, flow_run_id=None)
    mark_gate_held(run_id)
    backup = store.create(label="pre-op:plan")
    pre_digest = mark_writing_plan.fn(run_id, start, end, backup.id)
    rotations = sorted(r.id for r in program.block_rotations)
    another = PlanResult(status=PlanStatus.FEASIBLE, entries=_shifted(program.plan, start, rotations))
    write_plan.fn(run_id, start, end, another, FROM_BLOCK)
    return run_id, backup.id, pre_digest, (start, end)


def test_recovery_puts_back_a_killed_plan_runs_rows_and_keeps_the_earlier_blocks(planned):
    database, store = planned
    program = stored(database)
    earlier = block_span(program, 1, FROM_BLOCK - 1)
    before, earlier_digest = plan_rows(database), plan_digest(database, *earlier)
    run_id, _, pre_digest, (start, end) = _started_plan_run(database, store)
    assert plan_rows(database) != before  # the kill came after the write
    assert plan_digest(database, *earlier) == earlier_digest  # the write kept blocks 1..6

    results = recover_interrupted(database, store, actor="A-01")

    (restored,) = [r for r in results if r.run_id == run_id]
    assert restored.action == "restored" and "rotation plan rows" in restored.detail
    assert "WARNING" not in restored.detail
    assert plan_rows(database) == before and plan_digest(database, start, end) == pre_digest
    with database.read() as session:
        row = ScheduleRunRepository(session).get(run_id=run_id)
    assert row is not None and row.status == "recovered"
    assert all(r.run_id != run_id for r in recover_interrupted(database, store, actor="A-01"))  # once


def test_a_failed_gate_restores_the_plan_range_and_proves_it_by_the_digest(planned):
    database, store = planned
    run_id, backup_id, pre_digest, (start, end) = _started_plan_run(database, store)
    assert plan_digest(database, start, end) != pre_digest

    assert restore_plan_range.fn(backup_id, start, end, pre_digest, run_id) == pre_digest
    assert plan_digest(database, start, end) == pre_digest
    # A digest that is not the range's state before: the restore says so rather than claim success.
    with pytest.raises(RotaGuardError, match="does not match its state before run"):
        restore_plan_range.fn(backup_id, start, end, "0" * 64, run_id)
