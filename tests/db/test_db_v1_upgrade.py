"""A real v1 database (schema 0005) upgraded to the v2 schema: nothing it held is lost or changed.

tests/fixtures/v1-database.sqlite was made by the v1 code (commit 8c07acd) with
tests/fixtures/make-v1-fixture.sh: ``init``, ``program import`` of a synthetic program, a
``generate`` of one week (so it holds assignments, a schedule run and an audit chain) and a
``backup create`` (backup records). On PostgreSQL the same rows are loaded into a database
migrated to 0005, which is then upgraded.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from rotaguard.db import AssignmentRepository, AuditLog, PlanRepository, ProgramRepository
from rotaguard.db.migrate import current_revision, downgrade, head_revision, upgrade
from rotaguard.db.tables import BackupRecordRow
from v1data import ASSIGNMENTS, FIRST_DAY, LAST_DAY, V1_REVISION, v1_contents, v1_database, v1_rows_now

__all__ = ["v1_contents", "v1_database"]  # fixtures


def test_the_fixture_is_a_v1_database_with_a_schedule_an_audit_chain_and_backups(v1_contents):
    _, contents = v1_contents
    assert len(contents["assignments"]) == ASSIGNMENTS
    assert len(contents["audit_events"]) >= 3
    assert len(contents["backup_records"]) == 2
    assert {row[3] for row in contents["assignments"]} == {"AM", "PM", "CALL"}


def test_upgrading_a_v1_database_keeps_every_row(v1_database, v1_contents):
    metadata, contents = v1_contents
    upgrade(v1_database)
    assert current_revision(v1_database) == head_revision()
    assert v1_rows_now(v1_database, metadata) == contents


def test_the_upgraded_v1_program_schedule_audit_chain_and_backups_load(v1_database, v1_contents):
    _, contents = v1_contents
    upgrade(v1_database)
    with v1_database.read() as session:
        program = ProgramRepository(session).load()
        schedule = AssignmentRepository(session).schedule()
        chain = AuditLog(session).verify()
        records = session.scalars(select(BackupRecordRow).order_by(BackupRecordRow.id)).all()
        plan = PlanRepository(session).rows()
    assert program is not None
    assert (len(program.people), len(program.rotations), len(program.absences), len(program.staff)) == (12, 4, 2, 2)
    # Still a v1 program: the pool model, AM/PM/CALL as its shifts, no plan.
    assert not program.has_plan_model and program.shift_ids == ("AM", "PM", "CALL") and plan == ()
    assert all(rotation.coverage == () for rotation in program.rotations)
    assert all(person.clinic is None for person in program.people)
    assert len(schedule.assignments) == ASSIGNMENTS
    assert {a.slot for a in schedule.assignments} == {"AM", "PM", "CALL"}
    assert all(type(a.slot) is str for a in schedule.assignments)
    # The compliance engine can place every duty: each names a shift and a service of the program.
    assert all(program.hours_of(a) > 0 for a in schedule.assignments)
    assert chain.ok and chain.events == len(contents["audit_events"])
    assert [r.status for r in records] == ["verified", "verified"] and all(r.schema_revision == "0005" for r in records)


def test_the_assignment_digest_of_a_range_is_unchanged_by_the_upgrade(v1_database):
    # A generation interrupted before the upgrade compares its range to a digest taken then.
    # The assignments table's v1 columns are all there at 0005, so the digest reads it as v1 did.
    with v1_database.read() as session:
        before = AssignmentRepository(session).digest(start=FIRST_DAY, end=LAST_DAY)
    upgrade(v1_database)
    with v1_database.read() as session:
        after = AssignmentRepository(session).digest(start=FIRST_DAY, end=LAST_DAY)
        count = AssignmentRepository(session).count(start=FIRST_DAY, end=LAST_DAY)
    assert count == ASSIGNMENTS and after == before


def test_downgrading_the_upgraded_database_gives_back_the_v1_database(v1_database, v1_contents):
    metadata, contents = v1_contents
    upgrade(v1_database)
    downgrade(v1_database, V1_REVISION)
    assert current_revision(v1_database) == V1_REVISION
    assert v1_rows_now(v1_database, metadata) == contents
    upgrade(v1_database)
    assert current_revision(v1_database) == head_revision()


def test_a_downgrade_is_refused_while_a_duty_is_on_a_v2_shift(v1_database, v1_contents):
    metadata, contents = v1_contents
    upgrade(v1_database)
    with v1_database.read() as session:
        duty = AssignmentRepository(session).schedule().assignments[0]
    with v1_database.write() as session:
        AssignmentRepository(session).upsert(assignments=[duty.model_copy(update={"slot": "NIGHT"})])
    with pytest.raises(RuntimeError, match="1 assignments on v2 shift types"):
        downgrade(v1_database, V1_REVISION)
    # Refused as a whole: the schema and the rows are as they were.
    assert current_revision(v1_database) == head_revision()
    with v1_database.read() as session:
        assert AssignmentRepository(session).count() == ASSIGNMENTS + 1


def test_saving_the_upgraded_v1_program_back_changes_nothing(v1_database):
    # The new columns' defaults on old rows (no coverage, no clinic day) are what a v1 program saves.
    upgrade(v1_database)
    with v1_database.read() as session:
        program = ProgramRepository(session).load()
        overrides = ProgramRepository(session).rule_overrides()
    assert program is not None
    with v1_database.write() as session:
        changes = ProgramRepository(session).save(program=program, rule_overrides=overrides).as_dict()
    assert set(changes) == {"settings", "people", "rotations", "absences", "staff"}
    assert all(counts["created"] == counts["updated"] == 0 for counts in changes.values()), changes
