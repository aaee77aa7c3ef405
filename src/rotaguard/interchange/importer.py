"""Writing a checked program document into the database, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass

from rotaguard.db import AssignmentRepository, AuditLog, ChangeCount, Database, ProgramChanges, ProgramRepository
from rotaguard.domain import Program, Schedule
from rotaguard.interchange.document import ProgramDocument, document_from


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


def import_document(database: Database, document: ProgramDocument, *, actor: str, source: str) -> ImportResult:
    """Add and update everything the document holds (never delete what it omits), audited.

    Importing the same document twice changes nothing the second time.
    """
    program = document.to_program()
    with database.write() as session:
        changes = ProgramRepository(session).save(program=program, rule_overrides=document.rule_overrides())
        assignments = AssignmentRepository(session).upsert(assignments=document.assignments)
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


def export_document(database: Database) -> ProgramDocument | None:
    with database.read() as session:
        repository = ProgramRepository(session)
        program = repository.load()
        if program is None:
            return None
        schedule: Schedule = AssignmentRepository(session).schedule()
        return document_from(program, schedule, rule_overrides=repository.rule_overrides())
