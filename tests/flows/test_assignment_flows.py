"""The bulk-assign and clear-assignments flows against a real Prefect API, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import uuid

from sqlalchemy import select

from factories import program_document
from pausing import Running
from rotaguard.db import AssignmentRepository, AuditLog, Database
from rotaguard.db.tables import AssignmentRow
from rotaguard.flows.bulk_assign import BulkAssignParams, bulk_assign
from rotaguard.flows.clear_assignments import ClearParams, clear_assignments
from rotaguard.interchange.document import parse_document
from rotaguard.interchange.importer import import_document

MARCH_11, MARCH_12, MARCH_13 = dt.date(2026, 3, 11), dt.date(2026, 3, 12), dt.date(2026, 3, 13)


def _seed(database_url: str) -> Database:
    database = Database(database_url)
    import_document(database, parse_document(json.dumps(program_document())), actor="test", source="factory")
    return database


def _rows(database: Database, start: dt.date, end: dt.date) -> list[tuple]:
    with database.read() as session:
        return sorted(
            (a.person_id, a.date, a.slot, a.rotation_id, a.locked)
            for a in AssignmentRepository(session).schedule(start=start, end=end).assignments
        )


def _actions(database: Database) -> list[str]:
    with database.read() as session:
        return [e.action for e in reversed(AuditLog(session).events())]


WARDS_13 = [
    {"person": "R1-01", "date": "2026-03-13", "slot": "AM", "rotation": "WARDS"},
    {"person": "F-01", "date": "2026-03-13", "slot": "AM", "rotation": "WARDS", "locked": True},
]


def test_bulk_assign_pauses_for_approval_then_writes_in_one_go(flow_env):
    database = _seed(flow_env)
    run_id = str(uuid.uuid4())
    run = Running(lambda: bulk_assign(BulkAssignParams(assignments=WARDS_13, actor="Coordinator", run_id=run_id)))
    pending = run.paused(run_id)
    assert (
        pending.description.startswith("## Approve loading 2 assignments, 2026-03-13 .. 2026-03-13")
        and "2 new, 0 changed" in pending.description
    )
    assert _rows(database, MARCH_13, MARCH_13) == []  # nothing before the answer
    outcome = run.answer(run_id, {"approve": True, "approver": "A-01"})
    assert outcome.status == "published", outcome.reason
    assert outcome.backup_id and outcome.approved_by == "A-01" and outcome.counts["created"] == 2
    assert _rows(database, MARCH_13, MARCH_13) == [
        ("F-01", MARCH_13, "AM", "WARDS", True),
        ("R1-01", MARCH_13, "AM", "WARDS", False),
    ]
    assert _actions(database)[-3:] == ["schedule.approval", "schedule.bulk_assign", "schedule.publish"]
    database.dispose()


def test_bulk_assign_refuses_bad_rows_and_new_tier1_violations_before_writing(flow_env):
    database = _seed(flow_env)
    before = _rows(database, MARCH_11, MARCH_13)
    unknown = bulk_assign(BulkAssignParams(assignments=[{**WARDS_13[0], "person": "NOBODY"}], auto_approve_as="A-01"))
    assert unknown.status == "failed" and "NOBODY" in unknown.reason and unknown.backup_id is None
    # R2-01 is on call on the 11th (locked): call again on the 12th breaks the consecutive-nights rule.
    nights = bulk_assign(
        BulkAssignParams(
            assignments=[{"person": "R2-01", "date": "2026-03-12", "slot": "CALL", "rotation": "NIGHT"}],
            auto_approve_as="A-01",
        )
    )
    assert (
        nights.status == "failed" and "Tier 1" in nights.reason and nights.backup_id is None
    )  # refused before the backup
    assert _rows(database, MARCH_11, MARCH_13) == before
    assert "schedule.bulk_assign" not in _actions(database)
    database.dispose()


def test_a_bulk_load_that_fails_validation_after_the_write_is_restored(flow_env, monkeypatch):
    from rotaguard.tasks import assignments as assignment_tasks

    database = _seed(flow_env)
    before = _rows(database, MARCH_13, MARCH_13)
    real_write = assignment_tasks.write_bulk_assignments.fn

    def write_then_fail(run_id, entries, actor):
        real_write(run_id, entries, actor)
        raise RuntimeError("injected after the write")

    monkeypatch.setattr(assignment_tasks.write_bulk_assignments, "fn", write_then_fail)
    outcome = bulk_assign(BulkAssignParams(assignments=WARDS_13, auto_approve_as="A-01"))
    assert outcome.status == "rolled_back" and "injected" in outcome.reason
    assert _rows(database, MARCH_13, MARCH_13) == before
    assert "schedule.restore_range" in _actions(database)
    database.dispose()


def test_clear_shows_what_it_deletes_and_needs_the_range_typed(flow_env):
    database = _seed(flow_env)
    run_id = str(uuid.uuid4())
    params = ClearParams(start=MARCH_11, end=MARCH_12, run_id=run_id)
    run = Running(lambda: clear_assignments(params))
    pending = run.paused(run_id)
    assert "delete 2 assignments" in pending.description and "1 locked ones are kept" in pending.description
    assert "| R1-01 | WARDS | 1 |" in pending.description and "| F-01 | WARDS | 1 |" in pending.description
    outcome = run.answer(run_id, {"approve": True, "approver": "A-01", "typed_range": "2026-03-11..2026-03-13"})
    assert outcome.status == "rejected" and "is not 2026-03-11..2026-03-12" in outcome.reason
    assert len(_rows(database, MARCH_11, MARCH_12)) == 3

    run_id = str(uuid.uuid4())
    run = Running(lambda: clear_assignments(params.model_copy(update={"run_id": run_id})))
    outcome = run.answer(run_id, {"approve": True, "approver": "A-01", "typed_range": "2026-03-11..2026-03-12"})
    assert outcome.status == "cleared" and outcome.counts == {"deleted": 2, "kept_locked": 1}
    assert _rows(database, MARCH_11, MARCH_12) == [("R2-01", MARCH_11, "CALL", "NIGHT", True)]
    with database.read() as session:
        event = AuditLog(session).events(limit=1)[0]
    assert (event.action, event.actor, event.details["deleted"], event.details["backup_id"]) == (
        "schedule.clear",
        "A-01",
        2,
        outcome.backup_id,
    )
    database.dispose()


def test_clear_deletes_locked_rows_only_when_asked(flow_env):
    database = _seed(flow_env)
    outcome = clear_assignments(
        ClearParams(
            start=MARCH_11,
            end=MARCH_12,
            include_locked=True,
            people=["R2-01"],
            confirm_range_as="A-01",
            confirmation="2026-03-11..2026-03-12",
        )
    )
    assert outcome.status == "cleared" and outcome.counts["deleted"] == 1
    with database.read() as session:
        assert session.scalars(select(AssignmentRow).where(AssignmentRow.person_id == "R2-01")).first() is None
    assert len(_rows(database, MARCH_11, MARCH_12)) == 2
    database.dispose()
