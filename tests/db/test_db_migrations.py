from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from rotaguard.db import Database
from rotaguard.db.migrate import current_revision, downgrade, head_revision, upgrade
from rotaguard.db.tables import Base

EXPECTED_TABLES = {
    "program_settings",
    "slot_times",
    "people",
    "person_credentials",
    "rotations",
    "absences",
    "assignments",
    "schedule_runs",
    "swap_requests",
    "audit_events",
    "backup_records",
    "operation_locks",
    # 0006: the v2 model
    "shift_types",
    "block_rotations",
    "rotation_plan",
    "program_requests",
    "holidays",
    "attending_rows",
    # 0007: the database's identity
    "database_identity",
}
REVISIONS = ["0001", "0002", "0003", "0004", "0005", "0006", "0007"]


def test_upgrade_creates_every_table_and_is_idempotent(empty_database_url):
    database = Database(empty_database_url)
    assert current_revision(database) is None
    upgrade(database)
    upgrade(database)
    assert current_revision(database) == head_revision()
    assert EXPECTED_TABLES <= set(inspect(database.engine).get_table_names())
    database.dispose()


def test_migrations_match_the_models(empty_database_url):
    """Alembic owns the schema: the migrations must produce exactly what the models declare."""
    database = Database(empty_database_url)
    upgrade(database)
    with database.engine.connect() as connection:
        differences = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata
        )
    database.dispose()
    assert differences == []


def test_downgrade_to_base_removes_everything(empty_database_url):
    database = Database(empty_database_url)
    upgrade(database)
    downgrade(database, "base")
    assert current_revision(database) is None
    assert not EXPECTED_TABLES & set(inspect(database.engine).get_table_names())
    database.dispose()


def test_the_revisions_form_one_line_ending_at_0007():
    from alembic.script import ScriptDirectory

    from rotaguard.db.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config())
    assert [r.revision for r in reversed(list(script.walk_revisions()))] == REVISIONS
    assert head_revision() == REVISIONS[-1]


def test_each_revision_upgrades_and_downgrades_one_step(empty_database_url):
    database = Database(empty_database_url)
    for revision in REVISIONS:
        upgrade(database, revision)
        assert current_revision(database) == revision
    for previous in reversed([None, *REVISIONS[:-1]]):
        downgrade(database, previous or "base")
        assert current_revision(database) == previous
    database.dispose()
