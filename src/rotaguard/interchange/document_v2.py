"""The program document ``rotaguard-program/2`` (docs/model.md): parse, check, convert, write.

Two layers: the block plan (``rotations`` a resident is on for a block, ``plan`` rows, the
``year``, the ``curriculum``) and the duties inside it (``shift_types``, ``services`` with
their ``coverage``, ``duties``). Where a domain model says exactly what the document says it is
used directly (people, block rotations, plan rows, ...), so the schema cannot drift from it.

A v2 document that says no more than a v1 one (shift types AM, PM and CALL as v1 names them,
services of v1's kinds, session or call, with one staffing for all their shifts and weekdays)
reads as the very program its v1 document gives: a v1 program exported as v2 and imported again is the program it was.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable
from datetime import date, time
from typing import ClassVar, Literal

from pydantic import Field, ValidationError, model_validator

from rotaguard.domain import (
    Absence,
    AcademicYear,
    AssignmentSource,
    AttendingAssignment,
    BlockDates,
    BlockRotation,
    Coverage,
    CurriculumRequirement,
    Holiday,
    Person,
    PlanEntry,
    Program,
    ProgramRequest,
    ResidentStaffing,
    Rotation,
    RotationKind,
    RuleParams,
    Schedule,
    ShiftKind,
    ShiftType,
    SlotTime,
    SlotTimes,
    StaffMember,
    WeeklySession,
    model_problems,
)
from rotaguard.domain import Assignment as Duty
from rotaguard.domain.base import CalendarDate, DisplayName, Frozen, Identifier
from rotaguard.domain.people import MAX_CREDENTIALS
from rotaguard.domain.program import BLOCKS_PER_YEAR, DEFAULT_BLOCK_ANCHOR, TimeZoneName
from rotaguard.domain.shifts import MAX_TRANSITION_HOURS, v1_shift_types
from rotaguard.errors import InputError, Problem
from rotaguard.interchange.document import (
    HHMM_PATTERN,
    MAX_ABSENCES,
    MAX_ASSIGNMENTS,
    MAX_PEOPLE,
    MAX_ROTATIONS,
    MAX_STAFF,
    RuleOverrides,
    _first_index,
    _pydantic_problems,
    duty_warnings,
)

FORMAT = "rotaguard-program/2"
SCHEMA_ID = "https://rotaguard.example/schemas/rotaguard-program-2.json"

MAX_SHIFT_TYPES = 100
MAX_PLAN_ROWS = 50_000
MAX_REQUESTS = 50_000
MAX_HOLIDAYS = 1_000
MAX_ATTENDING = 50_000
MAX_CURRICULUM = 2_000
MAX_COVERAGE = 100


class ShiftTypeSpec(Frozen):
    """A shift type: ``{"id": "CALL24", "kind": "call_24", "start": "07:00", "hours": 24, ...}``."""

    id: Identifier
    name: DisplayName
    kind: ShiftKind
    start: str = Field(pattern=HHMM_PATTERN, description="Local start time, HH:MM")
    hours: float = Field(gt=0, le=28)
    transition_hours: float = Field(default=0, ge=0, le=MAX_TRANSITION_HOURS)

    @model_validator(mode="after")
    def _a_shift_type(self) -> ShiftTypeSpec:
        self.to_shift()  # the domain's own checks (transition only on call_24, 24 + 4 h at most)
        return self

    def to_shift(self) -> ShiftType:
        return ShiftType(
            id=self.id,
            name=self.name,
            kind=self.kind,
            start=time.fromisoformat(self.start),
            hours=self.hours,
            transition_hours=self.transition_hours,
        )

    @classmethod
    def of(cls, shift: ShiftType) -> ShiftTypeSpec:
        return cls(
            id=shift.id,
            name=shift.name,
            kind=shift.kind,
            start=shift.start.strftime("%H:%M"),
            hours=shift.hours,
            transition_hours=shift.transition_hours,
        )


class ServiceSpec(Frozen):
    """A service: what needs staffing, per shift type, weekdays and PGY group (``coverage``)."""

    id: Identifier
    name: DisplayName
    # v1's session (no in-house call) and call (only in-house call) stay expressible; "service" runs any.
    kind: RotationKind = RotationKind.SERVICE
    coverage: tuple[Coverage, ...] = Field(min_length=1, max_length=MAX_COVERAGE)
    credentials: tuple[Identifier, ...] = Field(default=(), max_length=MAX_CREDENTIALS)
    supervised: bool = False
    hours: float | None = Field(default=None, gt=0, le=28, description="Overrides the shifts' length on this service")
    in_house: bool = True
    moonlighting: bool = False

    @model_validator(mode="after")
    def _a_service(self) -> ServiceSpec:
        if len(set(self.credentials)) != len(self.credentials):
            raise ValueError("a credential is listed twice")
        return self

    def to_service(self) -> Rotation:
        common = {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "credentials": self.credentials,
            "supervised": self.supervised,
            "hours": self.hours,
            "in_house": self.in_house,
            "moonlighting": self.moonlighting,
        }
        first = self.coverage[0]
        shifts = [entry.shift for entry in self.coverage]
        uniform = (
            self.kind is not RotationKind.SERVICE
            and len(set(shifts)) == len(shifts)
            and len(first.residents) <= 1
            and all(
                e.days == first.days and e.residents == first.residents and e.faculty == first.faculty
                for e in self.coverage
            )
        )
        if uniform:
            # A v1 rotation (session or call) with one staffing for every shift and weekday: v1's
            # form, which the domain reads the same way, so a v1 program exported as v2 comes back
            # as itself. A service of kind "service" keeps its coverage as given.
            residents = first.residents[0] if first.residents else ResidentStaffing()
            return Rotation(**common, slots=tuple(shifts), days=first.days, residents=residents, faculty=first.faculty)
        return Rotation(**common, coverage=self.coverage)

    @classmethod
    def of(cls, service: Rotation) -> ServiceSpec:
        coverage = service.coverage or tuple(
            Coverage(
                shift=shift,
                days=service.days,
                residents=() if service.residents == ResidentStaffing() else (service.residents,),
                faculty=service.faculty,
            )
            for shift in service.slots
        )
        return cls(
            id=service.id,
            name=service.name,
            kind=service.kind,
            coverage=coverage,
            credentials=service.credentials,
            supervised=service.supervised,
            hours=service.hours,
            in_house=service.in_house,
            moonlighting=service.moonlighting,
        )


_Date = date  # inside DutySpec, ``date`` names the field, not the type


class DutySpec(Frozen):
    """A duty: ``person_id`` works ``shift`` for ``service_id`` on ``date``."""

    person_id: Identifier
    date: CalendarDate
    shift: Identifier
    service_id: Identifier
    locked: bool = False
    source: AssignmentSource = AssignmentSource.IMPORT

    @property
    def key(self) -> tuple[str, _Date, str]:
        return (self.person_id, self.date, self.shift)

    def to_duty(self) -> Duty:
        return Duty(
            person_id=self.person_id,
            date=self.date,
            slot=self.shift,
            rotation_id=self.service_id,
            source=self.source,
            locked=self.locked,
        )

    @classmethod
    def of(cls, duty: Duty) -> DutySpec:
        return cls(
            person_id=duty.person_id,
            date=duty.date,
            shift=duty.slot,
            service_id=duty.rotation_id,
            locked=duty.locked,
            source=duty.source,
        )


class ProgramSpecV2(Frozen):
    name: DisplayName
    timezone: TimeZoneName = Field(default="America/New_York", description="IANA time zone")
    block_anchor: CalendarDate = Field(
        default=DEFAULT_BLOCK_ANCHOR,
        description="First day of Block 1 of some academic year; 28-day blocks unless `year` gives them",
    )
    clinic_service: Identifier | None = Field(default=None, description="Where residents' continuity clinic is worked")
    didactics: tuple[WeeklySession, ...] = Field(default=(), max_length=14, description="Protected half days")
    didactics_service: Identifier | None = Field(default=None, description="Where the didactics are duties")


class ProgramDocumentV2(Frozen):
    """A whole residency program in one JSON document: the block plan and the duties in it."""

    format: Literal["rotaguard-program/2"]
    program: ProgramSpecV2
    rules: RuleOverrides = RuleOverrides()
    shift_types: tuple[ShiftTypeSpec, ...] = Field(min_length=1, max_length=MAX_SHIFT_TYPES)
    services: tuple[ServiceSpec, ...] = Field(default=(), max_length=MAX_ROTATIONS)
    rotations: tuple[BlockRotation, ...] = Field(
        default=(), max_length=MAX_ROTATIONS, description="What a resident is on for a block or half-block"
    )
    year: AcademicYear | None = Field(default=None, description="One academic year's blocks by date")
    curriculum: tuple[CurriculumRequirement, ...] = Field(default=(), max_length=MAX_CURRICULUM)
    people: tuple[Person, ...] = Field(default=(), max_length=MAX_PEOPLE)
    staff: tuple[StaffMember, ...] = Field(default=(), max_length=MAX_STAFF)
    absences: tuple[Absence, ...] = Field(default=(), max_length=MAX_ABSENCES)
    requests: tuple[ProgramRequest, ...] = Field(default=(), max_length=MAX_REQUESTS)
    holidays: tuple[Holiday, ...] = Field(default=(), max_length=MAX_HOLIDAYS)
    attending: tuple[AttendingAssignment, ...] = Field(default=(), max_length=MAX_ATTENDING)
    plan: tuple[PlanEntry, ...] = Field(default=(), max_length=MAX_PLAN_ROWS)
    duties: tuple[DutySpec, ...] = Field(default=(), max_length=MAX_ASSIGNMENTS)

    SERVICES_AT: ClassVar[str] = "$.services"
    DUTIES_AT: ClassVar[str] = "$.duties"

    def rule_overrides(self) -> dict:
        return self.rules.model_dump(exclude_none=True)

    def services_list(self) -> tuple[Rotation, ...]:
        return tuple(service.to_service() for service in self.services)

    def duty_list(self) -> tuple[Duty, ...]:
        return tuple(duty.to_duty() for duty in self.duties)

    def plan_rows(self) -> tuple[PlanEntry, ...]:
        return self.plan

    def warnings(self) -> list[Problem]:
        return duty_warnings(
            self.people, self.services_list(), self.duty_list(), services_at=self.SERVICES_AT, duties_at=self.DUTIES_AT
        )

    def _program_fields(self) -> dict:
        shifts = tuple(spec.to_shift() for spec in self.shift_types)
        v1_slots = _as_v1_slots(shifts)
        return {
            "name": self.program.name,
            "timezone": self.program.timezone,
            "block_anchor": self.program.block_anchor,
            "slots": v1_slots or SlotTimes(),
            "shift_types": () if v1_slots else shifts,
            "rules": RuleParams(**self.rule_overrides()),
            "people": self.people,
            "rotations": self.services_list(),
            "absences": self.absences,
            "staff": self.staff,
            "block_rotations": self.rotations,
            "plan": self.plan,
            "year": self.year,
            "curriculum": self.curriculum,
            "requests": self.requests,
            "holidays": self.holidays,
            "attending": self.attending,
            "clinic_service": self.program.clinic_service,
            "didactics": self.program.didactics,
            "didactics_service": self.program.didactics_service,
        }

    def to_program(self) -> Program:
        return Program(**self._program_fields())

    def to_schedule(self) -> Schedule:
        return Schedule(assignments=self.duty_list())


def _as_v1_slots(shifts: tuple[ShiftType, ...]) -> SlotTimes | None:
    """v1's slot times when the shift types are exactly the three v1 ones (any order), else None."""
    by_id = {shift.id: shift for shift in shifts}
    if set(by_id) != {"AM", "PM", "CALL"} or len(shifts) != 3 or any(s.hours > 24 for s in shifts):
        return None
    slots = SlotTimes(**{sid: SlotTime(start=by_id[sid].start, hours=by_id[sid].hours) for sid in ("AM", "PM", "CALL")})
    expected = v1_shift_types(
        (slots.AM.start, slots.AM.hours), (slots.PM.start, slots.PM.hours), (slots.CALL.start, slots.CALL.hours)
    )
    return slots if all(by_id[e.id] == e for e in expected) else None


