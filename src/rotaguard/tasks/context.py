"""What every task opens from the one settings object: the database and the backup store.

``database_session`` and ``backup_store`` close what they opened when the block ends, failed or not.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rotaguard.backups import BackupStore
from rotaguard.db import Database
from rotaguard.settings import Settings


def open_database() -> Database:
    """The settings' database; the caller disposes it (``database_session`` does that itself)."""
    settings = Settings()
    # Every audited write moves the audit anchor beside the backups.
    return Database(settings.resolved_database_url, audit_anchor_dir=settings.resolved_backup_dir)


def open_store(database: Database) -> BackupStore:
    """The settings' backup store over ``database``."""
    settings = Settings()
    return BackupStore(
        database=database,
        directory=settings.resolved_backup_dir,
        retention_days=settings.backup_retention_days,
        min_keep=settings.backup_min_keep,
    )


@contextmanager
def database_session() -> Iterator[Database]:
    """The settings' database for the block; its engine (and every connection) is disposed at the end."""
    database = open_database()
    try:
        yield database
    finally:
        database.dispose()


@contextmanager
def backup_store() -> Iterator[BackupStore]:
    """The settings' backup store for the block, over a database disposed at the end (``store.database``)."""
    with database_session() as database:
        yield open_store(database)
