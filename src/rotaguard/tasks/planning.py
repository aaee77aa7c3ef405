"""The plan-year flow's steps: small Prefect tasks over the planner, the compliance engine and the
rotation-plan repository. The backup, the health check and the approval are generation's own
(tasks/generation.py, flows/gate.py); what differs is what is checked, solved, written and put back:
the rotation plan's rows of the year from block K on, never a duty."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from sqlalchemy.orm import Session

from rotaguard.academic_year import replan_range, year_mismatch
from rotaguard.compliance import Violation, plan_findings
from rotaguard.db import AssignmentRepository, AuditLog, PlanRepository, ProgramRepository
from rotaguard.db.runs import ScheduleRunRepository
from rotaguard.domain import AssignmentSource, PlanEntry, Program
from rotaguard.errors import RotaGuardError
from rotaguard.planner import PlanResult, PlanStatus, YearProblem, explain, merged_plan, plan_year
from rotaguard.tasks.context import backup_store, database_session
from rotaguard.tasks.generation import GateError, _per_run_key, retry_transient

# The log record attribute that carries the planner's progress, for whoever shows it live (the CLI).
PLANNER_PROGRESS = "planner_progress"


def load_program() -> Program:
    with database_session() as database, database.read() as session:
        program = ProgramRepository(session).load()
    if program is None:
        raise GateError("no program has been imported yet: import one first")
    return program


def year_problem(program: Program, from_block: int, timeout_seconds: float, deterministic: bool) -> YearProblem:
    """What the planner is asked: from block K on, a re-plan (K > 1) changing as few blocks as it can."""
    return YearProblem(
        program=program,
        from_block=from_block,
        minimize_changes=from_block > 1,
        time_limit_seconds=timeout_seconds,
        deterministic=deterministic,
    )


def requirement_table(program: Program) -> list[dict[str, Any]]:
    """The curriculum per PGY and rotation: blocks needed and allowed over the year, and how many
    residents of the class it binds."""
    classes = Counter(p.pgy for p in program.people if p.is_resident and p.active and p.pgy is not None)
    rows = []
    for requirement in sorted(program.curriculum, key=lambda r: (r.pgy, r.rotation)):
        rows.append(
            {
                "pgy": requirement.pgy,
                "rotation": requirement.rotation,
                "min_blocks": requirement.min_blocks,
                "max_blocks": requirement.max_blocks,
                "max_in_a_row": requirement.max_consecutive,
                "residents": classes.get(requirement.pgy, 0),
            }
        )
    return rows


@task(cache_policy=NO_CACHE)
def verify_plan_data(year: int, from_block: int, timeout_seconds: float) -> dict[str, Any]:
    """The program has this year, block rotations, a curriculum and residents, and counting finds no
    reason the curriculum cannot be met (``planner.explain``): refused here, with the explanation,
    before the approval and before anything is written. Returns what the approval form shows."""
    program = load_program()
    mismatch = year_mismatch(program, year, from_block)
    if mismatch:
        raise GateError(mismatch)
    if not program.block_rotations:
        raise GateError("the program has no block rotations to plan: import them first")
    if not program.curriculum:
        raise GateError("the program has no curriculum (blocks of each rotation per PGY): import it first")
    if not any(p.is_resident and p.active for p in program.people):
        raise GateError("the program has no active residents to plan")
    reasons = explain(year_problem(program, from_block, timeout_seconds, deterministic=False))
    if reasons:
        raise GateError("the curriculum cannot be met: " + " ".join(reasons))
    start, end = replan_range(program, from_block)
    in_range = [e for e in program.plan if start <= e.start <= end]
    with database_session() as database, database.read() as session:
        duties = AssignmentRepository(session).count(start=start, end=end)
    assert program.year is not None  # year_mismatch said so
    return {
        "label": program.year.label,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "blocks": len(program.year.blocks),
        "residents": sum(1 for p in program.people if p.is_resident and p.active),
        "plan_rows_replaced": sum(1 for e in in_range if not e.locked),
        "locked_rows_kept": sum(1 for e in in_range if e.locked),
        "earlier_rows_kept": sum(
            1 for e in program.plan if e.start < start and e.end >= program.year_blocks()[0].start
        ),
        "duties_in_range": duties,
        "requirements": requirement_table(program),
    }


@task(cache_key_fn=_per_run_key("plan"), cache_expiration=dt.timedelta(days=1), persist_result=True)
def solve_plan(run_id: str, year: int, from_block: int, timeout_seconds: float, deterministic: bool) -> PlanResult:
    """The planner on the stored program, its progress logged; never retried (a solve is not transient).
    No plan (infeasible, or none found in time) is refused with the planner's reasons."""
    logger = get_run_logger()

    def report(message: str) -> None:
        logger.info("planner: %s", message, extra={PLANNER_PROGRESS: message})

    program = load_program()
    problem = year_problem(program, from_block, timeout_seconds, deterministic)
    result = plan_year(problem, progress=report)
    if result.status is PlanStatus.INFEASIBLE:
        reasons = " ".join(result.explanation) or "no plan meets every curriculum and capacity rule"
        raise GateError(f"planner infeasible: {reasons}")
    if result.status is PlanStatus.UNKNOWN:
        raise GateError(f"planner unknown: no plan found in {timeout_seconds:g} s (raise the time limit)")
    logger.info(
        "plan %s: objective %s, bound %s, gap %s, %d rows, %.1f s",
        result.status.value,
        result.objective,
        result.best_bound,
        "n/a" if result.gap is None else f"{100 * result.gap:.2f}%",
        len(result.entries),
        result.wall_seconds,
    )
    for term in result.terms:
        logger.info("term %s: %d x %d = %d", term.id, term.units, term.weight, term.cost)
    return result