# ---------------------------------------------------------------------------------------------
# Writing


def _weekday_order(session: WeeklySession) -> tuple[int, str]:
    return (session.day.index, session.shift)


def document_from(program: Program, schedule: Schedule, *, rule_overrides: dict) -> ProgramDocumentV2:
    """The v2 document for a program (v1 or v2) and its duties, in a stable order."""
    year = program.year
    if year is not None:
        year = AcademicYear(label=year.label, blocks=tuple(sorted(year.blocks, key=lambda b: b.number)))
    return ProgramDocumentV2(
        format=FORMAT,
        program=ProgramSpecV2(
            name=program.name,
            timezone=program.timezone,
            block_anchor=program.block_anchor,
            clinic_service=program.clinic_service,
            didactics=tuple(sorted(program.didactics, key=_weekday_order)),
            didactics_service=program.didactics_service,
        ),
        rules=RuleOverrides(**rule_overrides),
        shift_types=tuple(ShiftTypeSpec.of(shift) for shift in sorted(program.shifts, key=lambda s: s.id)),
        services=tuple(ServiceSpec.of(service) for service in sorted(program.rotations, key=lambda r: r.id)),
        rotations=tuple(sorted(program.block_rotations, key=lambda r: r.id)),
        year=year,
        curriculum=tuple(sorted(program.curriculum, key=lambda c: (c.pgy, c.rotation))),
        people=tuple(sorted(program.people, key=lambda p: p.id)),
        staff=tuple(sorted(program.staff, key=lambda s: s.id)),
        absences=tuple(sorted(program.absences, key=lambda a: (a.person_id, a.start, a.end, a.kind))),
        requests=tuple(sorted(program.requests, key=lambda r: (r.person_id, r.start, r.end, r.kind.value))),
        holidays=tuple(sorted(program.holidays, key=lambda h: h.date)),
        attending=tuple(sorted(program.attending, key=lambda a: (a.person_id, a.start, a.service_id))),
        plan=tuple(sorted(program.plan, key=lambda e: (e.person_id, e.start))),
        duties=tuple(DutySpec.of(duty) for duty in schedule.sorted().assignments),
    )


