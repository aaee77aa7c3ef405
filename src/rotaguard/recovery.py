"""Recover what died mid-write (kill -9, power loss): generations, bulk loads, clearings and year
plans whose run is still in flight, a full restore whose marker is still beside the backups, and the backups a
killed process left half-written or unverified."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from rotaguard.backups import BackupStore
from rotaguard.db import AssignmentRepository, AuditLog, Database, PlanRepository
from rotaguard.db.runs import ScheduleRunRepository, still_waiting
from rotaguard.db.tables import AuditEventRow
from rotaguard.operations import operation

# The schedule_runs algorithm of a clear-assignments run (flows/clear_assignments.py).
CLEAR_ALGORITHM = "clear"
# The schedule_runs algorithm of a plan-year run (flows/plan_year.py): its range is the rotation
# plan's, from the first re-planned block to the year's end, and only the plan's rows are put back.
PLAN_ALGORITHM = "plan"


@dataclass(frozen=True)
class Recovered:
    run_id: str
    action: str
    detail: str


def recover_interrupted(
    database: Database, store: BackupStore, *, actor: str, skip: str | None = None
) -> list[Recovered]:
    """Finish an interrupted full restore, tidy the backups, then restore the range of every run
    that died after its write began and close the runs that died before.

    The caller must hold the schedule-writes lock: then no other run can be alive mid-write. A run
    still waiting for that lock (its record says so, and its process is not provably gone) is left
    alone. ``skip`` is the caller's own run. A clearing whose delete committed is marked cleared
    rather than undone. Safe to repeat: a recovered run is no longer in flight.
    Recovery writes the schedule tables, so before it restores anything it has the verified backup
    under two hours old that the registry requires of it (no backup, nothing touched).
    """
    # First, before any backup is taken: until the restore's newer audit events are back, the
    # chain is shorter than the audit anchor and a backup would be refused.
    results = _finish_restore(store, actor)
    results += _tidy_backups(store)
    with database.read() as session:
        runs = [
            _InFlight(
                r.id, r.status, r.algorithm, r.start_date, r.end_date, r.backup_id, (r.metrics or {}).get("pre_digest")
            )
            for r in ScheduleRunRepository(session).in_flight()
            # A run still waiting for the schedule writes (alive, or not yet past its wait) is no
            # interrupted run: it holds nothing and has written nothing (issue 26, item 9).
            if r.id != skip and not (r.status == "running" and still_waiting(r.metrics))
        ]
    # A clearing whose delete committed is finished, never undone: its delete and its audit event are
    # one transaction, so the event proves the commit (issue 26, item 10).
    for run in [run for run in runs if run.algorithm == CLEAR_ALGORITHM and run.wrote]:
        committed = _committed_clear(database, run.run_id)
        if committed is not None:
            outcome = Recovered(
                run.run_id, "finished", f"its delete of {committed} assignments had committed: marked cleared"
            )
            with database.write() as session:
                _close(session, actor, outcome, status="cleared", error=None)
            results.append(outcome)
            runs.remove(run)
    if any(run.wrote for run in runs):
        max_age = operation("recover").requirements.verified_backup_max_age
        assert max_age is not None  # the registry gates recover on a verified backup
        store.ensure_recent(label="pre-op:recover", max_age=max_age)
    for run in runs:
        if run.wrote:
            assert run.backup_id is not None and run.pre_digest is not None  # as wrote found
            results.append(
                _restore_range(
                    database,
                    store,
                    actor,
                    run.run_id,
                    run.start,
                    run.end,
                    run.backup_id,
                    run.pre_digest,
                    plan=run.algorithm == PLAN_ALGORITHM,
                )
            )
        else:
            outcome = Recovered(run.run_id, "closed", "it stopped before writing anything")
            with database.write() as session:
                _close(session, actor, outcome, status="failed")
            results.append(outcome)
    return results


@dataclass(frozen=True)
class _InFlight:
    """A run found in flight: what recovery needs of its record."""

    run_id: str
    status: str
    algorithm: str
    start: dt.date
    end: dt.date
    backup_id: str | None
    pre_digest: str | None

    @property
    def wrote(self) -> bool:
        """Whether the run had begun writing: its marker holds the backup and the range's digest before."""
        return self.status != "running" and self.backup_id is not None and self.pre_digest is not None


def _committed_clear(database: Database, run_id: str) -> int | None:
    """The number of assignments a clearing's committed delete removed (its ``schedule.clear`` event); None
    when the delete never committed."""
    with database.read() as session:
        event = session.scalars(
            select(AuditEventRow)
            .where(AuditEventRow.action == "schedule.clear", AuditEventRow.subject == run_id)
            .order_by(AuditEventRow.id.desc())
            .limit(1)
        ).first()
        return None if event is None else int((event.details or {}).get("deleted", 0))


def _restore_range(
    database: Database,
    store: BackupStore,
    actor: str,
    run_id: str,
    start,
    end,
    backup_id: str,
    pre_digest: str,
    *,
    plan: bool = False,
) -> Recovered:
    """Put the run's range back from its pre-op backup, closing the run and auditing it in the
    restore's own transaction: a crash during recovery leaves the run in flight, to be recovered again.
    With ``plan`` (a plan run, which never touched duties) the range's rotation-plan rows only."""
    path = store.get(backup_id).path_in(store.directory)
    outcome: list[Recovered] = []
    repository = PlanRepository if plan else AssignmentRepository
    rows_of, what = ("rotation plan rows", "the plan") if plan else ("assignments", "the range")

    def close(session, rows: int) -> None:
        digest = repository(session).digest(start=start, end=end)
        detail = f"restored {rows} {rows_of} of {start}..{end} from {backup_id}"
        if digest != pre_digest:
            detail += f"; WARNING: {what} differs from its state before the run"
        outcome.append(Recovered(run_id, "restored", detail))
        _close(session, actor, outcome[0], status="recovered")

    restore = store.engine.restore_plan if plan else store.engine.restore_assignments
    restore(path, start, end, audit=close)
    return outcome[0]


def _close(session, actor: str, outcome: Recovered, *, status: str, error: str | None = "") -> None:
    """Give the run its final status (with ``error``, by default "interrupted: <detail>") and audit it."""
    ScheduleRunRepository(session).update(
        run_id=outcome.run_id, status=status, error=f"interrupted: {outcome.detail}" if error == "" else error
    )
    AuditLog(session).append(
        actor=actor,
        action="schedule.recover",
        subject=outcome.run_id,
        details={"action": outcome.action, "detail": outcome.detail},
    )


def _finish_restore(store: BackupStore, actor: str) -> list[Recovered]:
    detail = store.finish_interrupted_restore(actor=actor)
    return [Recovered("restore", "finished", detail)] if detail else []


def _tidy_backups(store: BackupStore) -> list[Recovered]:
    """Dead writers' temporary files go; records follow the manifests; unverified backups are verified."""
    results = [
        Recovered(name, "deleted", "a dead process's unfinished backup file") for name in store.remove_dead_partials()
    ]
    store.sync_records()
    results += [
        Recovered(backup_id, "verified", "a killed process left it unverified")
        for backup_id in store.finish_unverified()
    ]
    return results
