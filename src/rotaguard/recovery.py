"""Recover runs that died mid-write (kill -9, power loss): their marker is still in flight."""

from __future__ import annotations

from dataclasses import dataclass

from rotaguard.backups import BackupStore
from rotaguard.db import AssignmentRepository, AuditLog, Database
from rotaguard.db.runs import ScheduleRunRepository
from rotaguard.operations import operation


@dataclass(frozen=True)
class Recovered:
    run_id: str
    action: str
    detail: str


def recover_interrupted(database: Database, store: BackupStore, *, actor: str, skip: str | None = None) -> list[Recovered]:
    """Restore the range of every run that died after its write began; close runs that died before.

    The caller must hold the schedule-writes lock: then no other run can be alive mid-write.
    ``skip`` is the caller's own run. Safe to repeat: a recovered run is no longer in flight.
    Recovery writes the schedule tables, so before it restores anything it has the verified backup
    under two hours old that the registry requires of it (no backup, nothing touched).
    """
    with database.read() as session:
        runs = [(r.id, r.status, r.start_date, r.end_date, r.backup_id, (r.metrics or {}).get("pre_digest")) for r in ScheduleRunRepository(session).in_flight()]
    runs = [run for run in runs if run[0] != skip]
    if any(_wrote(status, backup_id, pre_digest) for _, status, _, _, backup_id, pre_digest in runs):
        store.ensure_recent(label="pre-op:recover", max_age=operation("recover").requirements.verified_backup_max_age)
    results = []
    for run_id, status, start, end, backup_id, pre_digest in runs:
        if not _wrote(status, backup_id, pre_digest):
            outcome = Recovered(run_id, "closed", "it stopped before writing anything")
            new_status = "failed"
        else:
            path = store.get(backup_id).path_in(store.directory)
            rows = store.engine.restore_assignments(path, start, end)
            with database.read() as session:
                digest = AssignmentRepository(session).digest(start=start, end=end)
            detail = f"restored {rows} assignments of {start}..{end} from {backup_id}"
            if digest != pre_digest:
                detail += "; WARNING: the range differs from its state before the run"
            outcome = Recovered(run_id, "restored", detail)
            new_status = "recovered"
        with database.write() as session:
            ScheduleRunRepository(session).update(run_id=run_id, status=new_status, error=f"interrupted: {outcome.detail}")
            AuditLog(session).append(actor=actor, action="schedule.recover", subject=run_id, details={"action": outcome.action, "detail": outcome.detail})
        results.append(outcome)
    return results


def _wrote(status: str, backup_id: str | None, pre_digest: str | None) -> bool:
    """Whether the run had begun writing: its marker holds the backup and the range's digest before."""
    return status != "running" and backup_id is not None and pre_digest is not None
