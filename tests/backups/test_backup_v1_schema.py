"""Backups taken before the v2 migration (schema 0005) still verify and restore a date range
after the database is upgraded, and backups of the upgraded database cover the new tables."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from sqlalchemy import delete, func, select

from rotaguard.backups import BackupStore
from rotaguard.backups.manifest import BackupStatus
from rotaguard.db import AssignmentRepository, Database, PlanRepository, ProgramRepository
from rotaguard.db.migrate import upgrade
from rotaguard.db.tables import AssignmentRow
from v1data import ASSIGNMENTS, FIRST_DAY, FIXTURE, LAST_DAY, V1_BACKUP_DIR, v1_contents, v1_database

__all__ = ["v1_contents", "v1_database"]  # fixtures

V2_TABLES = {"shift_types", "block_rotations", "rotation_plan", "program_requests", "holidays", "attending_rows"}
DAY = dt.date(2026, 3, 14)


def _v1_backup_id() -> str:
    (dump,) = V1_BACKUP_DIR.glob("*.dump")
    return dump.name.removesuffix(".dump")


@pytest.fixture
def upgraded_v1_home(tmp_path):
    """The v1 database and its v1 backup (both made by the v1 code), the database upgraded."""
    database_file = tmp_path / "rotaguard.db"
    shutil.copyfile(FIXTURE, database_file)
    backups = tmp_path / "backups"
    shutil.copytree(V1_BACKUP_DIR, backups)
    database = Database(f"sqlite:///{database_file}")
    upgrade(database)
    yield database, backups
    database.dispose()


def test_a_v1_backup_verifies_after_the_upgrade(upgraded_v1_home):
    database, backups = upgraded_v1_home
    store = BackupStore(database=database, directory=backups)
    manifest, checks = store.verify(_v1_backup_id())
    assert manifest.status is BackupStatus.VERIFIED, [c for c in checks if not c.ok]
    assert manifest.schema_revision == "0005" and not V2_TABLES & set(manifest.tables)


def test_a_v1_backup_restores_a_range_into_the_upgraded_database(upgraded_v1_home):
    database, backups = upgraded_v1_home
    with database.read() as session:
        before = AssignmentRepository(session).schedule()
    with database.write() as session:
        session.execute(delete(AssignmentRow).where(AssignmentRow.date == DAY))
    store = BackupStore(database=database, directory=backups)
    manifest = store.get(_v1_backup_id())
    store.restore(manifest.id, scope="assignments", start=FIRST_DAY, end=LAST_DAY, actor="A-01")
    assert store.check_restored(manifest, scope="assignments", start=FIRST_DAY, end=LAST_DAY) is None
    with database.read() as session:
        assert AssignmentRepository(session).schedule() == before
        assert len(before.assignments) == ASSIGNMENTS
        assert ProgramRepository(session).load() is not None


def test_a_backup_of_a_0005_database_restores_a_range_after_the_upgrade(v1_database, tmp_path):
    """On either kind: a backup taken at 0005 (by this code), then the upgrade, then a range restore."""
    store = BackupStore(database=v1_database, directory=tmp_path / "backups")
    old = store.create(label="regular")
    assert old.status is BackupStatus.VERIFIED and old.schema_revision == "0005"
    upgrade(v1_database)
    with v1_database.write() as session:
        session.execute(delete(AssignmentRow).where(AssignmentRow.date == DAY))
    store = BackupStore(database=v1_database, directory=tmp_path / "backups")
    assert store.verify(old.id)[0].status is BackupStatus.VERIFIED
    store.restore(old.id, scope="assignments", start=FIRST_DAY, end=LAST_DAY, actor="A-01")
    with v1_database.read() as session:
        assert AssignmentRepository(session).count() == ASSIGNMENTS
        assert session.scalar(select(func.count()).select_from(AssignmentRow).where(AssignmentRow.date == DAY))


def test_a_backup_of_the_upgraded_database_covers_the_v2_tables_and_restores_them(upgraded_v1_home):
    database, backups = upgraded_v1_home
    store = BackupStore(database=database, directory=backups)
    manifest = store.create(label="regular")
    assert manifest.status is BackupStatus.VERIFIED and V2_TABLES <= set(manifest.tables)
    with database.write() as session:
        session.execute(delete(AssignmentRow))
    store.restore(manifest.id, scope="full", actor="A-01")
    assert store.check_restored(manifest, scope="full") is None
    with database.read() as session:
        assert AssignmentRepository(session).count() == ASSIGNMENTS
        assert PlanRepository(session).rows() == ()


def test_a_range_restore_puts_back_the_plan_rows_starting_in_the_range(database, tmp_path):
    from v2data import BLOCK1, BLOCK2, v2_program

    with database.write() as session:
        ProgramRepository(session).save(program=v2_program(), rule_overrides={})
    store = BackupStore(database=database, directory=tmp_path / "backups")
    backup = store.create(label="regular")
    # Block 2 replanned (R1-01 onto WARDS); a row starting in block 1 changed too, outside the range.
    with database.write() as session:
        plans = PlanRepository(session)
        plans.replace_range(
            start=BLOCK2[0],
            end=BLOCK2[1],
            entries=[v2_program().plan[1].model_copy(update={"rotation_id": "WARDS"})],
        )
        plans.upsert(entries=[v2_program().plan[3].model_copy(update={"rotation_id": "NF"})])
    preview = store.restore_preview(backup, scope="assignments", start=BLOCK2[0], end=BLOCK2[1])
    assert [c.table for c in preview] == [
        f"assignments {BLOCK2[0]}..{BLOCK2[1]}",
        f"rotation_plan {BLOCK2[0]}..{BLOCK2[1]}",
    ]
    assert store.check_restored(backup, scope="assignments", start=BLOCK2[0], end=BLOCK2[1]) is not None
    store.restore(backup.id, scope="assignments", start=BLOCK2[0], end=BLOCK2[1], actor="A-01")
    assert store.check_restored(backup, scope="assignments", start=BLOCK2[0], end=BLOCK2[1]) is None
    with database.read() as session:
        rows = PlanRepository(session).rows()
    # Block 2's row is the backup's again; the change to a row starting in block 1 stays.
    assert rows[1] == v2_program().plan[1]
    assert rows[3].start == dt.date(2026, 7, 15) and rows[3].rotation_id == "NF"
    assert BLOCK1[0] == rows[0].start


def test_a_v1_backup_leaves_the_plan_alone_in_a_range_restore(upgraded_v1_home):
    database, backups = upgraded_v1_home
    store = BackupStore(database=database, directory=backups)
    path = store.get(_v1_backup_id()).path_in(backups)
    assert store.engine.plan_rows(path, FIRST_DAY, LAST_DAY) is None
    preview = store.restore_preview(store.get(_v1_backup_id()), scope="assignments", start=FIRST_DAY, end=LAST_DAY)
    assert [c.table for c in preview] == [f"assignments {FIRST_DAY}..{LAST_DAY}"]


def test_a_full_restore_of_a_0005_backup_gives_the_0005_database_which_upgrades_again(v1_database, tmp_path):
    """On either kind: the database becomes the backup's, schema revision included (the v2 tables
    it did not have go; they are in the pre-restore backup); ``rotaguard init`` upgrades it."""
    from rotaguard.db.migrate import current_revision, head_revision

    store = BackupStore(database=v1_database, directory=tmp_path / "backups")
    old = store.create(label="regular")
    upgrade(v1_database)
    from v2data import v2_program

    with v1_database.write() as session:
        session.execute(delete(AssignmentRow))
        ProgramRepository(session).save(
            program=v2_program(people=(), plan=(), requests=(), attending=(), clinic_service=None), rule_overrides={}
        )
    store = BackupStore(database=v1_database, directory=tmp_path / "backups")
    safety = store.restore(old.id, scope="full", actor="A-01")
    assert safety.schema_revision == head_revision() and V2_TABLES <= set(safety.tables)
    assert current_revision(v1_database) == "0005"
    assert store.check_restored(old, scope="full") is None
    upgrade(v1_database)
    with v1_database.read() as session:
        program = ProgramRepository(session).load()
        assert AssignmentRepository(session).count() == ASSIGNMENTS
    assert program is not None and not program.has_plan_model and program.shift_types == ()
