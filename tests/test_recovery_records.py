"""What recovery does with the runs it finds in flight (issue 26, items 9 and 10), on SQLite and
PostgreSQL. The flows' steps are called as plain functions (a task's ``.fn``) in the order the flows
call them, and the process "dies" where the test stops calling them: no Prefect API is needed.

- Item 9: the recovery of the writer ahead must not close a run that is still waiting for the
  schedule-writes lock, and a run that goes on to publish keeps no "interrupted" text.
- Item 10: a clearing killed after its delete committed is finished by recovery (marked cleared),
  never undone; one whose delete did not commit is put back.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import uuid

import pytest
from sqlalchemy import func, select, update

from factories import dumps, program_document
from rotaguard.backups import BackupStore
from rotaguard.db import AuditLog, Database, processes
from rotaguard.db.runs import PROCESS, WAITING_UNTIL, ScheduleRunRepository
from rotaguard.db.tables import AssignmentRow, ScheduleRunRow
from rotaguard.flows.gate import create_run, mark_gate_held, record_run
from rotaguard.interchange.document import parse_document
from rotaguard.interchange.importer import import_document
from rotaguard.recovery import recover_interrupted
from rotaguard.tasks.assignments import delete_assignments, preview_clear
from rotaguard.tasks.generation import mark_writing

START, END = dt.date(2026, 3, 12), dt.date(2026, 3, 12)  # two unlocked assignments of the factory program


@pytest.fixture
def seeded(database_url, tmp_path, monkeypatch):
    """The factory program in the test's database, and the settings the steps read (their own sessions)."""
    monkeypatch.setenv("ROTAGUARD_DATABASE_URL", database_url)
    monkeypatch.setenv("ROTAGUARD_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ROTAGUARD_BACKUP_DIR", str(tmp_path / "backups"))
    database = Database(database_url)
    import_document(database, parse_document(dumps(program_document())), actor="test", source="factory")
    yield database, BackupStore(database=database, directory=tmp_path / "backups")
    database.dispose()


def _run(database: Database, run_id: str) -> ScheduleRunRow:
    with database.read() as session:
        row = ScheduleRunRepository(session).get(run_id=run_id)
        assert row is not None
        return row


def _in_range(database: Database) -> int:
    with database.read() as session:
        return session.scalar(
            select(func.count()).select_from(AssignmentRow).where(AssignmentRow.date.between(START, END))
        )


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _set_metrics(database: Database, run_id: str, **values) -> None:
    with database.write() as session:
        ScheduleRunRepository(session).update(run_id=run_id, metrics=values)


# ---------------------------------------------------------------------------------------- item 9


def test_the_recovery_of_the_writer_ahead_leaves_a_waiting_run_alone_and_it_publishes_clean(seeded):
    """Two generations at once: the second waits for the lock while the first recovers."""
    database, store = seeded
    waiting = str(uuid.uuid4())
    create_run(waiting, start=START, end=END, algorithm="greedy", flow_run_id=None, wait_seconds=30)
    # The first writer holds the lock now and recovers everything in flight but its own run.
    results = recover_interrupted(database, store, actor="rotaguard", skip="the-writer-ahead")
    assert waiting not in {r.run_id for r in results}
    row = _run(database, waiting)
    assert (row.status, row.error, row.finished_at) == ("running", None, None)
    # Its turn: it takes the gate, writes and publishes.
    mark_gate_held(waiting)
    assert _run(database, waiting).metrics["waiting_for_lock"] is False
    record_run(waiting, status="published", error=None)
    row = _run(database, waiting)
    assert (row.status, row.error) == ("published", None)


def test_a_run_closed_meanwhile_keeps_no_interrupted_text_once_it_holds_the_gate(seeded):
    """What the code before the fix left: the waiting run closed as interrupted. Once it holds the gate
    the record is its own again, and publishing leaves no trace of the false recovery."""
    database, _ = seeded
    run_id = str(uuid.uuid4())
    create_run(run_id, start=START, end=END, algorithm="greedy", flow_run_id=None, wait_seconds=30)
    with database.write() as session:
        ScheduleRunRepository(session).update(
            run_id=run_id, status="failed", error="interrupted: it stopped before writing anything"
        )
    mark_gate_held(run_id)
    row = _run(database, run_id)
    assert (row.status, row.error, row.finished_at) == ("running", None, None)
    record_run(run_id, status="published", error=None)
    assert _run(database, run_id).error is None


