"""Alembic, driven from code: ``rotaguard init`` upgrades, ``health`` compares revisions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from rotaguard.db.engine import Database

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no Alembic revisions are packaged"
    return head


def current_revision(database: Database) -> str | None:
    with database.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


class MigrationError(RuntimeError):
    """A migration left the database inconsistent; it was rolled back."""


@contextmanager
def _migrating(database: Database) -> Iterator[Config]:
    """One transaction for the migrations, on a connection fit for them.

    SQLite changes a constraint by recreating the table (Alembic's batch mode). With foreign-key
    enforcement on, dropping a table others reference deletes their rows (CASCADE) or is refused
    (RESTRICT); the pragma cannot change inside a transaction, so it is switched off on the raw
    driver connection before the transaction begins, and every foreign key is checked before
    the commit.
    """
    config = alembic_config()
    sqlite = database.kind == "sqlite"
    with database.engine.connect() as connection:
        # The DBAPI connection: a statement through SQLAlchemy would BEGIN first.
        raw = connection.connection.driver_connection
        assert raw is not None, "a connection checked out of the pool has its driver connection"
        if sqlite:
            raw.execute("PRAGMA foreign_keys = OFF")
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                yield config
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise MigrationError(f"the migration broke {len(broken)} foreign keys, the first {broken[0]}")
        finally:
            if sqlite:
                raw.execute("PRAGMA foreign_keys = ON")


def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema to ``revision``; the pending migrations run in one transaction."""
    with _migrating(database) as config:
        command.upgrade(config, revision)


def downgrade(database: Database, revision: str) -> None:
    with _migrating(database) as config:
        command.downgrade(config, revision)
