"""What every task opens from the one settings object: the database and the backup store."""

from __future__ import annotations

from rotaguard.backups import BackupStore
from rotaguard.db import Database
from rotaguard.settings import Settings


def open_database() -> Database:
    return Database(Settings().resolved_database_url)


def open_store(database: Database) -> BackupStore:
    settings = Settings()
    return BackupStore(
        database=database,
        directory=settings.resolved_backup_dir,
        retention_days=settings.backup_retention_days,
        min_keep=settings.backup_min_keep,
    )