def dump_document(document: ProgramDocumentV2) -> str:
    return json.dumps(document.model_dump(mode="json", exclude_none=True), indent=2, ensure_ascii=False) + "\n"


def json_schema() -> dict:
    schema = ProgramDocumentV2.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


# ---------------------------------------------------------------------------------------------
# Reading and checking


def parse_v2(text: str | bytes, *, source: str = "document") -> ProgramDocumentV2:
    """Parse and check a ``rotaguard-program/2`` document; raise InputError listing every problem."""
    try:
        document = ProgramDocumentV2.model_validate_json(text, strict=True)
    except ValidationError as exc:
        raise InputError(source, _pydantic_problems(exc)) from None
    problems = check_document(document)
    if problems:
        raise InputError(source, problems)
    return document


def _duplicates(path: str, ids: list[str]) -> tuple[dict[str, int], list[Problem]]:
    first, dupes = _first_index(ids)
    return first, [Problem(f"{path}[{i}].id", f"duplicate id {v!r} (first at {path}[{j}])") for i, v, j in dupes]


def check_document(document: ProgramDocumentV2) -> list[Problem]:
    """Every cross-reference problem, each at its JSON path (the field types checked the rest)."""
    problems: list[Problem] = []
    people, found = _duplicates("$.people", [p.id for p in document.people])
    problems += found
    staff, found = _duplicates("$.staff", [s.id for s in document.staff])
    problems += found
    problems += [
        Problem(f"$.staff[{index}].id", f"{member_id!r} is already a person's id (one id names one actor)")
        for member_id, index in staff.items()
        if member_id in people
    ]
    shifts, found = _duplicates("$.shift_types", [s.id for s in document.shift_types])
    problems += found
    services, found = _duplicates("$.services", [s.id for s in document.services])
    problems += found
    rotations, found = _duplicates("$.rotations", [r.id for r in document.rotations])
    problems += found
    try:
        RuleParams(**document.rule_overrides())
    except ValidationError as exc:
        problems += [
            Problem("$.rules" + "".join(f".{part}" for part in item["loc"]), item["msg"].removeprefix("Value error, "))
            for item in exc.errors()
        ]
    for index, service in enumerate(document.services):
        for entry_index, entry in enumerate(service.coverage):
            if entry.shift not in shifts:
                problems.append(
                    Problem(f"$.services[{index}].coverage[{entry_index}].shift", f"unknown shift {entry.shift!r}")
                )
    for index, absence in enumerate(document.absences):
        if absence.person_id not in people:
            problems.append(Problem(f"$.absences[{index}].person_id", f"unknown person {absence.person_id!r}"))
    problems += _pattern_problems(document, shifts, services)
    problems += _plan_problems(document, people, rotations)
    problems += _curriculum_problems(document, rotations)
    problems += _duty_problems(document, people, services, shifts)
    # The domain's own cross-part check (model_problems) knows more; its lines are mapped to JSON
    # paths, and those the checks above already made at the same place (or inside it) are left out.
    fields = document._program_fields()
    try:
        lines = model_problems(Program.model_construct(**fields))
    except (KeyError, ValueError) as exc:  # a lookup on parts the checks above found broken
        lines = [] if problems else [str(exc)]
    for line in lines:
        path = _path_of(document, line)
        if not any(p.path.startswith(path) or path.startswith(p.path) for p in problems if path != "$"):
            problems.append(Problem(path, line))
    if not problems:
        try:
            Program(**fields)
        except ValidationError as exc:
            problems += [Problem("$", item["msg"].removeprefix("Value error, ")) for item in exc.errors()]
    return problems


