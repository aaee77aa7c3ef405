"""The generation flow against a real Prefect API, on SQLite and PostgreSQL."""

import datetime as dt
import json

from sqlalchemy import select

from factories import dumps, program_document
from rotaguard.db import AssignmentRepository, AuditLog, Database
from rotaguard.db.tables import ScheduleRunRow
from rotaguard.flows.generate_schedule import GenerateParams, generate_schedule
from rotaguard.interchange.document import parse_document
from rotaguard.interchange.importer import import_document

START = dt.date(2026, 3, 12)
END = dt.date(2026, 3, 14)


def _seed(database_url: str, *, night_min: int = 0) -> Database:
    document = program_document()
    document["rotations"][1]["residents"]["min"] = night_min
    database = Database(database_url)
    import_document(database, parse_document(json.dumps(document)), actor="test", source="factory")
    return database


def _run_row(database, run_id):
    with database.read() as session:
        return session.get(ScheduleRunRow, run_id)


def test_happy_path_publishes(flow_env):
    database = _seed(flow_env)
    outcome = generate_schedule(GenerateParams(start=START, end=END, auto_approve_as="tester", timeout_seconds=30))
    assert outcome.status == "published", outcome.reason
    assert outcome.metrics["tier1_violations"] == 0 and outcome.metrics["demand_coverage"] == 1.0
    assert outcome.backup_id and outcome.flow_run_id
    run = _run_row(database, outcome.run_id)
    assert run.status == "published" and run.approved_by == "tester" and run.backup_id == outcome.backup_id
    with database.read() as session:
        made = AssignmentRepository(session).schedule(start=START, end=END).assignments
        actions = [e.action for e in reversed(AuditLog(session).events())]
        assert AuditLog(session).verify().ok
    assert any(a.source == "solver" for a in made)
    assert actions == ["program.import", "schedule.approval", "schedule.write", "schedule.publish"]
    database.dispose()


def test_failing_gate_rolls_back_to_the_exact_previous_range(flow_env):
    # One senior cannot take call three nights running: coverage stays below 100%.
    database = _seed(flow_env, night_min=1)
    with database.read() as session:
        before = AssignmentRepository(session).digest(start=START, end=END)
    outcome = generate_schedule(GenerateParams(start=START, end=END, auto_approve_as="tester", min_coverage=1.0, timeout_seconds=30))
    assert outcome.status == "rolled_back" and "demand coverage" in outcome.reason
    with database.read() as session:
        assert AssignmentRepository(session).digest(start=START, end=END) == before
    assert _run_row(database, outcome.run_id).status == "rolled_back"
    database.dispose()


def test_a_held_lock_rejects_the_run(flow_env):
    from rotaguard.db.locks import SCHEDULE_WRITES, acquire_lock, release_lock

    database = _seed(flow_env)
    assert acquire_lock(database, name=SCHEDULE_WRITES, holder="someone-else", ttl=dt.timedelta(minutes=5), wait_seconds=0)
    with database.read() as session:
        before = AssignmentRepository(session).digest(start=START, end=END)
    outcome = generate_schedule(GenerateParams(start=START, end=END, auto_approve_as="tester", lock_wait_seconds=1, timeout_seconds=30))
    assert outcome.status == "rejected" and outcome.reason.startswith("locked")
    with database.read() as session:
        assert AssignmentRepository(session).digest(start=START, end=END) == before
    release_lock(database, name=SCHEDULE_WRITES, holder="someone-else")
    database.dispose()
