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
    AttendingRow,
    BlockRotationRow,
    CredentialRow,
    HolidayRow,
    PersonRow,
    ProgramRequestRow,
    ProgramSettingsRow,
    RotationPlanRow,
    RotationRow,
    ShiftTypeRow,
    SlotTimeRow,
    StaffRow,
)
from rotaguard.domain import (
    Absence,
    AcademicYear,
    Assignment,
    AssignmentSource,
    AttendingAssignment,
    BlockRotation,
    ClinicSession,
    Coverage,
    Credential,
    CurriculumRequirement,
    Holiday,
    Person,
    PlanEntry,
    Program,
    ProgramRequest,
    RequestKind,
    ResidentStaffing,
    Role,
    Rotation,
    RotationKind,
    RuleParams,
    Schedule,
    ShiftKind,
    ShiftType,
    Slot,
    SlotTime,
    SlotTimes,
    Staffing,
    StaffMember,
    StaffRole,
    Weekday,
    WeeklySession,
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
    # v2 (docs/model.md): a v1 program touches none of these.
    shift_types: ChangeCount = field(default_factory=ChangeCount)
    block_rotations: ChangeCount = field(default_factory=ChangeCount)
    plan: ChangeCount = field(default_factory=ChangeCount)
    requests: ChangeCount = field(default_factory=ChangeCount)
    holidays: ChangeCount = field(default_factory=ChangeCount)
    attending: ChangeCount = field(default_factory=ChangeCount)

    def as_dict(self) -> dict[str, dict[str, int]]:
        """Every v1 part; a v2 part only when the program held some of it, so a v1 import reports
        (and audits) exactly what it did before."""
        counts = {name: getattr(self, name).as_dict() for name in V1_PARTS}
        counts.update({name: getattr(self, name).as_dict() for name in V2_PARTS if getattr(self, name).total})
        return counts


V1_PARTS = ("settings", "people", "rotations", "absences", "staff")
V2_PARTS = ("shift_types", "block_rotations", "plan", "requests", "holidays", "attending")


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
        "clinic_day": person.clinic.day.value if person.clinic else None,
        "clinic_shift": person.clinic.shift if person.clinic else None,
    }


def _staff_values(member: StaffMember) -> dict:
    return {"name": member.name, "role": member.role.value, "email": member.email, "active": member.active}


def _rotation_values(rotation: Rotation) -> dict:
    return {
        "name": rotation.name,
        "kind": rotation.kind.value,
        "slots": list(rotation.slots),
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
        "coverage": [entry.model_dump(mode="json") for entry in rotation.coverage],
    }


def _person_from_row(row: PersonRow, credentials: list[CredentialRow]) -> Person:
    return Person(
        id=row.id,
        name=row.name,
        role=Role(row.role),
        pgy=row.pgy,
        active=row.active,
        email=row.email,
        clinic=(
            ClinicSession(day=Weekday(row.clinic_day), shift=row.clinic_shift)
            if row.clinic_day is not None and row.clinic_shift is not None
            else None
        ),
        credentials=tuple(
            Credential(name=c.name, expires=c.expires) for c in sorted(credentials, key=lambda c: c.name)
        ),
    )


def _rotation_from_row(row: RotationRow) -> Rotation:
    return Rotation(
        id=row.id,
        name=row.name,
        kind=RotationKind(row.kind),
        slots=tuple(row.slots),
        days=tuple(Weekday(d) for d in row.days),
        residents=ResidentStaffing(min=row.resident_min, max=row.resident_max, pgy=tuple(row.resident_pgy)),
        faculty=Staffing(min=row.faculty_min, max=row.faculty_max),
        credentials=tuple(row.credentials),
        supervised=row.supervised,
        hours=row.hours,
        in_house=row.in_house,
        moonlighting=row.moonlighting,
        coverage=tuple(Coverage.model_validate(entry) for entry in row.coverage or ()),
    )


def _shift_values(shift: ShiftType, position: int) -> dict:
    return {
        "name": shift.name,
        "kind": shift.kind.value,
        "start": _format_time(shift.start),
        "hours": shift.hours,
        "transition_hours": shift.transition_hours,
        "position": position,
    }


