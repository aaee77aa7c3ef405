"""The generation flow's steps: small Prefect tasks over the pure layers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from prefect import Task, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State, TaskRun
from prefect.context import TaskRunContext
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from rotaguard.backups import BackupError
from rotaguard.compliance import Report, validate
from rotaguard.db import AssignmentRepository, AuditLog, ProgramRepository
from rotaguard.db.runs import ScheduleRunRepository
from rotaguard.domain import Program, Schedule
from rotaguard.errors import RotaGuardError
from rotaguard.health import run_checks
from rotaguard.operations import BACKUP_MAX_AGE
from rotaguard.settings import Settings
from rotaguard.solver import (
    GreedyCannotFollowPlan,
    Progress,
    ScheduleProblem,
    SolveResult,
    SolverStatus,
    describe_level,
    solve,
)
from rotaguard.tasks.context import backup_store, database_session

BACKUP_REUSE = BACKUP_MAX_AGE
# The log record attribute that carries a solver Progress, for whoever shows it live (the CLI).
SOLVER_PROGRESS = "solver_progress"


class GateError(RotaGuardError):
    """A check said no: never retried."""


def retry_transient(task: Task[..., Any], task_run: TaskRun, state: State) -> bool:
    """Retry only what can pass on a second try: the database or the disk, never a decision."""
    try:
        state.result()
    except (OperationalError, OSError):
        return True
    except Exception:
        return False
    return False


def _per_run_key(step: str) -> Callable[[TaskRunContext, dict[str, Any]], str]:
    """Cache per generation run and inputs: a re-run of the same flow run reuses the step's result,
    a different run or range never does."""

    def key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
        values = "-".join(str(parameters[name]) for name in sorted(parameters))
        return f"rotaguard-{step}-{values}"

    return key


@task(
    retries=2,
    retry_delay_seconds=2,
    retry_condition_fn=retry_transient,
    cache_key_fn=_per_run_key("backup"),
    cache_expiration=dt.timedelta(hours=2),
    persist_result=True,
)
def ensure_recent_backup(run_id: str, start: dt.date, end: dt.date, operation: str = "generate") -> dict[str, Any]:
    """Reuse a verified backup under 2 hours old, or create and verify one."""
    try:
        with backup_store() as store:
            manifest = store.ensure_recent(label=f"pre-op:{operation}-{start}-{end}", max_age=BACKUP_REUSE)
    except BackupError as error:
        raise GateError(str(error)) from None
    return {
        "id": manifest.id,
        "created_at": manifest.created_at.isoformat(),
        "size_bytes": manifest.size_bytes,
        "sha256": manifest.sha256,
    }


@task(retries=2, retry_delay_seconds=2, retry_condition_fn=retry_transient, cache_policy=NO_CACHE)
def check_health() -> list[dict[str, Any]]:
    """Database reachable, schema at head, backup directory writable with room, S3 when configured."""
    with database_session() as database:
        checks = run_checks(Settings(), database)
    failed = [c for c in checks if not c.ok]
    if failed:
        raise GateError(f"unhealthy: {failed[0].name}: {failed[0].detail}")
    return [c.as_dict() for c in checks]


@task(cache_policy=NO_CACHE)
def verify_data(start: dt.date, end: dt.date) -> dict[str, int]:
    """People and rotations exist and the minimum demand is at all coverable, by counting."""
    with database_session() as database, database.read() as session:
        program = ProgramRepository(session).load()
        existing = AssignmentRepository(session).count(start=start, end=end)
    if program is None or not program.people or not program.rotations:
        raise GateError("no program with people and rotations is stored: import one first")
    residents = [p for p in program.people if p.is_resident and p.active]
    faculty = [p for p in program.people if not p.is_resident and p.active]
    if program.has_plan_model and not any(e.start <= end and e.end >= start for e in program.plan):
        # Residents work only the rotation they are planned on: without plan rows nobody would work.
        raise GateError(f"the rotation plan has no rows for {start}..{end}: import or make the block's plan first")
    day = start
    while day <= end:
        present_residents = sum(1 for p in residents if not program.absent(p.id, day))
        present_faculty = sum(1 for p in faculty if not program.absent(p.id, day))
        for slot in program.shift_ids:
            # The service's staffing on this shift and day: v1's one staffing or a v2 coverage entry.
            needs = [c for c in (r.coverage_on(day, slot) for r in program.rotations) if c is not None]
            need_r = sum(group.min for c in needs for group in c.residents)
            need_f = sum(c.faculty.min for c in needs)
            if need_r > present_residents or need_f > present_faculty:
                raise GateError(
                    f"{day} {slot} needs {need_r} residents and {need_f} faculty; only {present_residents} and "
                    f"{present_faculty} are present"
                )
        day += dt.timedelta(days=1)
    return {
        "people": len(program.people),
        "rotations": len(program.rotations),
        "absences": len(program.absences),
        "assignments_in_range": existing,
        "plan_rows_in_range": sum(1 for e in program.plan if e.start <= end and e.end >= start),
    }


def load_program_and_schedule(start: dt.date, end: dt.date) -> tuple[Program, Schedule]:
    """The stored program and every assignment the range's 28-day windows can reach."""
    with database_session() as database, database.read() as session:
        program = ProgramRepository(session).load()
        if program is None:
            raise GateError("no program has been imported yet: import one first")
        reach = dt.timedelta(days=program.rules.averaging_window_days)
        schedule = AssignmentRepository(session).schedule(start=start - reach, end=end + reach)
    return program, schedule


