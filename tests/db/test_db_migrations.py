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
}


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