def _pattern_problems(document: ProgramDocumentV2, shifts: dict[str, int], services: dict[str, int]) -> list[Problem]:
    problems = []
    for index, rotation in enumerate(document.rotations):
        for duty_index, duty in enumerate(rotation.pattern.duties):
            path = f"$.rotations[{index}].pattern.duties[{duty_index}]"
            if duty.service not in services:
                problems.append(Problem(f"{path}.service", f"unknown service {duty.service!r}"))
            if duty.shift not in shifts:
                problems.append(Problem(f"{path}.shift", f"unknown shift {duty.shift!r}"))
            elif duty.service in services:
                service = document.services[services[duty.service]]
                if all(entry.shift != duty.shift for entry in service.coverage):
                    problems.append(
                        Problem(f"{path}.shift", f"service {duty.service!r} has no coverage for shift {duty.shift!r}")
                    )
    return problems


def _row_shapes(document: ProgramDocumentV2) -> Callable[[date], list[tuple[date, date]]]:
    """For a day, the block holding it and its two halves: the spans a plan row may cover."""
    program = Program(name=document.program.name, block_anchor=document.program.block_anchor, year=document.year)

    def shapes(day: date) -> list[tuple[date, date]]:
        start, end = program.block_dates(day)
        first, second = BlockDates(number=1, start=start, end=end).halves()
        return [(start, end), first, second]

    return shapes


