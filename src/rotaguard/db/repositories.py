"""Repositories: rows <-> domain types. Every method takes keyword-only arguments."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select
from sqlalchemy.orm import Session

from rotaguard.db.tables import (
    AbsenceRow,
    AssignmentRow,
    CredentialRow,
    PersonRow,
    ProgramSettingsRow,
    RotationRow,
    SlotTimeRow,
    StaffRow,
)
from rotaguard.domain import (
    Absence,
    Assignment,
    AssignmentSource,
    Credential,
    Person,
    Program,
    ResidentStaffing,
    Role,
    Rotation,
    RotationKind,
    RuleParams,
    Schedule,
    Slot,
    SlotTime,
    SlotTimes,
    Staffing,
    StaffMember,
    StaffRole,
    Weekday,
)

PROGRAM_ROW_ID = 1


@dataclass
class ChangeCount:
    """What an upsert did: rows created, rows changed, rows already equal."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def record_existing(self, *, changed: bool) -> None:
        if changed:
            self.updated += 1
        else:
            self.unchanged += 1

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


@dataclass
class ProgramChanges:
    settings: ChangeCount = field(default_factory=ChangeCount)
    people: ChangeCount = field(default_factory=ChangeCount)
    rotations: ChangeCount = field(default_factory=ChangeCount)
    absences: ChangeCount = field(default_factory=ChangeCount)
    staff: ChangeCount = field(default_factory=ChangeCount)

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {
            name: getattr(self, name).as_dict() for name in ("settings", "people", "rotations", "absences", "staff")
        }


