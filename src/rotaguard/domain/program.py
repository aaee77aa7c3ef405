"""The program: its clock (time zone, slot times, 28-day blocks) and everything it holds."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, cached_property
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AfterValidator, Field, model_validator

from rotaguard.domain.base import CalendarDate, DisplayName, Frozen, Identifier, Role, RotationKind, Slot
from rotaguard.domain.people import Person, StaffMember
from rotaguard.domain.plan import (
    AcademicYear,
    AttendingAssignment,
    BlockDates,
    BlockRotation,
    CurriculumRequirement,
    Holiday,
    PlanEntry,
    ProgramRequest,
    WeeklySession,
)
from rotaguard.domain.rotations import Rotation
from rotaguard.domain.rules import RuleParams
from rotaguard.domain.schedule import VACATION_KIND, Absence, Assignment, DutyInterval
from rotaguard.domain.shifts import ShiftType, v1_shift_types

BLOCK_DAYS = 28
BLOCKS_PER_YEAR = 13
# Block 1 of 2025-26 starts on Thursday 2025-07-03, so Block 10 is 2026-03-12 .. 2026-04-08.
DEFAULT_BLOCK_ANCHOR = date(2025, 7, 3)


@cache
def _known_zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def is_valid_timezone(name: str) -> bool:
    if name not in _known_zone_names():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _known_timezone(value: str) -> str:
    if not is_valid_timezone(value):
        raise ValueError(f"unknown IANA time zone {value!r}")
    return value


TimeZoneName = Annotated[str, AfterValidator(_known_timezone)]
"""An IANA time zone name such as ``America/New_York``."""


class SlotTime(Frozen):
    start: time
    hours: float = Field(gt=0, le=24)


class SlotTimes(Frozen):
    AM: SlotTime = SlotTime(start=time(7, 0), hours=6)
    PM: SlotTime = SlotTime(start=time(13, 0), hours=6)
    CALL: SlotTime = SlotTime(start=time(19, 0), hours=12)

    def of(self, slot: Slot) -> SlotTime:
        slot_time: SlotTime = getattr(self, slot.value)
        return slot_time


class Block(Frozen):
    """One 28-day academic block, ``start`` .. ``end`` inclusive."""

    academic_year: str
    number: int
    start: date
    end: date


def _duplicates(values: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    dupes: set[str] = set()
    for value in values:
        if value in seen:
            dupes.add(value)
        seen.add(value)
    return sorted(dupes)


_CACHED_LOOKUPS = (
    "zone",
    "people_by_id",
    "rotations_by_id",
    "shifts",
    "shifts_by_id",
    "block_rotations_by_id",
    "plan_by_person",
    "attending_by_person",
)


class Program(Frozen):
    """A whole residency program: settings, people, rotations, absences and rules."""

    name: DisplayName
    timezone: TimeZoneName = "America/New_York"
    slots: SlotTimes = SlotTimes()
    block_anchor: CalendarDate = DEFAULT_BLOCK_ANCHOR
    rules: RuleParams = RuleParams()
    people: tuple[Person, ...] = ()
    rotations: tuple[Rotation, ...] = ()
    absences: tuple[Absence, ...] = ()
    staff: tuple[StaffMember, ...] = ()
    # ---- v2 (docs/model.md); a v1 program leaves all of these empty.
    # Shift types; empty means v1's three slots (``slots``) as the shift types AM, PM and CALL.
    shift_types: tuple[ShiftType, ...] = ()
    # What a resident is on for a block; ``rotations`` above are the services they work on.
    block_rotations: tuple[BlockRotation, ...] = ()
    plan: tuple[PlanEntry, ...] = ()
    year: AcademicYear | None = None
    curriculum: tuple[CurriculumRequirement, ...] = ()
    requests: tuple[ProgramRequest, ...] = ()
    holidays: tuple[Holiday, ...] = ()
    attending: tuple[AttendingAssignment, ...] = ()
    clinic_service: Identifier | None = None
    didactics: tuple[WeeklySession, ...] = ()
    didactics_service: Identifier | None = None

    @model_validator(mode="after")
    def _references_resolve(self) -> Program:
        for kind, ids in (("person", [p.id for p in self.people]), ("rotation", [r.id for r in self.rotations])):
            if dupes := _duplicates(ids):
                raise ValueError(f"duplicate {kind} ids: {dupes}")
        # One id names one actor, whether a scheduled person or a staff member.
        if dupes := _duplicates([p.id for p in self.people] + [s.id for s in self.staff]):
            raise ValueError(f"ids used by both a person and a staff member, or twice: {dupes}")
        unknown = sorted({a.person_id for a in self.absences} - {p.id for p in self.people})
        if unknown:
            raise ValueError(f"absences of unknown people: {unknown}")
        for problem in model_problems(self):
            raise ValueError(problem)
        return self

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Program:
        """A copy whose lookups are rebuilt: the cached ones would describe the original."""
        copy = super().model_copy(update=update, deep=deep)
        for name in _CACHED_LOOKUPS:
            copy.__dict__.pop(name, None)
        return copy

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def people_by_id(self) -> dict[str, Person]:
        return {person.id: person for person in self.people}

    @cached_property
    def rotations_by_id(self) -> dict[str, Rotation]:
        return {rotation.id: rotation for rotation in self.rotations}

    def person(self, person_id: str) -> Person:
        return self.people_by_id[person_id]

    def rotation(self, rotation_id: str) -> Rotation:
        return self.rotations_by_id[rotation_id]

    def absent(self, person_id: str, day: date) -> Absence | None:
        return next((a for a in self.absences if a.person_id == person_id and a.covers(day)), None)

    # ------------------------------------------------------------------ shift types

    @cached_property
    def shifts(self) -> tuple[ShiftType, ...]:
        """The program's shift types: its own, or v1's three slots."""
        if self.shift_types:
            return self.shift_types
        return v1_shift_types(
            (self.slots.AM.start, self.slots.AM.hours),
            (self.slots.PM.start, self.slots.PM.hours),
            (self.slots.CALL.start, self.slots.CALL.hours),
        )

    @cached_property
    def shifts_by_id(self) -> dict[str, ShiftType]:
        return {shift.id: shift for shift in self.shifts}

    def shift(self, shift_id: str) -> ShiftType:
        return self.shifts_by_id[shift_id]

    @property
    def shift_ids(self) -> tuple[str, ...]:
        return tuple(shift.id for shift in self.shifts)

    def is_in_house_call(self, rotation_id: str, slot: str) -> bool:
        """In-house call for the every-third-night and consecutive-night rules: a call shift on an
        in-house service (v1: the CALL slot of a call rotation)."""
        rotation = self.rotations_by_id.get(rotation_id)
        shift = self.shifts_by_id.get(slot)
        return rotation is not None and rotation.in_house and shift is not None and shift.is_call

    def hours_for(self, rotation_id: str, slot: str) -> float:
        """A duty's length: the service's own hours when it sets them, else the shift's."""
        rotation = self.rotations_by_id.get(rotation_id)
        if rotation is not None and rotation.hours is not None:
            return rotation.hours
        return self.shift(slot).hours

    # ------------------------------------------------------------------ the block layer

    @property
    def has_plan_model(self) -> bool:
        """Whether residents' duties follow block rotations (v2) rather than v1's pool."""
        return bool(self.block_rotations)

    @cached_property
    def block_rotations_by_id(self) -> dict[str, BlockRotation]:
        return {rotation.id: rotation for rotation in self.block_rotations}

    def block_rotation(self, rotation_id: str) -> BlockRotation:
        return self.block_rotations_by_id[rotation_id]

    @cached_property
    def plan_by_person(self) -> dict[str, tuple[PlanEntry, ...]]:
        rows: dict[str, list[PlanEntry]] = {}
        for entry in self.plan:
            rows.setdefault(entry.person_id, []).append(entry)
        return {person: tuple(sorted(entries, key=lambda e: e.start)) for person, entries in rows.items()}

    def planned(self, person_id: str, day: date) -> PlanEntry | None:
        """The plan row that puts the person on a rotation on ``day``, if any."""
        return next((e for e in self.plan_by_person.get(person_id, ()) if e.covers(day)), None)

    def fairness_peers(self, person_id: str, start: date, end: date) -> str | None:
        """Whom a resident's calls and weekends are compared with over ``start..end``: everyone
        ("") in a v1 program; in a plan program the residents whose first plan row in the range
        is on the same rotation (None: no row in the range, compared with nobody). ``compliance``
        and the solver both read this, so a fairness penalty is what ``validate`` reports."""
        if not self.has_plan_model:
            return ""
        entry = next((e for e in self.plan_by_person.get(person_id, ()) if e.start <= end and e.end >= start), None)
        return None if entry is None else entry.rotation_id

    def call_eligible(self, person: Person, start: date, end: date) -> bool:
        """A resident some service taking them runs in-house call for, on some day of the range."""
        if not person.is_resident:
            return False
        days = [start + timedelta(days=i) for i in range(min((end - start).days + 1, 7))]
        return any(
            rotation.accepts(person)
            and any(
                self.is_in_house_call(rotation.id, shift) and rotation.runs_on(day, shift)
                for shift in self.shift_ids
                for day in days
            )
            for rotation in self.rotations
        )

    def year_blocks(self) -> tuple[BlockDates, ...]:
        """The academic year's blocks in date order (none without a year)."""
        return () if self.year is None else tuple(sorted(self.year.blocks, key=lambda b: b.start))

    def away_blocks(self, person_id: str) -> frozenset[int]:
        """The year's block numbers a person is away for entirely (a leave of absence or any absence
        but a vacation covering every day of the block): such a block has no plan row, and the
        curriculum is prorated over the blocks present (``required_blocks``)."""
        away = set()
        for block in self.year_blocks():
            days = {block.start + timedelta(days=i) for i in range((block.end - block.start).days + 1)}
            for absence in self.absences:
                if absence.person_id == person_id and absence.kind != VACATION_KIND:
                    days -= {d for d in days if absence.covers(d)}
            if not days:
                away.add(block.number)
        return frozenset(away)

    def planned_rotation(self, person_id: str, day: date) -> BlockRotation | None:
        entry = self.planned(person_id, day)
        return None if entry is None else self.block_rotations_by_id.get(entry.rotation_id)

    @cached_property
    def attending_by_person(self) -> dict[str, tuple[AttendingAssignment, ...]]:
        rows: dict[str, list[AttendingAssignment]] = {}
        for entry in self.attending:
            rows.setdefault(entry.person_id, []).append(entry)
        return {person: tuple(entries) for person, entries in rows.items()}

    def attending_service(self, person_id: str, day: date) -> str | None:
        return next((e.service_id for e in self.attending_by_person.get(person_id, ()) if e.covers(day)), None)

    def block_dates(self, day: date) -> tuple[date, date]:
        """The start and end of the block holding ``day``: the year's own blocks, else 28-day blocks."""
        if self.year is not None:
            for dated in self.year.blocks:
                if dated.start <= day <= dated.end:
                    return dated.start, dated.end
        block = self.block_containing(day)
        return block.start, block.end

    def hours_of(self, assignment: Assignment) -> float:
        return self.hours_for(assignment.rotation_id, assignment.slot)

    def interval_start(self, day: date, slot: str) -> datetime:
        """The shift's wall-clock start on ``day`` in the program's time zone."""
        return datetime.combine(day, self.shift(slot).start, tzinfo=self.zone)

    def interval_bounds(self, day: date, slot: str, hours: float) -> tuple[datetime, datetime]:
        """Start and end on the wall clock, as shifts are rostered: a 19:00 call of 12 h ends
        at 07:00 even across a daylight-saving change, when it really lasts 11 or 13 h."""
        naive_start = datetime.combine(day, self.shift(slot).start)
        naive_end = naive_start + timedelta(hours=hours)
        start = naive_start.replace(tzinfo=self.zone)
        # A wall time that does not exist (skipped by the clock change) is read with the
        # offset in force before it; normalising through UTC moves it onto the real clock.
        end = naive_end.replace(tzinfo=self.zone).astimezone(UTC).astimezone(self.zone)
        return start, end

    def interval(self, assignment: Assignment) -> DutyInterval:
        """When the duty happens; ``hours`` is the time that really elapses (ACGME counts it)."""
        start, end = self.interval_bounds(assignment.date, assignment.slot, self.hours_of(assignment))
        return DutyInterval(
            start=start, end=end, hours=(end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() / 3600
        )

    def block_containing(self, day: date) -> Block:
        offset = (day - self.block_anchor).days
        year_index, day_in_year = divmod(offset, BLOCK_DAYS * BLOCKS_PER_YEAR)
        number = day_in_year // BLOCK_DAYS + 1
        return self.block(self.block_anchor.year + year_index, number)

    def block(self, academic_year_start: int, number: int) -> Block:
        """Block ``number`` (1-13) of the academic year starting in ``academic_year_start``."""
        if not 1 <= number <= BLOCKS_PER_YEAR:
            raise ValueError(f"block number must be 1-{BLOCKS_PER_YEAR}, got {number}")
        years = academic_year_start - self.block_anchor.year
        start = self.block_anchor + timedelta(days=years * BLOCK_DAYS * BLOCKS_PER_YEAR + (number - 1) * BLOCK_DAYS)
        label = f"{academic_year_start}-{(academic_year_start + 1) % 100:02d}"
        return Block(academic_year=label, number=number, start=start, end=start + timedelta(days=BLOCK_DAYS - 1))


def model_problems(program: Program) -> list[str]:
    """What is inconsistent across the program's parts (references, kinds, the plan), one line each."""
    problems: list[str] = []
    shifts = program.shifts_by_id
    if dupes := _duplicates([s.id for s in program.shift_types]):
        problems.append(f"duplicate shift type ids: {dupes}")
    for rotation in program.rotations:
        unknown = [slot for slot in rotation.slots if slot not in shifts]
        if unknown:
            problems.append(f"service {rotation.id} names unknown shift types: {unknown}")
            continue
        calls = [slot for slot in rotation.slots if shifts[slot].is_call]
        if rotation.kind is RotationKind.SESSION and calls:
            problems.append(
                f"session rotation {rotation.id} runs in-house call shifts {calls}: a session rotation runs no call"
            )
        if rotation.kind is RotationKind.CALL and len(calls) != len(rotation.slots):
            problems.append(
                f"call rotation {rotation.id} runs shifts that are not call: a call rotation runs only call"
            )
    services = program.rotations_by_id
    block_ids = [r.id for r in program.block_rotations]
    if dupes := _duplicates(block_ids):
        problems.append(f"duplicate rotation ids: {dupes}")
    for block_rotation in program.block_rotations:
        for duty in block_rotation.pattern.duties:
            if duty.service not in services:
                problems.append(f"rotation {block_rotation.id}'s pattern names unknown service {duty.service!r}")
            if duty.shift not in shifts:
                problems.append(f"rotation {block_rotation.id}'s pattern names unknown shift {duty.shift!r}")
            elif duty.service in services and duty.shift not in services[duty.service].slots:
                problems.append(
                    f"rotation {block_rotation.id}'s pattern puts {duty.shift} on {duty.service}, which does not run it"
                )
    people = program.people_by_id
    for index, entry in enumerate(program.plan):
        if entry.person_id not in people:
            problems.append(f"plan row {index} names unknown person {entry.person_id!r}")
        elif not people[entry.person_id].is_resident:
            problems.append(f"plan row {index} puts {entry.person_id}, who is not a resident, on a rotation")
        if entry.rotation_id not in program.block_rotations_by_id:
            problems.append(f"plan row {index} names unknown rotation {entry.rotation_id!r}")
    for person, entries in program.plan_by_person.items():
        for earlier, later in zip(entries, entries[1:], strict=False):
            if later.start <= earlier.end:
                problems.append(
                    f"{person}'s plan rows {earlier.start}..{earlier.end} and {later.start}..{later.end} overlap"
                )
    for session_owner, session in [(p.id, p.clinic) for p in program.people if p.clinic] + [
        ("didactics", s) for s in program.didactics
    ]:
        if session.shift not in shifts:
            problems.append(f"{session_owner}'s weekly session names unknown shift {session.shift!r}")
    if any(p.clinic for p in program.people) and program.clinic_service is None and program.block_rotations:
        problems.append("residents have a clinic day but the program names no clinic_service")
    for name, service in (("clinic_service", program.clinic_service), ("didactics_service", program.didactics_service)):
        if service is not None and service not in services:
            problems.append(f"{name} names unknown service {service!r}")
    if program.didactics and program.didactics_service is None:
        problems.append("the program has didactics but names no didactics_service")
    for requirement in program.curriculum:
        if requirement.rotation not in program.block_rotations_by_id:
            problems.append(f"curriculum for PGY-{requirement.pgy} names unknown rotation {requirement.rotation!r}")
        unknown_before = [r for r in requirement.before if r not in program.block_rotations_by_id]
        if unknown_before:
            problems.append(
                f"curriculum for PGY-{requirement.pgy} {requirement.rotation} precedes unknown rotations {unknown_before}"
            )
    owners = [("request", i, r.person_id) for i, r in enumerate(program.requests)]
    owners += [("attending row", i, a.person_id) for i, a in enumerate(program.attending)]
    for kind, index, person_id in owners:
        if person_id not in people:
            problems.append(f"{kind} {index} names unknown person {person_id!r}")
    for index, attending in enumerate(program.attending):
        if attending.service_id not in services:
            problems.append(f"attending row {index} names unknown service {attending.service_id!r}")
        elif attending.person_id in people and people[attending.person_id].role is not Role.FACULTY:
            problems.append(f"attending row {index} names {attending.person_id}, who is not faculty")
    for index, request in enumerate(program.requests):
        if request.rotation_id is not None and request.rotation_id not in program.block_rotations_by_id:
            problems.append(f"request {index} names unknown rotation {request.rotation_id!r}")
    return problems