def _plan_problems(document: ProgramDocumentV2, people: dict[str, int], rotations: dict[str, int]) -> list[Problem]:
    problems = []
    shapes = _row_shapes(document)
    rows_by_person: dict[str, list[tuple[int, PlanEntry]]] = defaultdict(list)
    for index, entry in enumerate(document.plan):
        path = f"$.plan[{index}]"
        person_index = people.get(entry.person_id)
        if person_index is None:
            problems.append(Problem(f"{path}.person_id", f"unknown person {entry.person_id!r}"))
        elif not document.people[person_index].is_resident:
            problems.append(
                Problem(f"{path}.person_id", f"{entry.person_id} is not a resident: faculty have no plan rows")
            )
        if entry.rotation_id not in rotations:
            problems.append(Problem(f"{path}.rotation_id", f"unknown rotation {entry.rotation_id!r}"))
        if (entry.start, entry.end) not in shapes(entry.start):
            block_start, block_end = shapes(entry.start)[0]
            problems.append(
                Problem(
                    path,
                    f"{entry.start}..{entry.end} is not a block or half-block (the block is {block_start}..{block_end})",
                )
            )
        for earlier_index, earlier in rows_by_person[entry.person_id]:
            if entry.start <= earlier.end and earlier.start <= entry.end:
                problems.append(
                    Problem(
                        path,
                        f"{entry.person_id} is already on {earlier.rotation_id} {earlier.start}..{earlier.end}"
                        f" (at $.plan[{earlier_index}])",
                    )
                )
                break
        rows_by_person[entry.person_id].append((index, entry))
    return problems


