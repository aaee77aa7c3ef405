"""Writing a checked program document into the database, in one transaction."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from rotaguard.db import AssignmentRepository, AuditLog, ChangeCount, Database, ProgramChanges, ProgramRepository
from rotaguard.domain import Absence, Assignment, PlanEntry, Program, Schedule
from rotaguard.errors import InputError, Problem
from rotaguard.interchange.document import AnyDocument
from rotaguard.interchange.document_v2 import ProgramDocumentV2, document_from


@dataclass(frozen=True)
class ImportResult:
    changes: ProgramChanges
    assignments: ChangeCount

    @property
    def changed_anything(self) -> bool:
        counts = [*vars(self.changes).values(), self.assignments]
        return any(count.created or count.updated for count in counts)

    def as_dict(self) -> dict:
        return {**self.changes.as_dict(), "assignments": self.assignments.as_dict()}


def conflicts_with_stored(document: AnyDocument, stored: Program | None, schedule: Schedule) -> list[Problem]:
    """What the document would break in the stored program it adds to, each at its JSON path.

    Import adds and updates but never deletes, so a document that is right on its own can still
    contradict what it leaves in place (a rotation losing a slot stored assignments use, an
    absence over a stored duty). Refused here, whatever is stored always exports as a document
    that imports again.
    """
    if stored is None:
        return []
    problems: list[Problem] = []
    # Import never deletes: a stored person or staff member stays, so their id stays taken.
    stored_people = {person.id for person in stored.people}
    stored_staff = {member.id for member in stored.staff}
    problems += [
        Problem(
            f"$.people[{index}].id",
            f"{person.id!r} is a staff member's id in the stored program (one id names one actor)",
        )
        for index, person in enumerate(document.people)
        if person.id in stored_staff
    ]
    problems += [
        Problem(
            f"$.staff[{index}].id", f"{member.id!r} is a person's id in the stored program (one id names one actor)"
        )
        for index, member in enumerate(document.staff)
        if member.id in stored_people
    ]
    duties = document.duty_list()
    incoming = {assignment.key for assignment in duties}
    kept = [assignment for assignment in schedule.assignments if assignment.key not in incoming]
    problems += _rotations_dropping_used_slots(document, kept)
    problems += _absences_over_stored_duties(document, kept)
    problems += _assignments_in_stored_absences(document, duties, stored)
    problems += _plan_rows_over_stored_ones(document.plan_rows(), stored.plan)
    return problems


def _rotations_dropping_used_slots(document: AnyDocument, kept) -> list[Problem]:
    # One example assignment per rotation and slot, so the check is linear in the stored schedule.
    example: dict[tuple[str, str], Assignment] = {}
    for assignment in kept:
        example.setdefault((assignment.rotation_id, assignment.slot), assignment)
    used_by: dict[str, list[Assignment]] = defaultdict(list)
    for (rotation_id, _), assignment in example.items():
        used_by[rotation_id].append(assignment)
    # v1 says "rotation" and "slots"; v2 "service" and "coverage".
    v2 = isinstance(document, ProgramDocumentV2)
    problems = []
    for index, rotation in enumerate(document.services_list()):
        lost = [a for a in used_by.get(rotation.id, ()) if a.slot not in rotation.slots]
        if lost:
            used = lost[0]
            where, what = ("coverage", "service") if v2 else ("slots", "rotation")
            problems.append(
                Problem(
                    f"{document.SERVICES_AT}[{index}].{where}",
                    f"{what} {rotation.id!r} would lose its {used.slot} slot, which stored assignments use"
                    f" ({used.person_id} on {used.date})",
                )
            )
    return problems


def _plan_rows_over_stored_ones(incoming: tuple[PlanEntry, ...], stored: tuple[PlanEntry, ...]) -> list[Problem]:
    """Import never deletes: a stored plan row the document does not replace (same person and
    start) stays, so an incoming row must not overlap it."""
    replaced = {(entry.person_id, entry.start) for entry in incoming}
    kept: dict[str, list[PlanEntry]] = defaultdict(list)
    for entry in stored:
        if (entry.person_id, entry.start) not in replaced:
            kept[entry.person_id].append(entry)
    problems = []
    for index, entry in enumerate(incoming):
        other = next((e for e in kept.get(entry.person_id, ()) if e.start <= entry.end and entry.start <= e.end), None)
        if other is not None:
            problems.append(
                Problem(
                    f"$.plan[{index}]",
                    f"{entry.person_id} is on {other.rotation_id} {other.start}..{other.end} in the stored plan,"
                    " which this row overlaps",
                )
            )
    return problems


def _absences_over_stored_duties(document: AnyDocument, kept) -> list[Problem]:
    by_person: dict[str, list[Assignment]] = defaultdict(list)
    for assignment in kept:
        by_person[assignment.person_id].append(assignment)
    problems = []
    for index, absence in enumerate(document.absences):
        duty = next((a for a in by_person.get(absence.person_id, ()) if absence.covers(a.date)), None)
        if duty is not None:
            problems.append(
                Problem(
                    f"$.absences[{index}]",
                    f"{absence.person_id} has a stored assignment on {duty.date} {duty.slot} inside this absence",
                )
            )
    return problems


def _assignments_in_stored_absences(document: AnyDocument, duties, stored: Program) -> list[Problem]:
    absences_by_person: dict[str, list[Absence]] = defaultdict(list)
    for absence in stored.absences:
        absences_by_person[absence.person_id].append(absence)
    problems = []
    for index, assignment in enumerate(duties):
        covering = next(
            (a for a in absences_by_person.get(assignment.person_id, ()) if a.covers(assignment.date)), None
        )
        if covering is not None:
            problems.append(
                Problem(
                    f"{document.DUTIES_AT}[{index}].date",
                    f"{assignment.person_id} is absent on {assignment.date} (stored {covering.kind} {covering.start}..{covering.end})",
                )
            )
    return problems


def check_against_stored(database: Database, document: AnyDocument, *, source: str) -> None:
    """Raise InputError when the document contradicts the stored program (see ``conflicts_with_stored``).

    Callers run this before anything that writes (a pre-import backup included)."""
    with database.read() as session:
        stored = ProgramRepository(session).load()
        schedule = AssignmentRepository(session).schedule() if stored is not None else Schedule()
    problems = conflicts_with_stored(document, stored, schedule)
    if problems:
        raise InputError(source, problems)


def import_document(database: Database, document: AnyDocument, *, actor: str, source: str) -> ImportResult:
    """Add and update everything the document holds (never delete what it omits), audited.

    Importing the same document twice changes nothing the second time. A document that
    contradicts the stored program raises InputError and writes nothing.
    """
    program = document.to_program()
    with database.write() as session:
        repository = ProgramRepository(session)
        stored = repository.load()
        stored_schedule = AssignmentRepository(session).schedule() if stored is not None else Schedule()
        problems = conflicts_with_stored(document, stored, stored_schedule)
        if problems:
            raise InputError(source, problems)
        changes = repository.save(program=program, rule_overrides=document.rule_overrides())
        assignments = AssignmentRepository(session).upsert(assignments=document.duty_list())
        result = ImportResult(changes=changes, assignments=assignments)
        if result.changed_anything:
            AuditLog(session).append(actor=actor, action="program.import", subject=source, details=result.as_dict())
    return result


def load_program(database: Database) -> tuple[Program, dict] | None:
    """The stored program and its rule overrides, or None before the first import."""
    with database.read() as session:
        repository = ProgramRepository(session)
        program = repository.load()
        return (program, repository.rule_overrides()) if program else None


def export_document(database: Database) -> ProgramDocumentV2 | None:
    """The stored program and every duty as a ``rotaguard-program/2`` document."""
    with database.read() as session:
        repository = ProgramRepository(session)
        program = repository.load()
        if program is None:
            return None
        schedule: Schedule = AssignmentRepository(session).schedule()
        return document_from(program, schedule, rule_overrides=repository.rule_overrides())