def _shift_from_row(row: ShiftTypeRow) -> ShiftType:
    return ShiftType(
        id=row.id,
        name=row.name,
        kind=ShiftKind(row.kind),
        start=time.fromisoformat(row.start),
        hours=row.hours,
        transition_hours=row.transition_hours,
    )


def _block_rotation_values(rotation: BlockRotation, position: int) -> dict:
    # Everything but the id and name is one JSON definition: read whole, never queried inside.
    return {
        "name": rotation.name,
        "definition": rotation.model_dump(mode="json", exclude={"id", "name"}),
        "position": position,
    }


def _block_rotation_from_row(row: BlockRotationRow) -> BlockRotation:
    return BlockRotation.model_validate({**row.definition, "id": row.id, "name": row.name})


def plan_entry_from_row(row: RotationPlanRow) -> PlanEntry:
    return PlanEntry(
        person_id=row.person_id,
        start=row.start_date,
        end=row.end_date,
        rotation_id=row.rotation_id,
        locked=row.locked,
        source=AssignmentSource(row.source),
    )


def _request_key(request: ProgramRequest) -> tuple:
    return (request.person_id, request.kind.value, request.start, request.end, request.rotation_id)


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
        shift_types = tuple(
            _shift_from_row(row)
            for row in self.session.scalars(select(ShiftTypeRow).order_by(ShiftTypeRow.position, ShiftTypeRow.id))
        )
        block_rotations = tuple(
            _block_rotation_from_row(row)
            for row in self.session.scalars(
                select(BlockRotationRow).order_by(BlockRotationRow.position, BlockRotationRow.id)
            )
        )
        requests = tuple(
            ProgramRequest(
                person_id=row.person_id,
                kind=RequestKind(row.kind),
                start=row.start_date,
                end=row.end_date,
                priority=row.priority,
                weight=row.weight,
                rotation_id=row.rotation_id,
            )
            for row in self.session.scalars(select(ProgramRequestRow).order_by(ProgramRequestRow.id))
        )
        holidays = tuple(
            Holiday(date=row.date, name=row.name)
            for row in self.session.scalars(select(HolidayRow).order_by(HolidayRow.date))
        )
        attending = tuple(
            AttendingAssignment(
                person_id=row.person_id, service_id=row.service_id, start=row.start_date, end=row.end_date
            )
            for row in self.session.scalars(select(AttendingRow).order_by(AttendingRow.id))
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
            shift_types=shift_types,
            block_rotations=block_rotations,
            plan=PlanRepository(self.session).rows(),
            year=AcademicYear.model_validate(settings.academic_year) if settings.academic_year else None,
            curriculum=tuple(CurriculumRequirement.model_validate(c) for c in settings.curriculum or ()),
            requests=requests,
            holidays=holidays,
            attending=attending,
            clinic_service=settings.clinic_service,
            didactics=tuple(WeeklySession.model_validate(d) for d in settings.didactics or ()),
            didactics_service=settings.didactics_service,
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
            "clinic_service": program.clinic_service,
            "didactics": [session.model_dump(mode="json") for session in program.didactics],
            "didactics_service": program.didactics_service,
            "academic_year": program.year.model_dump(mode="json") if program.year else None,
            "curriculum": [requirement.model_dump(mode="json") for requirement in program.curriculum],
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
        self._save_shift_types(program.shift_types, changes.shift_types)
        self._save_block_rotations(program.block_rotations, changes.block_rotations)
        # Rows below reference people, services and block rotations: those are in the database first.
        self.session.flush()
        changes.plan = PlanRepository(self.session).upsert(entries=program.plan)
        self._save_requests(program.requests, changes.requests)
        self._save_holidays(program.holidays, changes.holidays)
        self._save_attending(program.attending, changes.attending)
        self.session.flush()
        return changes

    def _save_shift_types(self, shifts: Iterable[ShiftType], counter: ChangeCount) -> None:
        values = {shift.id: _shift_values(shift, position) for position, shift in enumerate(shifts)}
        self._upsert_by_id(ShiftTypeRow, values, counter)

    def _upsert_by_id(self, row_type: type, values_by_id: dict[str, dict], counter: ChangeCount) -> None:
        """Add the rows whose id is new, update those whose values changed, and count both."""
        rows: list[Any] = list(self.session.scalars(select(row_type)))
        existing = {row.id: row for row in rows}
        for row_id, values in values_by_id.items():
            row = existing.get(row_id)
            if row is None:
                self.session.add(row_type(id=row_id, **values))
                counter.created += 1
            else:
                counter.record_existing(changed=_apply(row, values))

    def _save_block_rotations(self, rotations: Iterable[BlockRotation], counter: ChangeCount) -> None:
        values = {
            rotation.id: _block_rotation_values(rotation, position) for position, rotation in enumerate(rotations)
        }
        self._upsert_by_id(BlockRotationRow, values, counter)

    def _save_requests(self, requests: Iterable[ProgramRequest], counter: ChangeCount) -> None:
        # A request is what it asks for (person, kind, dates, rotation); its priority and weight may change.
        existing = {
            (row.person_id, row.kind, row.start_date, row.end_date, row.rotation_id): row
            for row in self.session.scalars(select(ProgramRequestRow))
        }
        for request in requests:
            values = {"priority": request.priority, "weight": request.weight}
            key = _request_key(request)
            row = existing.get(key)
            if row is None:
                row = ProgramRequestRow(
                    person_id=request.person_id,
                    kind=request.kind.value,
                    start_date=request.start,
                    end_date=request.end,
                    rotation_id=request.rotation_id,
                    **values,
                )
                self.session.add(row)
                existing[key] = row
                counter.created += 1
            else:
                counter.record_existing(changed=_apply(row, values))

    def _save_holidays(self, holidays: Iterable[Holiday], counter: ChangeCount) -> None:
        existing = {row.date: row for row in self.session.scalars(select(HolidayRow))}
        for holiday in holidays:
            row = existing.get(holiday.date)
            if row is None:
                row = HolidayRow(date=holiday.date, name=holiday.name)
                self.session.add(row)
                existing[holiday.date] = row
                counter.created += 1
            else:
                counter.record_existing(changed=_apply(row, {"name": holiday.name}))

    def _save_attending(self, attending: Iterable[AttendingAssignment], counter: ChangeCount) -> None:
        existing = {
            (row.person_id, row.service_id, row.start_date, row.end_date)
            for row in self.session.scalars(select(AttendingRow))
        }
        for entry in attending:
            key = (entry.person_id, entry.service_id, entry.start, entry.end)
            if key in existing:
                counter.unchanged += 1
                continue
            self.session.add(
                AttendingRow(
                    person_id=entry.person_id, service_id=entry.service_id, start_date=entry.start, end_date=entry.end
                )
            )
            existing.add(key)
            counter.created += 1

    def _save_staff(self, staff: Iterable[StaffMember], counter: ChangeCount) -> None:
        self._upsert_by_id(StaffRow, {member.id: _staff_values(member) for member in staff}, counter)

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
        self._upsert_by_id(RotationRow, {rotation.id: _rotation_values(rotation) for rotation in rotations}, counter)

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
        slot=row.slot,
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
            digest.update(f"{a.person_id}|{a.date}|{a.slot}|{a.rotation_id}|{a.source.value}|{a.locked}\n".encode())
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
                slot=a.slot,
                rotation_id=a.rotation_id,
                source=a.source.value,
                locked=a.locked,
                run_id=run_id,
            )
            for a in assignments
            if start <= a.date <= end and (a.person_id, a.date, a.slot) not in locked
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
            row = existing.get((assignment.person_id, assignment.date, assignment.slot))
            if row is None:
                self.session.add(
                    AssignmentRow(
                        person_id=assignment.person_id,
                        date=assignment.date,
                        slot=assignment.slot,
                        run_id=run_id,
                        **values,
                    )
                )
                counter.created += 1
            else:
                counter.record_existing(changed=_apply(row, values))
        self.session.flush()
        return counter