def blocks_in_year(document: ProgramDocumentV2) -> int:
    return len(document.year.blocks) if document.year is not None else BLOCKS_PER_YEAR


def _curriculum_problems(document: ProgramDocumentV2, rotations: dict[str, int]) -> list[Problem]:
    """A curriculum no capacity can meet: a class needs more blocks of a rotation than its
    capacity for that class gives over the year (max per block x blocks in the year)."""
    class_size: dict[int, int] = defaultdict(int)
    for person in document.people:
        if person.is_resident and person.active and person.pgy is not None:
            class_size[person.pgy] += 1
    blocks = blocks_in_year(document)
    needed: dict[tuple[str, int], float] = {
        (requirement.rotation, requirement.pgy): requirement.min_blocks for requirement in document.curriculum
    }
    problems = []
    for index, requirement in enumerate(document.curriculum):
        if requirement.rotation not in rotations or not requirement.min_blocks:
            continue
        rotation = document.rotations[rotations[requirement.rotation]]
        path = f"$.curriculum[{index}].min_blocks"
        if requirement.pgy not in rotation.pgy:
            problems.append(
                Problem(path, f"PGY-{requirement.pgy} residents cannot be on {rotation.id} (PGY {list(rotation.pgy)})")
            )
            continue
        if not rotation.capacity:
            continue  # no capacity given: no limit
        group = rotation.capacity_for(requirement.pgy)
        if group is None:
            problems.append(Problem(path, f"{rotation.id}'s capacity takes no PGY-{requirement.pgy} residents"))
            continue
        # The group's places are shared by its PGY levels: their demands add up.
        demand = sum(class_size[level] * needed.get((rotation.id, level), 0) for level in group.pgy)
        supply = group.max * blocks
        if demand > supply:
            levels = "/".join(str(level) for level in group.pgy)
            problems.append(
                Problem(
                    path,
                    f"PGY-{levels} needs {demand:g} blocks of {rotation.id} over the year"
                    f" ({class_size[requirement.pgy]} residents x {requirement.min_blocks:g}"
                    + (" and the group's other levels" if len(group.pgy) > 1 else "")
                    + f"), but its capacity gives at most {group.max} x {blocks} = {supply}",
                )
            )
    return problems


def _duty_problems(
    document: ProgramDocumentV2, people: dict[str, int], services: dict[str, int], shifts: dict[str, int]
) -> list[Problem]:
    absences_by_person: dict[str, list[tuple[int, Absence]]] = defaultdict(list)
    for index, absence in enumerate(document.absences):
        absences_by_person[absence.person_id].append((index, absence))
    problems = []
    seen: dict[tuple[str, date, str], int] = {}
    for index, duty in enumerate(document.duties):
        path = f"$.duties[{index}]"
        if (earlier := seen.get(duty.key)) is not None:
            problems.append(
                Problem(
                    path, f"{duty.person_id} already has a duty on {duty.date} {duty.shift} (at $.duties[{earlier}])"
                )
            )
        else:
            seen[duty.key] = index
        if duty.person_id not in people:
            problems.append(Problem(f"{path}.person_id", f"unknown person {duty.person_id!r}"))
        if duty.shift not in shifts:
            problems.append(Problem(f"{path}.shift", f"unknown shift {duty.shift!r}"))
        service_index = services.get(duty.service_id)
        if service_index is None:
            problems.append(Problem(f"{path}.service_id", f"unknown service {duty.service_id!r}"))
        elif duty.shift in shifts:
            service = document.services[service_index]
            if all(entry.shift != duty.shift for entry in service.coverage):
                runs = ", ".join(dict.fromkeys(entry.shift for entry in service.coverage))
                problems.append(
                    Problem(f"{path}.shift", f"service {service.id!r} has no {duty.shift} shift (it has {runs})")
                )
        for absence_index, absence in absences_by_person.get(duty.person_id, []):
            if absence.covers(duty.date):
                problems.append(
                    Problem(
                        f"{path}.date",
                        f"{duty.person_id} is absent on {duty.date} ({absence.kind}, $.absences[{absence_index}])",
                    )
                )
    return problems


