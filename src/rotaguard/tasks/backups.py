"""The nightly-backup and restore-backup flows' steps: small Prefect tasks over the backup store."""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from rotaguard.backups import BackupError, BackupStatus, Manifest
from rotaguard.backups.offsite import copy_offsite
from rotaguard.db import AuditLog
from rotaguard.errors import RotaGuardError
from rotaguard.settings import Settings
from rotaguard.tasks.context import backup_store
from rotaguard.tasks.generation import GateError


def _summary(manifest: Manifest) -> dict[str, Any]:
    return {
        "id": manifest.id,
        "label": manifest.label,
        "created_at": manifest.created_at.isoformat(),
        "size_bytes": manifest.size_bytes,
        "status": manifest.status.value,
        "offsite": manifest.offsite.value,
    }


@task(cache_policy=NO_CACHE)
def create_verified_backup(label: str) -> dict[str, Any]:
    """Create a backup and verify it (checksum, full read, trial restore, digests)."""
    try:
        with backup_store() as store:
            manifest = store.create(label=label)
    except BackupError as error:
        raise GateError(str(error)) from None
    if manifest.status is not BackupStatus.VERIFIED:
        raise GateError(f"backup {manifest.id} is not verified: {manifest.failure}")
    return _summary(manifest)


@task(cache_policy=NO_CACHE)
def copy_backups_offsite() -> list[dict[str, str]]:
    """Copy every verified backup not yet off-site to S3; an outage leaves them pending."""
    settings = Settings()
    if not settings.s3_bucket:
        return []
    logger = get_run_logger()
    results = []
    with backup_store() as store:
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


@task(cache_policy=NO_CACHE)
def plan_retention() -> dict[str, list[dict[str, Any]]]:
    """What retention would delete, and why everything else stays."""
    with backup_store() as store:
        plan = store.plan_prune(offsite_required=bool(Settings().s3_bucket))
    return {
        "delete": [{**_summary(m), "reason": why} for m, why in plan.delete],
        "keep": [{**_summary(m), "reason": why} for m, why in plan.keep],
    }


@task(cache_policy=NO_CACHE)
def delete_backups(backup_ids: list[str], confirmed_by: str) -> list[str]:
    """Delete the confirmed backups that retention still would delete now (the plan is made again)."""
    with backup_store() as store:
        plan = store.plan_prune(offsite_required=bool(Settings().s3_bucket))
        confirmed = set(backup_ids)
        plan.delete = [(m, why) for m, why in plan.delete if m.id in confirmed]
        return store.prune(plan, actor=confirmed_by)


@task(cache_policy=NO_CACHE)
def check_restore_source(backup_id: str) -> dict[str, Any]:
    """The backup chosen for a restore, verified again now and of this database's kind."""
    try:
        with backup_store() as store:
            return _summary(store.restorable(backup_id))
    except RotaGuardError as error:
        raise GateError(str(error)) from None


@task(cache_policy=NO_CACHE)
def preview_restore(backup_id: str, scope: str, start: dt.date | None, end: dt.date | None) -> list[dict[str, Any]]:
    """Row counts now and in the backup: what the restore will change."""
    with backup_store() as store:
        changes = store.restore_preview(store.get(backup_id), scope=scope, start=start, end=end)
        # Until backups/ is typed, BackupStore's method ``list`` hides the builtin in its own annotations
        # (restore_preview's return type is unusable); once it is, this ignore is unused and can go.
        return [change.as_dict() for change in changes]  # type: ignore[attr-defined,unused-ignore]


@task(cache_policy=NO_CACHE)
def restore_from_backup(
    backup_id: str, scope: str, start: dt.date | None, end: dt.date | None, actor: str, pre_restore_id: str
) -> None:
    """Restore the backup (the whole database or the range's assignments), audited as ``actor``."""
    with backup_store() as store:
        store.restore(backup_id, scope=scope, start=start, end=end, actor=actor, pre_restore=store.get(pre_restore_id))


@task(cache_policy=NO_CACHE)
def verify_restore(backup_id: str, scope: str, start: dt.date | None, end: dt.date | None) -> str:
    """Prove the database now holds what the backup holds; a difference fails the restore."""
    with backup_store() as store:
        difference = store.check_restored(store.get(backup_id), scope=scope, start=start, end=end)
    if difference is not None:
        raise GateError(difference)
    return "the restored data equals the backup's"


@task(cache_policy=NO_CACHE)
def undo_restore(pre_restore_id: str, scope: str, start: dt.date | None, end: dt.date | None) -> str:
    """Put back the state from just before the restore, and prove it."""
    with backup_store() as store:
        pre_restore = store.get(pre_restore_id)
        store.restore(pre_restore_id, scope=scope, start=start, end=end, actor="rotaguard", pre_restore=pre_restore)
        difference = store.check_restored(pre_restore, scope=scope, start=start, end=end)
        with store.database.write() as session:
            AuditLog(session).append(
                actor="rotaguard",
                action="backup.restore_undone",
                subject=pre_restore_id,
                details={"difference": difference or ""},
            )
    if difference is not None:
        raise GateError(f"undoing the restore left a difference: {difference}")
    return f"back to {pre_restore_id}"
