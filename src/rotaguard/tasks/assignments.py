"""The bulk-assign and clear-assignments flows' steps: checks on the tentative schedule, the one-transaction
writes, and what a clearing would delete."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any, cast

from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import ColumnElement, CursorResult, delete, select

from rotaguard.compliance import Report, validate
from rotaguard.db import AssignmentRepository, AuditLog
from rotaguard.db.runs import ScheduleRunRepository
from rotaguard.db.tables import AssignmentRow
from rotaguard.domain import Assignment, Schedule
from rotaguard.errors import Problem
from rotaguard.interchange.assignments import AssignmentEntry, check_against_program, to_assignments
from rotaguard.tasks.context import database_session
from rotaguard.tasks.generation import GateError, load_program_and_schedule

SHOWN_PROBLEMS = 5


# One person in one slot of one day: at most one assignment each.
PersonSlot = tuple[str, dt.date, str]
# A Tier 1 finding, told apart from another of the same rule by whom and when.
Finding = tuple[str, str | None, dt.date | None]


def _key(assignment: Assignment) -> PersonSlot:
    return (assignment.person_id, assignment.date, assignment.slot)


def _rule_findings(report: Report) -> Counter[Finding]:
    return Counter((v.rule_id, v.person_id, v.date) for v in report.tier1)


@task(cache_policy=NO_CACHE)
def check_bulk_assignments(entries: list[AssignmentEntry]) -> dict[str, Any]:
    """Every entry against the program (people, rotations, absences, eligibility, locked rows), then the
    compliance engine on the tentative schedule (existing plus new): new Tier 1 violations refuse it."""
    start, end = min(e.date for e in entries), max(e.date for e in entries)
    program, existing = load_program_and_schedule(start, end)
    problems = check_against_program(entries, program)
    held = {_key(a): a for a in existing.assignments}
    for entry, assignment in zip(entries, to_assignments(entries), strict=True):
        current = held.get(_key(assignment))
        if current is not None and current.locked and current.rotation_id != assignment.rotation_id:
            problems.append(
                Problem(entry.where, f"{entry.person_id} {entry.date} {entry.slot} is locked on {current.rotation_id}")
            )
    if problems:
        raise GateError(
            f"{len(problems)} problems in the assignments: "
            + "; ".join(f"{p.path}: {p.message}" for p in problems[:SHOWN_PROBLEMS])
        )
    new = to_assignments(entries)
    changed = sum(
        1 for a in new if _key(a) in held and held[_key(a)] != a.model_copy(update={"source": held[_key(a)].source})
    )
    created = sum(1 for a in new if _key(a) not in held)
    tentative = Schedule(assignments=tuple({**held, **{_key(a): a for a in new}}.values()))
    before = validate(existing, program, start=start, end=end, resilience=False)
    after = validate(tentative, program, start=start, end=end, resilience=False)
    introduced = _rule_findings(after) - _rule_findings(before)
    if introduced:
        first = next(v for v in after.tier1 if (v.rule_id, v.person_id, v.date) in introduced)
        raise GateError(
            f"the assignments would add {sum(introduced.values())} Tier 1 violations: {first.rule_id}: {first.message}"
        )
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "rows": len(new),
        "created": created,
        "changed": changed,
        "unchanged": len(new) - created - changed,
        "tier1_before": len(before.tier1),
        "tier2_after": len(after.tier2),
        "tier2_warnings": [f"{v.rule_id}: {v.message}" for v in after.tier2[:SHOWN_PROBLEMS]],
    }


@task(cache_policy=NO_CACHE)
def write_bulk_assignments(run_id: str, entries: list[AssignmentEntry], actor: str) -> dict[str, int]:
    """Insert or update every entry in ONE transaction, audited."""
    with database_session() as database, database.write() as session:
        counts = AssignmentRepository(session).upsert(assignments=to_assignments(entries), run_id=run_id)
        AuditLog(session).append(
            actor=actor,
            action="schedule.bulk_assign",
            subject=run_id,
            details={"rows": len(entries), **counts.as_dict()},
        )
    return counts.as_dict()


def _clear_filter(
    start: dt.date, end: dt.date, people: list[str] | None, include_locked: bool
) -> list[ColumnElement[bool]]:
    conditions = [AssignmentRow.date >= start, AssignmentRow.date <= end]
    if people:
        conditions.append(AssignmentRow.person_id.in_(people))
    if not include_locked:
        conditions.append(AssignmentRow.locked.is_(False))
    return conditions


@task(cache_policy=NO_CACHE)
def preview_clear(start: dt.date, end: dt.date, people: list[str] | None, include_locked: bool) -> dict[str, Any]:
    """What a clearing deletes, counted per person and rotation, and the locked rows it keeps."""
    with database_session() as database, database.read() as session:
        doomed = session.execute(
            select(AssignmentRow.person_id, AssignmentRow.rotation_id).where(
                *_clear_filter(start, end, people, include_locked)
            )
        ).all()
        kept_locked = 0
        if not include_locked:
            kept_locked = len(
                session.scalars(
                    select(AssignmentRow.id).where(
                        *_clear_filter(start, end, people, True), AssignmentRow.locked.is_(True)
                    )
                ).all()
            )
    counts = Counter((person, rotation) for person, rotation in doomed)
    return {
        "total": len(doomed),
        "kept_locked": kept_locked,
        "by_person_rotation": [{"person": p, "rotation": r, "assignments": n} for (p, r), n in sorted(counts.items())],
    }


@task(cache_policy=NO_CACHE)
def delete_assignments(
    run_id: str,
    start: dt.date,
    end: dt.date,
    people: list[str] | None,
    include_locked: bool,
    actor: str,
    backup_id: str,
    expected: int,
) -> int:
    """Delete the range's assignments in ONE transaction, audited with the counts and the backup id, and
    the run marked cleared in that same transaction: a kill after the commit leaves a finished run, which
    recovery never undoes (issue 26, item 10). Refused (nothing deleted) when the rows are no longer the
    ones the approver saw."""
    with database_session() as database, database.write() as session:
        # A bulk DELETE's result is a cursor's, which carries the row count.
        result = cast(
            CursorResult[Any],
            session.execute(delete(AssignmentRow).where(*_clear_filter(start, end, people, include_locked))),
        )
        deleted = result.rowcount
        if deleted != expected:
            raise GateError(
                f"{deleted} assignments match now, {expected} were approved: the schedule changed meanwhile; nothing deleted"
            )
        AuditLog(session).append(
            actor=actor,
            action="schedule.clear",
            subject=run_id,
            details={
                "start": str(start),
                "end": str(end),
                "people": people or "all",
                "include_locked": include_locked,
                "deleted": deleted,
                "backup_id": backup_id,
            },
        )
        ScheduleRunRepository(session).update(run_id=run_id, status="cleared", error=None)
    return deleted