def _apply(row, values: dict) -> bool:
    """Set ``values`` on ``row``; True when anything differed."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _person_values(person: Person) -> dict:
    return {
        "name": person.name,
        "role": person.role.value,
        "pgy": person.pgy,
        "active": person.active,
        "email": person.email,
    }


def _staff_values(member: StaffMember) -> dict:
    return {"name": member.name, "role": member.role.value, "email": member.email, "active": member.active}


def _rotation_values(rotation: Rotation) -> dict:
    return {
        "name": rotation.name,
        "kind": rotation.kind.value,
        "slots": [slot.value for slot in rotation.slots],
        "days": [day.value for day in rotation.days],
        "resident_min": rotation.residents.min,
        "resident_max": rotation.residents.max,
        "resident_pgy": list(rotation.residents.pgy),
        "faculty_min": rotation.faculty.min,
        "faculty_max": rotation.faculty.max,
        "credentials": list(rotation.credentials),
        "supervised": rotation.supervised,
        "hours": rotation.hours,
        "in_house": rotation.in_house,
        "moonlighting": rotation.moonlighting,
    }


def _person_from_row(row: PersonRow, credentials: list[CredentialRow]) -> Person:
    return Person(
        id=row.id,
        name=row.name,
        role=Role(row.role),
        pgy=row.pgy,
        active=row.active,
        email=row.email,
        credentials=tuple(
            Credential(name=c.name, expires=c.expires) for c in sorted(credentials, key=lambda c: c.name)
        ),
    )


def _rotation_from_row(row: RotationRow) -> Rotation:
    return Rotation(
        id=row.id,
        name=row.name,
        kind=RotationKind(row.kind),
        slots=tuple(Slot(s) for s in row.slots),
        days=tuple(Weekday(d) for d in row.days),
        residents=ResidentStaffing(min=row.resident_min, max=row.resident_max, pgy=tuple(row.resident_pgy)),
        faculty=Staffing(min=row.faculty_min, max=row.faculty_max),
        credentials=tuple(row.credentials),
        supervised=row.supervised,
        hours=row.hours,
        in_house=row.in_house,
        moonlighting=row.moonlighting,
    )


def _format_time(value: time) -> str:
    return value.strftime("%H:%M")


class ProgramRepository:
    """The program's settings, people, rotations and absences."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def exists(self) -> bool:
        return self.session.get(ProgramSettingsRow, PROGRAM_ROW_ID) is not None

    def load(self) -> Program | None:
        settings = self.session.get(ProgramSettingsRow, PROGRAM_ROW_ID)
        if settings is None:
            return None
        slot_rows = {row.slot: row for row in self.session.scalars(select(SlotTimeRow))}
        slots = SlotTimes(
            **{
                slot: SlotTime(start=time.fromisoformat(row.start_time), hours=row.hours)
                for slot, row in slot_rows.items()
            }
        )
        credentials: dict[str, list[CredentialRow]] = {}
        for credential in self.session.scalars(select(CredentialRow)):
            credentials.setdefault(credential.person_id, []).append(credential)
        people = tuple(
            _person_from_row(row, credentials.get(row.id, []))
            for row in self.session.scalars(select(PersonRow).order_by(PersonRow.id))
        )
        rotations = tuple(
            _rotation_from_row(row) for row in self.session.scalars(select(RotationRow).order_by(RotationRow.id))
        )
        absences = tuple(
            Absence(person_id=row.person_id, start=row.start_date, end=row.end_date, kind=row.kind)
            for row in self.session.scalars(
                select(AbsenceRow).order_by(
                    AbsenceRow.person_id, AbsenceRow.start_date, AbsenceRow.end_date, AbsenceRow.kind
                )
            )
        )
        staff = tuple(
            StaffMember(id=row.id, name=row.name, role=StaffRole(row.role), email=row.email, active=row.active)
            for row in self.session.scalars(select(StaffRow).order_by(StaffRow.id))
        )
        return Program(
            name=settings.name,
            timezone=settings.timezone,
            block_anchor=settings.block_anchor,
            slots=slots,
            rules=RuleParams(**settings.rule_overrides),
            people=people,
            rotations=rotations,
            absences=absences,
            staff=staff,
        )

    def rule_overrides(self) -> dict:
        settings = self.session.get(ProgramSettingsRow, PROGRAM_ROW_ID)
        return dict(settings.rule_overrides) if settings else {}

    def save(self, *, program: Program, rule_overrides: dict) -> ProgramChanges:
        """Insert or update everything ``program`` holds; never delete what it omits."""
        changes = ProgramChanges()
        settings_values = {
            "name": program.name,
            "timezone": program.timezone,
            "block_anchor": program.block_anchor,
            "rule_overrides": rule_overrides,
        }
        settings = self.session.get(ProgramSettingsRow, PROGRAM_ROW_ID)
        settings_changed = False
        if settings is None:
            self.session.add(ProgramSettingsRow(id=PROGRAM_ROW_ID, **settings_values))
        else:
            settings_changed = _apply(settings, settings_values)
        for slot in Slot:
            slot_time = program.slots.of(slot)
            values = {"start_time": _format_time(slot_time.start), "hours": slot_time.hours}
            row = self.session.get(SlotTimeRow, slot.value)
            if row is None:
                self.session.add(SlotTimeRow(slot=slot.value, **values))
            else:
                settings_changed |= _apply(row, values)
        if settings is None:
            changes.settings.created += 1
        else:
            changes.settings.record_existing(changed=settings_changed)
        self._save_people(program.people, changes.people)
        self._save_rotations(program.rotations, changes.rotations)
        self._save_absences(program.absences, changes.absences)
        self._save_staff(program.staff, changes.staff)
        self.session.flush()
        return changes

    def _save_staff(self, staff: Iterable[StaffMember], counter: ChangeCount) -> None:
        existing = {row.id: row for row in self.session.scalars(select(StaffRow))}
        for member in staff:
            row = existing.get(member.id)
            if row is None:
                self.session.add(StaffRow(id=member.id, **_staff_values(member)))
                counter.created += 1
            else:
                counter.record_existing(changed=_apply(row, _staff_values(member)))

    def _save_people(self, people: Iterable[Person], counter: ChangeCount) -> None:
        existing = {row.id: row for row in self.session.scalars(select(PersonRow))}
        credentials: dict[str, dict[str, CredentialRow]] = {}
        for credential in self.session.scalars(select(CredentialRow)):
            credentials.setdefault(credential.person_id, {})[credential.name] = credential
        new_credentials: list[CredentialRow] = []
        for person in people:
            row = existing.get(person.id)
            wanted = {c.name: c.expires for c in person.credentials}
            if row is None:
                self.session.add(PersonRow(id=person.id, **_person_values(person)))
                new_credentials += [CredentialRow(person_id=person.id, name=n, expires=e) for n, e in wanted.items()]
                counter.created += 1
                continue
            held = credentials.get(person.id, {})
            changed = {name: row_.expires for name, row_ in held.items()} != wanted
            for name, credential_row in held.items():
                if name not in wanted:
                    self.session.delete(credential_row)
                elif credential_row.expires != wanted[name]:
                    credential_row.expires = wanted[name]
            new_credentials += [
                CredentialRow(person_id=person.id, name=n, expires=e) for n, e in wanted.items() if n not in held
            ]
            changed |= _apply(row, _person_values(person))
            counter.record_existing(changed=changed)
        # People first: their credentials reference them and there is no relationship() to order the inserts.
        self.session.flush()
        self.session.add_all(new_credentials)

    def _save_rotations(self, rotations: Iterable[Rotation], counter: ChangeCount) -> None:
        existing = {row.id: row for row in self.session.scalars(select(RotationRow))}
        for rotation in rotations:
            row = existing.get(rotation.id)
            if row is None:
                self.session.add(RotationRow(id=rotation.id, **_rotation_values(rotation)))
                counter.created += 1
            else:
                counter.record_existing(changed=_apply(row, _rotation_values(rotation)))

    def _save_absences(self, absences: Iterable[Absence], counter: ChangeCount) -> None:
        existing = {
            (row.person_id, row.start_date, row.end_date, row.kind) for row in self.session.scalars(select(AbsenceRow))
        }
        for absence in absences:
            key = (absence.person_id, absence.start, absence.end, absence.kind)
            if key in existing:
                counter.unchanged += 1
            else:
                self.session.add(
                    AbsenceRow(
                        person_id=absence.person_id, start_date=absence.start, end_date=absence.end, kind=absence.kind
                    )
                )
                existing.add(key)
                counter.created += 1


