"""Backups of a test database as if taken weeks ago: what retention acts on."""

from __future__ import annotations

import datetime as dt

from rotaguard.backups import BackupStore
from rotaguard.backups.manifest import write_manifest


def age_backup(store: BackupStore, backup_id: str, days: int) -> None:
    """Rewrite a backup's manifest as if it had been taken ``days`` ago."""
    manifest = store.get(backup_id)
    write_manifest(
        manifest.model_copy(update={"created_at": manifest.created_at - dt.timedelta(days=days)}), store.directory
    )


def old_backups(store: BackupStore, count: int) -> list[str]:
    """``count`` verified backups 41..(40+count) days old, oldest first. The oldest is retention's
    baseline; the newest is among the 2 newest verified until another backup is taken."""
    ids = [store.create(label="regular").id for _ in range(count)]
    for age, backup_id in zip(range(40 + count, 40, -1), ids, strict=True):
        age_backup(store, backup_id, age)
    store.sync_records()
    return ids