class PlanRepository:
    """The block schedule (``rotation_plan``): at most one row per person and start day.

    A row belongs to a range when it starts in it (as a duty belongs to its date); rows that
    start before the range are history and never touched by a range's replacement.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def _query(self, *, start: date | None, end: date | None):
        query = select(RotationPlanRow)
        # Overlapping the range: the rows that put someone on a rotation on one of its days.
        if start is not None:
            query = query.where(RotationPlanRow.end_date >= start)
        if end is not None:
            query = query.where(RotationPlanRow.start_date <= end)
        return query.order_by(RotationPlanRow.person_id, RotationPlanRow.start_date)

    def rows(self, *, start: date | None = None, end: date | None = None) -> tuple[PlanEntry, ...]:
        """The plan rows that cover any day of ``start..end`` (every row without bounds), by person and start."""
        return tuple(plan_entry_from_row(row) for row in self.session.scalars(self._query(start=start, end=end)))

    def count(self, *, start: date | None = None, end: date | None = None) -> int:
        query = select(func.count()).select_from(RotationPlanRow)
        if start is not None:
            query = query.where(RotationPlanRow.end_date >= start)
        if end is not None:
            query = query.where(RotationPlanRow.start_date <= end)
        return self.session.scalar(query) or 0

    def digest(self, *, start: date, end: date) -> str:
        """One SHA-256 over the plan rows covering the range: equal digests, equal plans."""
        digest = hashlib.sha256()
        for e in self.rows(start=start, end=end):
            digest.update(f"{e.person_id}|{e.start}|{e.end}|{e.rotation_id}|{e.source.value}|{e.locked}\n".encode())
        return digest.hexdigest()

    def replace_range(
        self, *, start: date, end: date, entries: Iterable[PlanEntry], run_id: str | None = None
    ) -> ChangeCount:
        """Replace the unlocked rows starting in ``start..end`` with ``entries`` (those starting in the
        range), in the caller's transaction. Locked rows stay, and so do rows that started before the
        range; an entry that would overlap a row kept is left out, as ``AssignmentRepository.replace_range``
        leaves out a duty on a locked key. Returns what was removed (``updated``) and added (``created``)."""
        in_range = (RotationPlanRow.start_date >= start, RotationPlanRow.start_date <= end)
        removed = cast(
            "CursorResult[Any]",
            self.session.execute(delete(RotationPlanRow).where(*in_range, RotationPlanRow.locked.is_(False))),
        ).rowcount
        kept: dict[str, list[tuple[date, date]]] = {}
        for row in self.session.scalars(select(RotationPlanRow).where(RotationPlanRow.end_date >= start)):
            kept.setdefault(row.person_id, []).append((row.start_date, row.end_date))
        added: list[RotationPlanRow] = []
        for entry in entries:
            if not start <= entry.start <= end:
                continue
            spans = kept.setdefault(entry.person_id, [])
            if any(first <= entry.end and entry.start <= last for first, last in spans):
                continue
            spans.append((entry.start, entry.end))
            added.append(
                RotationPlanRow(
                    person_id=entry.person_id,
                    start_date=entry.start,
                    end_date=entry.end,
                    rotation_id=entry.rotation_id,
                    source=entry.source.value,
                    locked=entry.locked,
                    run_id=run_id,
                )
            )
        self.session.add_all(added)
        self.session.flush()
        return ChangeCount(created=len(added), updated=removed or 0)

    def upsert(self, *, entries: Iterable[PlanEntry], run_id: str | None = None) -> ChangeCount:
        """Insert new rows and update the ones held for the same person and start day (a program import)."""
        counter = ChangeCount()
        existing = {(row.person_id, row.start_date): row for row in self.session.scalars(select(RotationPlanRow))}
        for entry in entries:
            values = {
                "end_date": entry.end,
                "rotation_id": entry.rotation_id,
                "source": entry.source.value,
                "locked": entry.locked,
            }
            row = existing.get((entry.person_id, entry.start))
            if row is None:
                row = RotationPlanRow(person_id=entry.person_id, start_date=entry.start, run_id=run_id, **values)
                self.session.add(row)
                existing[(entry.person_id, entry.start)] = row
                counter.created += 1
            else:
                counter.record_existing(changed=_apply(row, values))
        self.session.flush()
        return counter