def _load_problem(start: dt.date, end: dt.date) -> ScheduleProblem:
    program, existing = load_program_and_schedule(start, end)
    return ScheduleProblem(program=program, start=start, end=end, existing=existing)


@task(cache_key_fn=_per_run_key("solve"), cache_expiration=dt.timedelta(days=1), persist_result=True)
def solve_block(
    run_id: str, start: dt.date, end: dt.date, algorithm: str, timeout_seconds: float, deterministic: bool = False
) -> SolveResult:
    """Solve the range, logging progress; never retried (a solve is not transient)."""
    logger = get_run_logger()

    def report(progress: Progress) -> None:
        logger.info(
            "solver progress (%s): objective %s, bound %s, gap %.1f%%, %.1f s",
            progress.level or "all",
            progress.objective,
            progress.best_bound,
            100 * progress.gap,
            progress.elapsed_seconds,
            extra={SOLVER_PROGRESS: progress},
        )

    try:
        result = solve(
            _load_problem(start, end),
            algorithm=algorithm,
            timeout_seconds=timeout_seconds,
            deterministic=deterministic,
            progress=report,
        )
    except GreedyCannotFollowPlan as refused:  # a flow run from the UI with the greedy on a plan program
        raise GateError(str(refused)) from None
    if result.status in (SolverStatus.INFEASIBLE, SolverStatus.UNKNOWN):
        reason = result.explanation or f"no schedule found in {timeout_seconds:g} s"
        raise GateError(f"solver {result.status.value}: {reason}")
    for level in result.levels:
        logger.info("priority %s", describe_level(level))
    for sentence in result.shortfalls:
        logger.info("proved by counting: %s", sentence)
    return result


@task(cache_policy=NO_CACHE)
def mark_writing(run_id: str, start: dt.date, end: dt.date, backup_id: str) -> str:
    """Commit the write-in-progress marker and the range's digest before anything is written."""
    with database_session() as database, database.write() as session:
        digest = AssignmentRepository(session).digest(start=start, end=end)
        ScheduleRunRepository(session).update(
            run_id=run_id, status="writing", backup_id=backup_id, metrics={"pre_digest": digest}
        )
    return digest


@task(cache_policy=NO_CACHE)
def write_schedule(run_id: str, start: dt.date, end: dt.date, schedule: Schedule) -> dict[str, int]:
    """Replace the range's unlocked assignments in ONE transaction, audited."""
    with database_session() as database, database.write() as session:
        counts = AssignmentRepository(session).replace_range(
            start=start, end=end, assignments=schedule.assignments, run_id=run_id
        )
        AuditLog(session).append(
            actor="rotaguard",
            action="schedule.write",
            subject=run_id,
            details={"start": str(start), "end": str(end), **counts.as_dict()},
        )
    return counts.as_dict()


@task(retries=2, retry_delay_seconds=2, retry_condition_fn=retry_transient, cache_policy=NO_CACHE)
def validate_written_schedule(start: dt.date, end: dt.date, require_n1: bool) -> Report:
    """The compliance engine on what is now in the database."""
    program, schedule = load_program_and_schedule(start, end)
    return validate(schedule, program, start=start, end=end, resilience=require_n1)


@task(retries=2, retry_delay_seconds=2, retry_condition_fn=retry_transient, cache_policy=NO_CACHE)
def restore_range(backup_id: str, start: dt.date, end: dt.date, pre_digest: str, run_id: str) -> str:
    """Put the range back from the pre-op backup and prove it equals its state before the run."""

    def audit(session: Session, rows: int) -> None:
        # In the restore's transaction: the range never comes back unaudited.
        AuditLog(session).append(
            actor="rotaguard",
            action="schedule.restore_range",
            subject=run_id,
            details={"backup_id": backup_id, "rows": rows},
        )

    with backup_store() as store:
        store.engine.restore_assignments(store.get(backup_id).path_in(store.directory), start, end, audit=audit)
        with store.database.read() as session:
            digest = AssignmentRepository(session).digest(start=start, end=end)
    if digest != pre_digest:
        raise GateError(f"the range {start}..{end} does not match its state before run {run_id} after the restore")
    return digest