# model_problems' lines -> JSON paths: (pattern, function of the match giving the path).
def _index_of(items, predicate) -> int | None:
    return next((i for i, item in enumerate(items) if predicate(item)), None)


def _path_of(document: ProgramDocumentV2, line: str) -> str:
    def at(collection: str, index: int | None, tail: str = "") -> str:
        return f"$.{collection}" if index is None else f"$.{collection}[{index}]{tail}"

    def service(identifier: str, tail: str = "") -> str:
        return at("services", _index_of(document.services, lambda s: s.id == identifier), tail)

    def rotation(identifier: str, tail: str = "") -> str:
        return at("rotations", _index_of(document.rotations, lambda r: r.id == identifier), tail)

    rules: list[tuple[str, Callable[[re.Match[str]], str]]] = [
        (r"^duplicate shift type ids", lambda m: "$.shift_types"),
        (r"^service (\S+) names unknown shift types", lambda m: service(m[1], ".coverage")),
        (r"^(?:session|call) rotation (\S+) runs", lambda m: service(m[1], ".kind")),
        (r"^rotation (\S+)'s pattern", lambda m: rotation(m[1], ".pattern")),
        (r"^plan row (\d+) names unknown rotation", lambda m: f"$.plan[{m[1]}].rotation_id"),
        (r"^plan row (\d+)", lambda m: f"$.plan[{m[1]}].person_id"),
        (
            r"^(\S+)'s plan rows (\S+)\.\.",
            lambda m: at("plan", _index_of(document.plan, lambda e: e.person_id == m[1] and str(e.start) == m[2])),
        ),
        (r"^didactics's weekly session", lambda m: "$.program.didactics"),
        (
            r"^(\S+)'s weekly session",
            lambda m: at("people", _index_of(document.people, lambda p: p.id == m[1]), ".clinic.shift"),
        ),
        (r"clinic_service", lambda m: "$.program.clinic_service"),
        (r"didactics_service", lambda m: "$.program.didactics_service"),
        (
            r"^curriculum for PGY-(\d+) (\S+) precedes",
            lambda m: at(
                "curriculum",
                _index_of(document.curriculum, lambda c: c.pgy == int(m[1]) and c.rotation == m[2]),
                ".before",
            ),
        ),
        (
            r"^curriculum for PGY-(\d+) names unknown rotation '([^']+)'",
            lambda m: at(
                "curriculum",
                _index_of(document.curriculum, lambda c: c.pgy == int(m[1]) and c.rotation == m[2]),
                ".rotation",
            ),
        ),
        (r"^request (\d+) names unknown rotation", lambda m: f"$.requests[{m[1]}].rotation_id"),
        (r"^request (\d+)", lambda m: f"$.requests[{m[1]}].person_id"),
        (r"^attending row (\d+) names unknown service", lambda m: f"$.attending[{m[1]}].service_id"),
        (r"^attending row (\d+)", lambda m: f"$.attending[{m[1]}].person_id"),
    ]
    for pattern, path in rules:
        if (match := re.search(pattern, line)) is not None:
            return path(match)
    return "$"


__all__ = [
    "FORMAT",
    "DutySpec",
    "ProgramDocumentV2",
    "ServiceSpec",
    "ShiftTypeSpec",
    "check_document",
    "document_from",
    "dump_document",
    "json_schema",
    "parse_v2",
]