@task(cache_policy=NO_CACHE)
def mark_writing_plan(run_id: str, start: dt.date, end: dt.date, backup_id: str) -> str:
    """Commit the write-in-progress marker and the plan range's digest before anything is written."""
    with database_session() as database, database.write() as session:
        digest = PlanRepository(session).digest(start=start, end=end)
        ScheduleRunRepository(session).update(
            run_id=run_id, status="writing", backup_id=backup_id, metrics={"pre_digest": digest}
        )
    return digest


def range_rows(program: Program, start: dt.date, end: dt.date, result: PlanResult, from_block: int) -> list[PlanEntry]:
    """The unlocked rows starting in ``start..end`` of the whole plan after ``result``."""
    solved = {(e.person_id, e.start) for e in result.entries}
    merged = merged_plan(year_problem(program, from_block, 60, deterministic=False), result)
    return [
        e.model_copy(update={"source": AssignmentSource.SOLVER}) if (e.person_id, e.start) in solved else e
        for e in merged
        if start <= e.start <= end and not e.locked
    ]


@task(cache_policy=NO_CACHE)
def write_plan(run_id: str, start: dt.date, end: dt.date, result: PlanResult, from_block: int) -> dict[str, int]:
    """Replace the range's unlocked plan rows with the plan ``result`` makes in ONE transaction,
    audited. What is written is the planner's own ``merged_plan`` over the range: its new rows
    (source solver) and the rows it keeps there (a block holding a locked half, a resident it does
    not plan) as they were; locked rows stay in place."""
    planned = range_rows(load_program(), start, end, result, from_block)
    with database_session() as database, database.write() as session:
        counts = PlanRepository(session).replace_range(start=start, end=end, entries=planned, run_id=run_id)
        AuditLog(session).append(
            actor="rotaguard",
            action="plan.write",
            subject=run_id,
            details={"start": str(start), "end": str(end), **counts.as_dict()},
        )
    return counts.as_dict()


@task(retries=2, retry_delay_seconds=2, retry_condition_fn=retry_transient, cache_policy=NO_CACHE)
def validate_written_plan() -> list[Violation]:
    """The compliance engine's plan rules over the year, on what is now in the database."""
    return plan_findings(load_program())


@task(retries=2, retry_delay_seconds=2, retry_condition_fn=retry_transient, cache_policy=NO_CACHE)
def restore_plan_range(backup_id: str, start: dt.date, end: dt.date, pre_digest: str, run_id: str) -> str:
    """Put the range's plan rows back from the pre-op backup and prove they equal their state before the run."""

    def audit(session: Session, rows: int) -> None:
        # In the restore's transaction: the plan never comes back unaudited.
        AuditLog(session).append(
            actor="rotaguard",
            action="plan.restore_range",
            subject=run_id,
            details={"backup_id": backup_id, "rows": rows, "start": str(start), "end": str(end)},
        )

    try:
        with backup_store() as store:
            store.engine.restore_plan(store.get(backup_id).path_in(store.directory), start, end, audit=audit)
            with store.database.read() as session:
                digest = PlanRepository(session).digest(start=start, end=end)
    except RotaGuardError as error:
        raise GateError(str(error)) from None
    if digest != pre_digest:
        raise GateError(f"the plan of {start}..{end} does not match its state before run {run_id} after the restore")
    return digest
