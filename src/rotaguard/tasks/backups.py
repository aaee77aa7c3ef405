"""The nightly-backup and restore-backup flows' steps: small Prefect tasks over the backup store."""

from __future__ import annotations

import datetime as dt

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from rotaguard.backups import BackupError, BackupStatus, Manifest
from rotaguard.backups.offsite import copy_offsite
from rotaguard.db import AuditLog
from rotaguard.errors import RotaGuardError
from rotaguard.settings import Settings
from rotaguard.tasks.context import open_database, open_store
from rotaguard.tasks.generation import GateError


def _summary(manifest: Manifest) -> dict:
    return {
        "id": manifest.id,
        "label": manifest.label,
        "created_at": manifest.created_at.isoformat(),
        "size_bytes": manifest.size_bytes,
        "status": manifest.status.value,
        "offsite": manifest.offsite.value,
    }


@task(cache_policy=NO_CACHE)
def create_verified_backup(label: str) -> dict:
    """Create a backup and verify it (checksum, full read, trial restore, digests)."""
    database = open_database()
    try:
        manifest = open_store(database).create(label=label)
    except BackupError as error:
        raise GateError(str(error)) from None
    finally:
        database.dispose()
    if manifest.status is not BackupStatus.VERIFIED:
        raise GateError(f"backup {manifest.id} is not verified: {manifest.failure}")
    return _summary(manifest)


@task(cache_policy=NO_CACHE)
def copy_backups_offsite() -> list[dict]:
    """Copy every verified backup not yet off-site to S3; an outage leaves them pending."""
    settings = Settings()
    if not settings.s3_bucket:
        return []
    logger = get_run_logger()
    database = open_database()
    try:
        store = open_store(database)
        results = []
        for manifest in store.list():
            if manifest.status is not BackupStatus.VERIFIED or manifest.offsite.value == "copied":
                continue
            updated, error = copy_offsite(settings, store, manifest)
            if error:
                logger.warning("off-site copy of %s pending: %s", updated.id, error.splitlines()[0])
            results.append(
                {
                    "id": updated.id,
                    "offsite": updated.offsite.value,
                    "error": (error or "").splitlines()[0] if error else "",
                }
            )
        return results
    finally:
        database.dispose()


@task(cache_policy=NO_CACHE)
def plan_retention() -> dict:
    """What retention would delete, and why everything else stays."""
    database = open_database()
    try:
        store = open_store(database)
        plan = store.plan_prune(offsite_required=bool(Settings().s3_bucket))
    finally:
        database.dispose()
    return {
        "delete": [{**_summary(m), "reason": why} for m, why in plan.delete],
        "keep": [{**_summary(m), "reason": why} for m, why in plan.keep],
    }


@task(cache_policy=NO_CACHE)
def delete_backups(backup_ids: list[str], confirmed_by: str) -> list[str]:
    """Delete the confirmed backups that retention still would delete now (the plan is made again)."""
    database = open_database()
    try:
        store = open_store(database)
        plan = store.plan_prune(offsite_required=bool(Settings().s3_bucket))
        confirmed = set(backup_ids)
        plan.delete = [(m, why) for m, why in plan.delete if m.id in confirmed]
        return store.prune(plan, actor=confirmed_by)
    finally:
        database.dispose()


@task(cache_policy=NO_CACHE)
def check_restore_source(backup_id: str) -> dict:
    """The backup chosen for a restore, verified again now and of this database's kind."""
    database = open_database()
    try:
        return _summary(open_store(database).restorable(backup_id))
    except RotaGuardError as error:
        raise GateError(str(error)) from None
    finally:
        database.dispose()


@task(cache_policy=NO_CACHE)
def preview_restore(backup_id: str, scope: str, start: dt.date | None, end: dt.date | None) -> list[dict]:
    """Row counts now and in the backup: what the restore will change."""
    database = open_database()
    try:
        store = open_store(database)
        return [
            change.as_dict()
            for change in store.restore_preview(store.get(backup_id), scope=scope, start=start, end=end)
        ]
    finally:
        database.dispose()


@task(cache_policy=NO_CACHE)
def restore_from_backup(
    backup_id: str, scope: str, start: dt.date | None, end: dt.date | None, actor: str, pre_restore_id: str
) -> None:
    """Restore the backup (the whole database or the range's assignments), audited as ``actor``."""
    database = open_database()
    try:
        store = open_store(database)
        store.restore(backup_id, scope=scope, start=start, end=end, actor=actor, pre_restore=store.get(pre_restore_id))
    finally:
        database.dispose()


@task(cache_policy=NO_CACHE)
def verify_restore(backup_id: str, scope: str, start: dt.date | None, end: dt.date | None) -> str:
    """Prove the database now holds what the backup holds; a difference fails the restore."""
    database = open_database()
    try:
        store = open_store(database)
        difference = store.check_restored(store.get(backup_id), scope=scope, start=start, end=end)
    finally:
        database.dispose()
    if difference is not None:
        raise GateError(difference)
    return "the restored data equals the backup's"


@task(cache_policy=NO_CACHE)
def undo_restore(pre_restore_id: str, scope: str, start: dt.date | None, end: dt.date | None) -> str:
    """Put back the state from just before the restore, and prove it."""
    database = open_database()
    try:
        store = open_store(database)
        pre_restore = store.get(pre_restore_id)
        store.restore(pre_restore_id, scope=scope, start=start, end=end, actor="rotaguard", pre_restore=pre_restore)
        difference = store.check_restored(pre_restore, scope=scope, start=start, end=end)
        with database.write() as session:
            AuditLog(session).append(
                actor="rotaguard",
                action="backup.restore_undone",
                subject=pre_restore_id,
                details={"difference": difference or ""},
            )
    finally:
        database.dispose()
    if difference is not None:
        raise GateError(f"undoing the restore left a difference: {difference}")
    return f"back to {pre_restore_id}"