def assignment_from_row(row: AssignmentRow) -> Assignment:
    return Assignment(
        person_id=row.person_id,
        date=row.date,
        slot=Slot(row.slot),
        rotation_id=row.rotation_id,
        source=AssignmentSource(row.source),
        locked=row.locked,
    )


class AssignmentRepository:
    """Assignments: at most one per person, day and slot (a unique constraint enforces it)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _rows(self, *, start: date | None, end: date | None):
        query = select(AssignmentRow)
        if start is not None:
            query = query.where(AssignmentRow.date >= start)
        if end is not None:
            query = query.where(AssignmentRow.date <= end)
        return query

    def schedule(self, *, start: date | None = None, end: date | None = None) -> Schedule:
        rows = self.session.scalars(self._rows(start=start, end=end))
        return Schedule(assignments=tuple(assignment_from_row(row) for row in rows)).sorted()

    def count(self, *, start: date | None = None, end: date | None = None) -> int:
        query = select(func.count()).select_from(AssignmentRow)
        if start is not None:
            query = query.where(AssignmentRow.date >= start)
        if end is not None:
            query = query.where(AssignmentRow.date <= end)
        return self.session.scalar(query) or 0

    def date_range(self) -> tuple[date, date] | None:
        first, last = self.session.execute(select(func.min(AssignmentRow.date), func.max(AssignmentRow.date))).one()
        return (first, last) if first is not None else None

    def digest(self, *, start: date, end: date) -> str:
        """One SHA-256 over the range's assignments: equal digests, equal schedules."""
        digest = hashlib.sha256()
        for a in self.schedule(start=start, end=end).assignments:
            digest.update(
                f"{a.person_id}|{a.date}|{a.slot.value}|{a.rotation_id}|{a.source.value}|{a.locked}\n".encode()
            )
        return digest.hexdigest()

    def replace_range(
        self, *, start: date, end: date, assignments: Iterable[Assignment], run_id: str | None = None
    ) -> ChangeCount:
        """Replace the range's unlocked assignments with ``assignments`` (locked rows stay), in the
        caller's transaction. Returns what was removed (as ``updated``) and added (``created``)."""
        locked = {
            (row.person_id, row.date, row.slot)
            for row in self.session.scalars(self._rows(start=start, end=end).where(AssignmentRow.locked.is_(True)))
        }
        # A DELETE's result is a CursorResult, which Session.execute's annotation does not say.
        removed = cast(
            "CursorResult[Any]",
            self.session.execute(
                delete(AssignmentRow).where(
                    AssignmentRow.date >= start, AssignmentRow.date <= end, AssignmentRow.locked.is_(False)
                )
            ),
        ).rowcount
        added = [
            AssignmentRow(
                person_id=a.person_id,
                date=a.date,
                slot=a.slot.value,
                rotation_id=a.rotation_id,
                source=a.source.value,
                locked=a.locked,
                run_id=run_id,
            )
            for a in assignments
            if start <= a.date <= end and (a.person_id, a.date, a.slot.value) not in locked
        ]
        self.session.add_all(added)
        self.session.flush()
        return ChangeCount(created=len(added), updated=removed or 0)

    def upsert(self, *, assignments: Iterable[Assignment], run_id: str | None = None) -> ChangeCount:
        """Insert new assignments and update the ones already held for the same person, day and slot."""
        assignments = list(assignments)
        counter = ChangeCount()
        if not assignments:
            return counter
        first = min(a.date for a in assignments)
        last = max(a.date for a in assignments)
        existing = {
            (row.person_id, row.date, row.slot): row for row in self.session.scalars(self._rows(start=first, end=last))
        }
        for assignment in assignments:
            values = {
                "rotation_id": assignment.rotation_id,
                "source": assignment.source.value,
                "locked": assignment.locked,
            }
            row = existing.get((assignment.person_id, assignment.date, assignment.slot.value))
            if row is None:
                self.session.add(
                    AssignmentRow(
                        person_id=assignment.person_id,
                        date=assignment.date,
                        slot=assignment.slot.value,
                        run_id=run_id,
                        **values,
                    )
                )
                counter.created += 1
            else:
                counter.record_existing(changed=_apply(row, values))
        self.session.flush()
        return counter