def test_a_waiting_run_whose_process_is_gone_or_whose_wait_ran_out_is_closed(seeded):
    database, store = seeded
    gone, elsewhere, expired, old = (str(uuid.uuid4()) for _ in range(4))
    for run_id in (gone, elsewhere, expired, old):
        create_run(run_id, start=START, end=END, algorithm="greedy", flow_run_id=None, wait_seconds=30)
    other_machine = "another-host" + processes.host_key()[processes.host_key().index(processes.SEPARATOR) :]
    _set_metrics(database, gone, **{PROCESS: {"host": processes.host_key(), "pid": _dead_pid()}})
    _set_metrics(database, elsewhere, **{PROCESS: {"host": other_machine, "pid": 1}})
    _set_metrics(
        database,
        expired,
        **{PROCESS: {"host": other_machine, "pid": 1}, WAITING_UNTIL: "2026-01-01T00:00:00+00:00"},
    )
    with database.write() as session:  # a record written before runs said they were waiting
        session.execute(update(ScheduleRunRow).where(ScheduleRunRow.id == old).values(metrics={}))
    closed = {r.run_id for r in recover_interrupted(database, store, actor="rotaguard", skip="the-writer-ahead")}
    assert closed == {gone, expired, old}
    assert _run(database, elsewhere).status == "running"  # on another machine, within its wait: maybe alive
    for run_id in closed:
        row = _run(database, run_id)
        assert row.status == "failed" and row.error == "interrupted: it stopped before writing anything"


def test_a_run_that_held_the_gate_and_died_is_still_closed(seeded):
    database, store = seeded
    run_id = str(uuid.uuid4())
    create_run(run_id, start=START, end=END, algorithm="greedy", flow_run_id=None, wait_seconds=30)
    mark_gate_held(run_id)  # then killed, before writing: the lock it held is the recovering writer's now
    results = recover_interrupted(database, store, actor="rotaguard", skip="the-next-writer")
    assert [(r.run_id, r.action) for r in results] == [(run_id, "closed")]
    assert _run(database, run_id).status == "failed"


# ---------------------------------------------------------------------------------------- item 10


def _clear_until_killed(database: Database, store: BackupStore, *, delete: bool) -> tuple[str, int]:
    """The clear-assignments flow's steps up to its delete (or to just before it); then the process dies."""
    backup = store.create()
    run_id = str(uuid.uuid4())
    create_run(run_id, start=START, end=END, algorithm="clear", flow_run_id=None, wait_seconds=30)
    mark_gate_held(run_id)
    record_run(run_id, backup_id=backup.id, status="running")
    preview = preview_clear.fn(START, END, None, False)
    assert preview["total"] == 2
    mark_writing.fn(run_id, START, END, backup.id)
    deleted = 0
    if delete:
        deleted = delete_assignments.fn(run_id, START, END, None, False, "A-01", backup.id, preview["total"])
    return run_id, deleted


def test_a_clear_killed_after_its_delete_committed_is_already_finished(seeded):
    database, store = seeded
    run_id, deleted = _clear_until_killed(database, store, delete=True)
    assert deleted == 2 and _in_range(database) == 0
    row = _run(database, run_id)
    assert (row.status, row.error) == ("cleared", None) and row.finished_at is not None
    assert all(r.run_id != run_id for r in recover_interrupted(database, store, actor="A-01"))
    assert _in_range(database) == 0  # the approved clear stands


def test_recover_finishes_a_committed_clear_whose_record_still_says_writing(seeded):
    """The record a clear killed after its commit left before the fix (its run still "writing"):
    recover marks it cleared and puts nothing back."""
    database, store = seeded
    run_id, _ = _clear_until_killed(database, store, delete=True)
    with database.write() as session:
        session.execute(
            update(ScheduleRunRow)
            .where(ScheduleRunRow.id == run_id)
            .values(status="writing", finished_at=None, error=None)
        )
    results = recover_interrupted(database, store, actor="A-01")
    assert [(r.run_id, r.action) for r in results if r.run_id == run_id] == [(run_id, "finished")]
    assert _in_range(database) == 0
    row = _run(database, run_id)
    assert (row.status, row.error) == ("cleared", None) and row.finished_at is not None
    with database.read() as session:
        event = AuditLog(session).events(limit=1)[0]
        assert (event.action, event.subject, event.details["action"]) == ("schedule.recover", run_id, "finished")
    assert all(r.run_id != run_id for r in recover_interrupted(database, store, actor="A-01"))  # once


def test_recover_puts_back_a_clear_whose_delete_never_committed(seeded):
    database, store = seeded
    run_id, _ = _clear_until_killed(database, store, delete=False)
    results = recover_interrupted(database, store, actor="A-01")
    assert [(r.run_id, r.action) for r in results if r.run_id == run_id] == [(run_id, "restored")]
    assert _in_range(database) == 2 and _run(database, run_id).status == "recovered"
