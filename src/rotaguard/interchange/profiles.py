"""Realistic synthetic residency programs (v2): block rotations, a year's plan, duty patterns.

``synthesize_profile`` builds a whole v2 :class:`~rotaguard.domain.Program` modelled on the
public structure of US internal-medicine and family-medicine programs: three PGY classes
(interns about 40 %), shift types with their own start and length, services staffed by PGY
group, block rotations with duty patterns, continuity clinic, an academic half day, a 13-block
academic year from July, a curriculum per class, vacation and day-off requests, the year's US
holidays, faculty with attending rows and a plan for the whole year.

The numbers are made consistent on purpose: the plan comes first (a deterministic
constructive planner, :func:`plan_year`), and each service's coverage is derived from what the
residents the plan puts on the rotations feeding it are expected to work (for the minimum the
head count expected on the thinnest day of the year, at most 90 % of what is possible there,
rounded down; for the maximum everyone who could work the fullest day), so the block solver can
meet every minimum with fill to spare and nobody on a rotation is left without room for their
pattern's expected work. Faculty follow from the supervision ratio at those numbers. :func:`profile_arithmetic` re-checks the
arithmetic of any v2 program from its parts alone; the tests run it on every profile.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta
from enum import StrEnum

from rotaguard.domain import (
    AcademicYear,
    AttendingAssignment,
    BlockDates,
    BlockRotation,
    Capacity,
    ClinicSession,
    Count,
    Coverage,
    Credential,
    CurriculumRequirement,
    DutyPattern,
    Holiday,
    PatternDuty,
    Person,
    PlanEntry,
    Program,
    ProgramRequest,
    RequestKind,
    ResidentStaffing,
    Role,
    Rotation,
    RuleParams,
    ShiftKind,
    ShiftType,
    Staffing,
    Weekday,
    WeeklySession,
    allowed_count,
    expected_count,
)
from rotaguard.domain.rotations import MAX_STAFF_PER_SLOT
from rotaguard.domain.schedule import Absence
from rotaguard.errors import InputError, Problem
from rotaguard.interchange.synth import SYNTHETIC_STAFF, minimum_faculty, synthesize

BLOCKS = 13
BLOCK_LENGTH = 28
WEEK = 7
MIN_PROFILE_RESIDENTS = 24
MAX_PROFILE_RESIDENTS = 240
DEFAULT_PROFILE_RESIDENTS = 36
# ACGME VI.F.1 / 6.20: 80 h a week averaged over four weeks; a realistic rotation is at least 50 h.
MAX_WEEKLY_HOURS = 80.0
MIN_WEEKLY_HOURS = 50.0
# Faculty hours a week the attending rota plans for (the institutional cap is 80 h).
FACULTY_PLANNED_HOURS_PER_WEEK = 60
# The coverage minimum asks for at most this share of the head count possible on the thinnest day
# (and no more than is expected), so a resident may miss some expected work (fill_rate >= 0.95)
# without leaving a coverage gap, even on rotations whose pattern leaves no spare duty.
COVERAGE_MARGIN = 0.9
VACATION_DAYS = 14  # four weeks a year: two requests of two weeks, each a half-block
DAY_OFF_REQUESTS = 2

WEEKDAYS = (Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI)
WEEKEND = (Weekday.SAT, Weekday.SUN)
EVERY_DAY = tuple(Weekday)
# The academic half day is Wednesday afternoon; continuity clinic takes another afternoon.
ACADEMIC_DAY = Weekday.WED
CLINIC_DAYS = (Weekday.MON, Weekday.TUE, Weekday.THU, Weekday.FRI)


class Profile(StrEnum):
    INTERNAL_MEDICINE = "internal-medicine"
    FAMILY_MEDICINE = "family-medicine"
    # Today's v1 generator, unchanged (interchange/synth.py).
    MINIMAL = "minimal"


SHIFT_TYPES = (
    ShiftType(id="DAY", name="Day shift", kind=ShiftKind.DAY, start=time(7, 0), hours=11),
    ShiftType(id="NIGHT", name="Night shift", kind=ShiftKind.NIGHT, start=time(19, 0), hours=12),
    ShiftType(id="CALL24", name="24-hour call", kind=ShiftKind.CALL_24, start=time(7, 0), hours=24, transition_hours=4),
    ShiftType(id="AM", name="Morning session", kind=ShiftKind.HALF_DAY, start=time(8, 0), hours=5),
    ShiftType(id="PM", name="Afternoon session", kind=ShiftKind.HALF_DAY, start=time(13, 0), hours=4),
    ShiftType(id="CLINIC", name="Continuity clinic", kind=ShiftKind.CLINIC, start=time(13, 0), hours=4),
    ShiftType(id="ACADEMIC", name="Academic half day", kind=ShiftKind.DIDACTICS, start=time(13, 0), hours=4),
)

# ---------------------------------------------------------------------------------------------
# The profiles as data


@dataclass(frozen=True)
class _Entry:
    """One coverage entry of a service: a shift on some weekdays, staffed by these PGY groups."""

    shift: str
    days: tuple[Weekday, ...]
    groups: tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class _Service:
    id: str
    name: str
    entries: tuple[_Entry, ...]
    supervised: bool = False
    credentials: tuple[str, ...] = ()
    hours: float | None = None


@dataclass(frozen=True)
class _Duty:
    service: str
    shift: str
    days: tuple[Weekday, ...]
    min: int
    max: int
    runs: tuple[int, int] | None = None
    every: int | None = None


@dataclass(frozen=True)
class _Rotation:
    id: str
    name: str
    duties: tuple[_Duty, ...]
    clinic: bool
    vacation: bool
    didactics: bool
    credentials: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Profile:
    label: str
    services: tuple[_Service, ...]
    rotations: tuple[_Rotation, ...]
    # Each class's year as one cyclic sequence of 13 blocks; residents start at different blocks.
    sequences: dict[int, tuple[str, ...]]
    # (pgy, rotation, rotations it must come before in the year)
    before: tuple[tuple[int, str, tuple[str, ...]], ...]
    clinic_service: str = "CLINIC"
    didactics_service: str = "ACAD"


_SENIORS = (2, 3)
_SPLIT = ((1,), _SENIORS)
_ALL = ((1, 2, 3),)


def _inpatient(service_id: str, name: str) -> _Service:
    # A weekday and a weekend entry: ambulatory and elective residents help on weekends.
    return _Service(
        id=service_id,
        name=name,
        entries=(_Entry("DAY", WEEKDAYS, _SPLIT), _Entry("DAY", WEEKEND, _SPLIT)),
        supervised=True,
        credentials=("BLS",),
    )


def _common_services(inpatient: _Service) -> tuple[_Service, ...]:
    return (
        inpatient,
        _Service(
            id="NF", name="Night float", entries=(_Entry("NIGHT", EVERY_DAY, _SPLIT),), credentials=("BLS", "ACLS")
        ),
        # Emergency-department shifts are 12 h, and the ED's own faculty supervise them.
        _Service(id="EM", name="Emergency medicine", entries=(_Entry("DAY", EVERY_DAY, _ALL),), hours=12),
        _Service(
            id="AMB",
            name="Ambulatory medicine",
            entries=(_Entry("AM", WEEKDAYS, _SPLIT), _Entry("PM", CLINIC_DAYS, _SPLIT)),
            supervised=True,
        ),
        _Service(
            id="CLINIC", name="Continuity clinic", entries=(_Entry("CLINIC", CLINIC_DAYS, _SPLIT),), supervised=True
        ),
        # Subspecialty consult services: their own faculty supervise.
        _Service(id="ELEC", name="Elective consult services", entries=(_Entry("DAY", CLINIC_DAYS, _ALL),)),
        _Service(id="ACAD", name="Academic half day", entries=(_Entry("ACADEMIC", (ACADEMIC_DAY,), _ALL),)),
    )


def _inpatient_rotation(rotation_id: str, name: str, service: str, per_block: tuple[int, int]) -> _Rotation:
    return _Rotation(
        id=rotation_id,
        name=name,
        duties=(_Duty(service, "DAY", EVERY_DAY, *per_block),),
        clinic=False,
        vacation=False,
        didactics=False,
    )


def _common_rotations(inpatient: str) -> tuple[_Rotation, ...]:
    weekend_help = _Duty(inpatient, "DAY", WEEKEND, 4, 4)
    return (
        _Rotation(
            id="NF",
            name="Night float",
            # Runs of five nights: each touches six calendar days, the seventh is free. Up to four runs
            # a block, at least 18 nights: a spare night lets a run start where the last block's
            # days off leave room (the one-in-seven rule is checked on every 28-day window).
            duties=(_Duty("NF", "NIGHT", EVERY_DAY, 18, 20, runs=(5, 5)),),
            clinic=False,
            vacation=False,
            didactics=False,
            credentials=("ACLS",),
        ),
        _Rotation(
            id="EM",
            name="Emergency medicine",
            duties=(_Duty("EM", "DAY", EVERY_DAY, 18, 20),),
            clinic=False,
            vacation=False,
            didactics=False,
        ),
        _Rotation(
            id="AMB",
            name="Ambulatory block",
            # Every weekday morning; the afternoons the continuity clinic and the academic half day leave.
            duties=(_Duty("AMB", "AM", WEEKDAYS, 20, 20), _Duty("AMB", "PM", CLINIC_DAYS, 12, 12), weekend_help),
            clinic=True,
            vacation=True,
            didactics=True,
        ),
        _Rotation(
            id="ELEC",
            name="Elective",
            # Day shifts on the weekdays free of clinic and the academic half day.
            duties=(_Duty("ELEC", "DAY", CLINIC_DAYS, 12, 12), weekend_help),
            clinic=True,
            vacation=True,
            didactics=True,
        ),
    )


INTERNAL_MEDICINE = _Profile(
    label="Internal Medicine",
    services=(
        *_common_services(_inpatient("WARDS", "Inpatient wards")),
        _Service(
            id="ICU",
            name="Medical ICU",
            # One group for the ICU team: two interns alone rarely fill a day shift between calls.
            entries=(_Entry("DAY", EVERY_DAY, _ALL), _Entry("CALL24", EVERY_DAY, _ALL)),
            supervised=True,
            credentials=("BLS", "ACLS"),
        ),
    ),
    rotations=(
        _inpatient_rotation("WARDS", "Inpatient wards", "WARDS", (22, 24)),
        _Rotation(
            id="ICU",
            name="Medical ICU",
            # q4 24-hour call (at most 7 a block, the post-call day free) and day shifts between.
            duties=(_Duty("ICU", "CALL24", EVERY_DAY, 6, 7, every=4), _Duty("ICU", "DAY", EVERY_DAY, 8, 10)),
            clinic=False,
            vacation=False,
            didactics=False,
            credentials=("ACLS",),
        ),
        *_common_rotations("WARDS"),
    ),
    sequences={
        1: ("WARDS", "AMB", "ICU", "ELEC", "WARDS", "NF", "AMB", "WARDS", "ELEC", "ICU", "EM", "WARDS", "ELEC"),
        2: ("WARDS", "AMB", "NF", "ELEC", "ICU", "AMB", "WARDS", "EM", "NF", "AMB", "ICU", "WARDS", "ELEC"),
        3: ("WARDS", "ELEC", "AMB", "ICU", "EM", "WARDS", "AMB", "NF", "ELEC", "ICU", "AMB", "WARDS", "ELEC"),
    },
    # Interns do a block of ICU before their first night float.
    before=((1, "ICU", ("NF",)),),
)

FAMILY_MEDICINE = _Profile(
    label="Family Medicine",
    services=(
        *_common_services(_inpatient("FMS", "Family medicine inpatient service")),
        _Service(
            id="OB",
            name="Labor and delivery",
            entries=(_Entry("DAY", EVERY_DAY, _SPLIT),),
            supervised=True,
            credentials=("BLS",),
        ),
        _Service(
            id="PEDS",
            name="Inpatient pediatrics",
            entries=(_Entry("DAY", EVERY_DAY, _ALL),),
            supervised=True,
            credentials=("BLS", "PALS"),
        ),
        _Service(
            id="ICU",
            name="Adult ICU",
            entries=(_Entry("DAY", EVERY_DAY, _ALL),),
            supervised=True,
            credentials=("BLS", "ACLS"),
        ),
    ),
    rotations=(
        _inpatient_rotation("FMS", "Family medicine inpatient", "FMS", (22, 24)),
        _inpatient_rotation("OB", "Obstetrics", "OB", (20, 22)),
        _inpatient_rotation("PEDS", "Inpatient pediatrics", "PEDS", (20, 22)),
        _inpatient_rotation("ICU", "Adult ICU", "ICU", (20, 22)),
        *_common_rotations("FMS"),
    ),
    sequences={
        1: ("FMS", "OB", "AMB", "FMS", "PEDS", "ICU", "FMS", "ELEC", "OB", "NF", "FMS", "PEDS", "EM"),
        2: ("FMS", "AMB", "NF", "ELEC", "OB", "AMB", "ICU", "PEDS", "AMB", "NF", "FMS", "ELEC", "EM"),
        3: ("FMS", "ELEC", "AMB", "OB", "ELEC", "FMS", "AMB", "NF", "ELEC", "PEDS", "AMB", "FMS", "EM"),
    },
    # Interns see the inpatient service before they cover it alone at night.
    before=((1, "FMS", ("NF",)),),
)

_PROFILES = {Profile.INTERNAL_MEDICINE: INTERNAL_MEDICINE, Profile.FAMILY_MEDICINE: FAMILY_MEDICINE}


# ---------------------------------------------------------------------------------------------
# The academic year, holidays


def academic_year(start: date) -> AcademicYear:
    """13 four-week blocks from ``start`` (a July day for a real year)."""
    blocks = tuple(
        BlockDates(
            number=n + 1,
            start=start + timedelta(days=n * BLOCK_LENGTH),
            end=start + timedelta(days=(n + 1) * BLOCK_LENGTH - 1),
        )
        for n in range(BLOCKS)
    )
    return AcademicYear(label=f"{start.year}-{(start.year + 1) % 100:02d}", blocks=blocks)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def us_holidays(first: date, last: date) -> tuple[Holiday, ...]:
    """The US federal holidays from ``first`` to ``last`` (the dates themselves, not the observed days)."""
    found = []
    for year in range(first.year, last.year + 1):
        found += [
            (date(year, 1, 1), "New Year's Day"),
            (_nth_weekday(year, 1, 0, 3), "Martin Luther King Jr. Day"),
            (_nth_weekday(year, 2, 0, 3), "Washington's Birthday"),
            (_last_weekday(year, 5, 0), "Memorial Day"),
            (date(year, 6, 19), "Juneteenth"),
            (date(year, 7, 4), "Independence Day"),
            (_nth_weekday(year, 9, 0, 1), "Labor Day"),
            (_nth_weekday(year, 10, 0, 2), "Columbus Day"),
            (date(year, 11, 11), "Veterans Day"),
            (_nth_weekday(year, 11, 3, 4), "Thanksgiving Day"),
            (date(year, 12, 25), "Christmas Day"),
        ]
    return tuple(Holiday(date=day, name=name) for day, name in sorted(found) if first <= day <= last)


def class_sizes(residents: int) -> tuple[int, int, int]:
    """Interns about 40 %, the rest split between PGY-2 and PGY-3."""
    interns = round(residents * 0.4)
    pgy2 = math.ceil((residents - interns) / 2)
    return interns, pgy2, residents - interns - pgy2


# ---------------------------------------------------------------------------------------------
# The constructive planner


def _group_of(pgy: int) -> str:
    return "intern" if pgy == 1 else "senior"


def plan_year(
    sequences: dict[int, tuple[str, ...]],
    residents: Sequence[Person],
    year: AcademicYear,
    *,
    before: Iterable[tuple[int, str, tuple[str, ...]]] = (),
    flexible: Iterable[str] = (),
) -> tuple[PlanEntry, ...]:
    """Each resident on one rotation per block: their class's cyclic sequence from some block on.

    Residents are taken in order and each starts the sequence at the block that keeps the head
    count of every (interns or seniors, rotation, block) most even so far (then a few rounds of
    moving single residents to their best start), so every rotation's head count varies by as
    little as the class sizes allow. A resident whose year would put a ``before`` rotation's
    successor first has that block exchanged with the first block of a ``flexible`` rotation
    after the required one; failing that, the required rotation's first block with the last
    flexible one before the successor; failing that, the two exchange places (head counts move
    by one; the profiles take their capacities from the result). Deterministic: no randomness.
    """
    blocks = sorted(year.blocks, key=lambda b: b.start)
    length = len(blocks)
    count: Counter[tuple[str, str, int]] = Counter()
    offsets: dict[str, int] = {}

    def year_of(person: Person, offset: int) -> list[str]:
        sequence = sequences[person.pgy or 1]
        return [sequence[(b + offset) % len(sequence)] for b in range(length)]

    def move(person: Person, offset: int, by: int) -> None:
        for b, rotation in enumerate(year_of(person, offset)):
            count[(_group_of(person.pgy or 1), rotation, b)] += by

    def best(person: Person) -> int:
        group = _group_of(person.pgy or 1)
        # Adding one to a count n raises the sum of squares by 2n + 1: the most even placement first.
        return min(
            range(len(sequences[person.pgy or 1])),
            key=lambda o: (sum(2 * count[(group, r, b)] + 1 for b, r in enumerate(year_of(person, o))), o),
        )

    for person in residents:
        offsets[person.id] = best(person)
        move(person, offsets[person.id], 1)
    # A few rounds of moving one resident at a time to their best start, until none moves.
    for _ in range(5):
        moved = False
        for person in residents:
            move(person, offsets[person.id], -1)
            offset = best(person)
            moved |= offset != offsets[person.id]
            offsets[person.id] = offset
            move(person, offset, 1)
        if not moved:
            break
    years = {person.id: year_of(person, offsets[person.id]) for person in residents}
    flexible_ids = set(flexible)
    for pgy, first, successors in before:
        for person in residents:
            if person.pgy != pgy:
                continue
            chosen = years[person.id]
            for successor in successors:
                if first not in chosen:
                    continue
                while successor in chosen and (at := chosen.index(successor)) < (required := chosen.index(first)):
                    later = [b for b in range(required + 1, len(chosen)) if chosen[b] in flexible_ids]
                    earlier = [b for b in range(at) if chosen[b] in flexible_ids]
                    if later:  # the successor moves after the required rotation
                        other = later[0]
                    elif earlier:  # the required rotation moves before the successor
                        at, other = required, earlier[-1]
                    else:  # the two change places
                        other = required
                    chosen[at], chosen[other] = chosen[other], chosen[at]
    return tuple(
        PlanEntry(person_id=person.id, start=blocks[b].start, end=blocks[b].end, rotation_id=rotation)
        for person in residents
        for b, rotation in enumerate(years[person.id])
    )


def plan_problems(program: Program) -> list[str]:
    """The plan against the curriculum (blocks, runs, order) and the capacities, one line each."""
    problems: list[str] = []
    if program.year is None:
        return ["the program has no academic year"]
    blocks = sorted(program.year.blocks, key=lambda b: b.start)
    residents = [p for p in program.people if p.is_resident and p.pgy is not None]
    for person in residents:
        rows = program.plan_by_person.get(person.id, ())
        for block in blocks:
            covering = [r for r in rows if r.start <= block.end and r.end >= block.start]
            days = sum((min(r.end, block.end) - max(r.start, block.start)).days + 1 for r in covering)
            if days != (block.end - block.start).days + 1:
                problems.append(f"{person.id} is not on a rotation every day of block {block.number}")
        sequence = [r.rotation_id for r in rows]
        for requirement in (c for c in program.curriculum if c.pgy == person.pgy):
            weights = [r.days / BLOCK_LENGTH for r in rows if r.rotation_id == requirement.rotation]
            total = round(sum(weights), 2)
            if not requirement.min_blocks <= total <= requirement.max_blocks:
                problems.append(
                    f"{person.id} has {total} blocks of {requirement.rotation}, the curriculum asks"
                    f" {requirement.min_blocks}-{requirement.max_blocks}"
                )
            run = longest = 0
            for rotation_id in sequence:
                run = run + 1 if rotation_id == requirement.rotation else 0
                longest = max(longest, run)
            if requirement.max_consecutive is not None and longest > requirement.max_consecutive:
                problems.append(
                    f"{person.id} has {longest} blocks of {requirement.rotation} in a row (at most"
                    f" {requirement.max_consecutive})"
                )
            if requirement.rotation in sequence:
                first = sequence.index(requirement.rotation)
                for later in requirement.before:
                    if later in sequence and sequence.index(later) < first:
                        problems.append(f"{person.id} is on {later} before {requirement.rotation}")
        for row in rows:
            rotation = program.block_rotations_by_id.get(row.rotation_id)
            if rotation is not None and person.pgy not in rotation.pgy:
                problems.append(f"{person.id} (PGY-{person.pgy}) is on {row.rotation_id}, which is not for them")
    for block in blocks:
        for rotation in program.block_rotations:
            for group in rotation.capacity:
                heads = sum(
                    1
                    for p in residents
                    if p.pgy in group.pgy
                    and (e := program.planned(p.id, block.start)) is not None
                    and e.rotation_id == rotation.id
                )
                if not group.min <= heads <= group.max:
                    problems.append(
                        f"block {block.number}: {heads} PGY-{'/'.join(map(str, group.pgy))} on {rotation.id},"
                        f" capacity {group.min}-{group.max}"
                    )
    return problems


# ---------------------------------------------------------------------------------------------
# What residents can work: one "stream" per plan row and (service, shift)


@dataclass(frozen=True)
class _Stream:
    person: str
    pgy: int
    block: int  # the number of the block holding the row
    days: frozenset[Weekday]
    dates: frozenset[date]  # the row's dates on those weekdays the person is not absent
    expected: int  # the pattern's minimum for the row, prorated
    allowed: int  # the hard maximum for the row, prorated

    def works_on(self, day: date) -> bool:
        return day in self.dates

    @property
    def workable(self) -> int:
        return len(self.dates)

    @property
    def share(self) -> float:
        """The expected duties per workable day: spread evenly, the head count a day expects."""
        return self.expected / len(self.dates) if self.dates else 0.0


_WEEKDAYS_BY_INDEX = tuple(Weekday)


def _weekday(day: date) -> Weekday:
    # Weekday.of builds the member list on every call; this runs for every person-day of a year.
    return _WEEKDAYS_BY_INDEX[day.weekday()]


def _dates(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _streams(program: Program) -> dict[tuple[str, str], list[_Stream]]:
    """Per (service, shift): what each plan row's resident is expected and allowed to work."""
    assert program.year is not None
    streams: dict[tuple[str, str], list[_Stream]] = defaultdict(list)
    absent: dict[str, set[date]] = defaultdict(set)
    for absence in program.absences:
        absent[absence.person_id].update(_dates(absence.start, absence.end))
    blocks = sorted(program.year.blocks, key=lambda b: b.start)
    for entry in program.plan:
        person = program.people_by_id[entry.person_id]
        rotation = program.block_rotations_by_id[entry.rotation_id]
        assert person.pgy is not None
        block = next((b for b in blocks if b.start <= entry.start <= b.end), None)
        if block is None:
            continue
        block_days = (block.end - block.start).days + 1
        present = [d for d in _dates(entry.start, entry.end) if d not in absent[person.id]]
        duties: list[tuple[str | None, str, frozenset[Weekday], int | None, int | None]] = [
            (d.service, d.shift, frozenset(d.days), d.per_block.min, d.per_block.max) for d in rotation.pattern.duties
        ]
        if rotation.clinic and person.clinic is not None:
            duties.append((program.clinic_service, person.clinic.shift, frozenset({person.clinic.day}), None, None))
        if rotation.didactics:
            duties += [(program.didactics_service, s.shift, frozenset({s.day}), None, None) for s in program.didactics]
        protected = _protected_sessions(program, person, rotation)
        for service, shift, days, low, high in duties:
            if service is None:
                continue
            # A pattern duty cannot fall on a protected half day it overlaps (the solver offers none).
            blocked = (
                set()
                if low is None and high is None
                else {day for day, session in protected if _overlaps(program, shift, session)}
            )
            dates = frozenset(d for d in present if _weekday(d) in days and _weekday(d) not in blocked)
            # A weekly session is worked every week the person is present.
            expected = len(dates) if low is None else expected_count(low, len(present), block_days)
            allowed = len(dates) if high is None else allowed_count(high, len(present), block_days)
            streams[(service, shift)].append(
                _Stream(
                    person=person.id,
                    pgy=person.pgy,
                    block=block.number,
                    days=days,
                    dates=dates,
                    expected=expected,
                    allowed=allowed,
                )
            )
    return streams


def _protected_sessions(program: Program, person: Person, rotation: BlockRotation) -> list[tuple[Weekday, str]]:
    """The person's weekly half days the rotation protects: clinic and didactics."""
    sessions: list[tuple[Weekday, str]] = []
    if rotation.clinic and person.clinic is not None:
        sessions.append((person.clinic.day, person.clinic.shift))
    if rotation.didactics:
        sessions += [(session.day, session.shift) for session in program.didactics]
    return sessions


def _overlaps(program: Program, first: str, second: str) -> bool:
    """Whether two shifts on one date overlap on the wall clock (minutes from that midnight)."""

    def span(shift_id: str) -> tuple[float, float]:
        shift = program.shift(shift_id)
        start = shift.start.hour * 60 + shift.start.minute
        return start, start + shift.hours * 60

    (a, b), (c, d) = span(first), span(second)
    return a < d and c < b


def _daily(streams: Iterable[_Stream]) -> tuple[Counter[date], defaultdict[date, float], defaultdict[date, float]]:
    """Per day: the heads who could work it, and the head counts expected and possible with each
    resident's expected and allowed work spread evenly over their workable days."""
    heads: Counter[date] = Counter()
    expected: defaultdict[date, float] = defaultdict(float)
    possible: defaultdict[date, float] = defaultdict(float)
    for stream in streams:
        share = stream.share
        most = min(1.0, stream.allowed / len(stream.dates)) if stream.dates else 0.0
        for day in stream.dates:
            heads[day] += 1
            expected[day] += share
            possible[day] += most
    return heads, expected, possible


# ---------------------------------------------------------------------------------------------
# Hours of a rotation's pattern


def weekly_hours(program: Program, rotation: BlockRotation) -> tuple[float, float]:
    """Hours a week at the pattern's minimum and maximum counts, with the weekly clinic and
    didactics it keeps (a four-week block; both are duties: the ACGME counts education)."""
    weeks = BLOCK_LENGTH / WEEK
    low = high = 0.0
    for duty in rotation.pattern.duties:
        hours = program.hours_for(duty.service, duty.shift)
        low += duty.per_block.min * hours
        high += duty.per_block.max * hours
    sessions = 0.0
    if rotation.clinic:
        clinic_hours = [program.shift(p.clinic.shift).hours for p in program.people if p.clinic is not None]
        sessions += max(clinic_hours, default=0.0)
    if rotation.didactics:
        sessions += sum(program.shift(s.shift).hours for s in program.didactics)
    return low / weeks + sessions, high / weeks + sessions


# ---------------------------------------------------------------------------------------------
# The checker


def rotation_problems(program: Program) -> list[str]:
    """Per rotation: its weekly hours (50-80), its call spacing and the days its duties touch."""
    problems: list[str] = []
    for rotation in program.block_rotations:
        low, high = weekly_hours(program, rotation)
        if low < MIN_WEEKLY_HOURS or high > MAX_WEEKLY_HOURS:
            problems.append(
                f"rotation {rotation.id}: {low:.1f}-{high:.1f} h a week, outside"
                f" {MIN_WEEKLY_HOURS:.0f}-{MAX_WEEKLY_HOURS:.0f}"
            )
        touched = sessions = 0
        for duty in rotation.pattern.duties:
            shift = program.shift(duty.shift)
            if duty.every is not None and duty.per_block.max > math.ceil(BLOCK_LENGTH / duty.every):
                problems.append(
                    f"rotation {rotation.id}: {duty.per_block.max} {duty.shift} a block do not fit one in"
                    f" {duty.every} days"
                )
            if shift.is_call and duty.per_block.max > program.rules.max_calls_per_window:
                problems.append(
                    f"rotation {rotation.id}: {duty.per_block.max} calls a block, at most"
                    f" {program.rules.max_calls_per_window} in 28 days (VI.F.7 / 6.27)"
                )
            if shift.kind is ShiftKind.CALL_24:
                # The post-call day is touched too, and 14 h free after 24 h leave nothing else on it.
                touched += 2 * duty.per_block.min
            elif shift.is_session:
                sessions = max(sessions, duty.per_block.min)
            else:
                touched += duty.per_block.min
        free = BLOCK_LENGTH - rotation.pattern.days_off_per_week * (BLOCK_LENGTH // WEEK)
        if touched + sessions > free:
            problems.append(
                f"rotation {rotation.id}: its expected duties touch {touched + sessions} days, the days off leave {free}"
            )
    return problems


def profile_arithmetic(program: Program) -> list[str]:
    """Whether a v2 program's numbers can be met: one line per problem (empty: consistent).

    Per block, service, shift and PGY group: the coverage minimum against what the planned
    residents on the rotations feeding it (pattern duties, continuity clinic, didactics) can
    supply: each day's heads, each weekday's and the block's totals at the patterns' prorated
    maxima; the coverage maximum against what they are expected to work (nobody sits idle).
    Per supervised service and day: the supervision ratio at the resident minimum against the
    faculty maximum, the faculty minimum against the attending rows. Per service and week: the
    faculty minimum's hours against its attendings. Per rotation: :func:`rotation_problems`.
    """
    if program.year is None:
        return ["the program has no academic year"]
    problems = rotation_problems(program)
    streams = _streams(program)
    days_by_block = {b.number: _dates(b.start, b.end) for b in program.year.blocks}
    for service in program.rotations:
        for shift in service.slots:
            feeding = streams.get((service.id, shift), [])
            groups = list(
                dict.fromkeys(g.pgy for entry in service.coverage if entry.shift == shift for g in entry.residents)
            )
            if not service.coverage:
                groups = [service.residents.pgy]
            for stream in feeding:
                if stream.expected and not any(stream.pgy in g for g in groups):
                    problems.append(
                        f"{stream.person} (PGY-{stream.pgy}) is expected to work {service.id}/{shift},"
                        f" which takes no PGY-{stream.pgy}"
                    )
            by_block: dict[int, list[_Stream]] = defaultdict(list)
            for stream in feeding:
                by_block[stream.block].append(stream)
            for number, days in days_by_block.items():
                for pgy in groups:
                    members = [s for s in by_block[number] if s.pgy in pgy]
                    problems += _group_problems(service, shift, pgy, number, days, members)
    problems += _faculty_problems(program)
    return problems


def _group_problems(
    service: Rotation, shift: str, pgy: tuple[int, ...], number: int, days: list[date], streams: list[_Stream]
) -> list[str]:
    problems: list[str] = []
    where = f"block {number} {service.id}/{shift} PGY-{'/'.join(map(str, pgy))}"
    low: dict[date, int] = {}
    high: dict[date, int] = {}
    for day in days:
        entry = service.coverage_on(day, shift)
        group = None if entry is None else next((g for g in entry.residents if g.pgy == pgy), None)
        low[day], high[day] = (0, 0) if group is None else (group.min, group.max)
    heads = _daily(streams)[0]
    forced = _daily(s for s in streams if s.expected >= s.workable)[0]
    for day in days:
        if low[day] > heads[day]:
            problems.append(f"{where} {day}: minimum {low[day]}, only {heads[day]} residents can work it")
            break
    for day in days:
        if forced[day] > high[day]:
            problems.append(
                f"{where} {day}: {forced[day]} residents must work it every day they can, maximum {high[day]}"
            )
            break
    demand, supply = sum(low.values()), sum(s.allowed for s in streams)
    if demand > supply:
        problems.append(f"{where}: the minimum needs {demand} duties, the planned residents can work {supply}")
    for weekday in Weekday:
        on_weekday = {d for d in days if _weekday(d) is weekday}
        wanted = sum(low[d] for d in on_weekday)
        offered = sum(min(s.allowed, len(s.dates & on_weekday)) for s in streams)
        if wanted > offered:
            problems.append(f"{where} {weekday.value}: the minimum needs {wanted}, the residents can work {offered}")
    for day_set in {s.days for s in streams}:
        expected = sum(s.expected for s in streams if s.days <= day_set)
        room = sum(high[d] for d in days if _weekday(d) in day_set)
        if expected > room:
            problems.append(
                f"{where} on {','.join(sorted(d.value for d in day_set))}: the residents are expected to work"
                f" {expected}, the maximum leaves room for {room}"
            )
    return problems


def _faculty_problems(program: Program) -> list[str]:
    assert program.year is not None
    problems: list[str] = []
    attending: Counter[tuple[str, date]] = Counter()
    for row in program.attending:
        for day in _dates(row.start, row.end):
            attending[(row.service_id, day)] += 1
    first = min(b.start for b in program.year.blocks)
    days = _dates(first, max(b.end for b in program.year.blocks))
    demand: defaultdict[tuple[str, int], float] = defaultdict(float)
    for service in program.rotations:
        reported = False
        for day in days:
            # Faculty on shifts that overlap add up; the half-day sessions follow one another.
            at_once = sessions = 0
            for shift in service.slots:
                entry = service.coverage_on(day, shift)
                if entry is None:
                    continue
                demand[(service.id, (day - first).days // WEEK)] += entry.faculty.min * program.hours_for(
                    service.id, shift
                )
                if program.shift(shift).is_session:
                    sessions = max(sessions, entry.faculty.min)
                else:
                    at_once += entry.faculty.min
                need = (
                    _faculty_for(program.rules, [(g.pgy, g.min) for g in entry.residents]) if service.supervised else 0
                )
                if need > entry.faculty.max and not reported:
                    problems.append(
                        f"{service.id}/{shift} {day}: the minimum residents need {need} faculty, at most"
                        f" {entry.faculty.max} may work it"
                    )
                    reported = True
            if program.attending and at_once + sessions > attending[(service.id, day)] and not reported:
                problems.append(
                    f"{service.id} {day}: {at_once + sessions} faculty needed at once,"
                    f" {attending[(service.id, day)]} attend"
                )
                reported = True
    if program.attending:
        heads: Counter[tuple[str, int]] = Counter()
        for row in program.attending:
            heads[(row.service_id, (row.start - first).days // WEEK)] += 1
        for (service_id, week), hours in sorted(demand.items()):
            capacity = heads[(service_id, week)] * program.rules.faculty_max_hours_per_week
            if hours > capacity:
                problems.append(
                    f"{service_id} week {week + 1}: the faculty minimum needs {hours:.0f} h, its attendings may"
                    f" work {capacity:.0f}"
                )
    return problems


# ---------------------------------------------------------------------------------------------
# Building a profile


def _check_arguments(profile: Profile, residents: int) -> None:
    if profile is not Profile.MINIMAL and not MIN_PROFILE_RESIDENTS <= residents <= MAX_PROFILE_RESIDENTS:
        raise InputError(
            "program synth",
            [Problem("--residents", f"must be {MIN_PROFILE_RESIDENTS}-{MAX_PROFILE_RESIDENTS}, got {residents}")],
        )


def default_year_start(today: date) -> date:
    """July 1 of the academic year holding ``today``."""
    return date(today.year if today.month >= 7 else today.year - 1, 7, 1)


DEFAULT_YEAR_START = date(2026, 7, 1)


def synthesize_profile(
    profile: Profile | str, residents: int = DEFAULT_PROFILE_RESIDENTS, seed: int = 1, *, start: date | None = None
) -> Program:
    """A whole synthetic program of ``profile``; the same arguments give the same program.

    ``start`` is the first day of the academic year (default July 1, 2026). ``minimal`` is the
    v1 generator's one block from ``start``, as a program (its CLI keeps writing a v1 document).
    """
    profile = Profile(profile)
    _check_arguments(profile, residents)
    first_day = start or DEFAULT_YEAR_START
    if profile is Profile.MINIMAL:
        faculty = max(8, minimum_faculty(residents))
        return synthesize(residents=residents, faculty=faculty, seed=seed, start=first_day).to_program()
    spec = _PROFILES[profile]
    rng = random.Random(seed)
    year = academic_year(first_day)
    last_day = year.blocks[-1].end
    flexible = [r.id for r in spec.rotations if r.vacation]
    unplaced = _residents(spec, residents, last_day)
    plan = plan_year(spec.sequences, unplaced, year, before=spec.before, flexible=flexible)
    people = _with_clinic_days(unplaced, plan, {r.id for r in spec.rotations if r.clinic}, rng)
    block_rotations = _block_rotations(spec, people, plan)
    requests, absences = _vacations(people, plan, block_rotations, rng)
    requests += _day_off_requests(people, year, rng)
    rules = RuleParams()
    base = Program(
        name=f"Synthetic {spec.label} (seed {seed})",
        timezone="America/New_York",
        block_anchor=first_day,
        rules=rules,
        people=tuple(people),
        rotations=tuple(_service(s, None, rules) for s in spec.services),
        absences=absences,
        staff=SYNTHETIC_STAFF,
        shift_types=SHIFT_TYPES,
        block_rotations=block_rotations,
        plan=plan,
        year=year,
        curriculum=_curriculum(spec),
        requests=tuple(requests),
        holidays=us_holidays(first_day, last_day),
        clinic_service=spec.clinic_service,
        didactics=(WeeklySession(day=ACADEMIC_DAY, shift="ACADEMIC"),),
        didactics_service=spec.didactics_service,
    )
    staffing = _derived_staffing(base, spec)
    with_coverage = base.model_copy(update={"rotations": tuple(_service(s, staffing, rules) for s in spec.services)})
    faculty_people, attending = _faculty(with_coverage, residents, rng)
    # Built once more from its fields, so every cross-part check of Program runs on the whole.
    fields = {name: getattr(with_coverage, name) for name in Program.model_fields}
    return Program(**{**fields, "people": (*people, *faculty_people), "attending": attending})


def _residents(spec: _Profile, total: int, last_day: date) -> list[Person]:
    people: list[Person] = []
    expires = date(last_day.year + 1, 6, 30)
    names = ["BLS", "ACLS"] + (["PALS"] if any("PALS" in s.credentials for s in spec.services) else [])
    for pgy, size in zip((1, 2, 3), class_sizes(total), strict=True):
        for number in range(1, size + 1):
            people.append(
                Person(
                    id=f"R{pgy}-{number:02d}",
                    name=f"Resident {pgy}-{number:02d}",
                    role=Role.RESIDENT,
                    pgy=pgy,
                    credentials=tuple(Credential(name=name, expires=expires) for name in names),
                    email=f"r{pgy}-{number:02d}@residency.example",
                )
            )
    return people


def _with_clinic_days(
    people: list[Person], plan: tuple[PlanEntry, ...], clinic_rotations: set[str], rng: random.Random
) -> list[Person]:
    """Each resident's continuity-clinic afternoon: the weekday that keeps each block's clinic
    sessions most even, interns and seniors apart (they are separate coverage groups)."""
    blocks_on_clinic: dict[str, list[date]] = defaultdict(list)
    for entry in plan:
        if entry.rotation_id in clinic_rotations:
            blocks_on_clinic[entry.person_id].append(entry.start)
    load: Counter[tuple[str, date, Weekday]] = Counter()
    order = list(CLINIC_DAYS)
    placed = []
    for person in people:
        group = _group_of(person.pgy or 1)
        rng.shuffle(order)
        day = min(order, key=lambda d: sum(2 * load[(group, b, d)] + 1 for b in blocks_on_clinic[person.id]))
        for block in blocks_on_clinic[person.id]:
            load[(group, block, day)] += 1
        placed.append(person.model_copy(update={"clinic": ClinicSession(day=day, shift="CLINIC")}))
    return placed


def _block_rotations(spec: _Profile, people: list[Person], plan: tuple[PlanEntry, ...]) -> tuple[BlockRotation, ...]:
    pgy_of = {p.id: p.pgy for p in people}
    heads: Counter[tuple[str, str, date]] = Counter()
    for entry in plan:
        heads[(entry.rotation_id, _group_of(pgy_of[entry.person_id] or 1), entry.start)] += 1
    starts = sorted({e.start for e in plan})
    rotations = []
    for rotation in spec.rotations:
        levels = tuple(sorted(pgy for pgy, seq in spec.sequences.items() if rotation.id in seq))
        capacity = []
        for group, candidates in (("intern", (1,)), ("senior", _SENIORS)):
            members = tuple(level for level in candidates if level in levels)
            if not members:
                continue
            counts = [heads[(rotation.id, group, s)] for s in starts]
            capacity.append(Capacity(pgy=members, min=min(counts), max=max(counts) + 1))
        rotations.append(
            BlockRotation(
                id=rotation.id,
                name=rotation.name,
                pgy=levels,
                credentials=rotation.credentials,
                capacity=tuple(capacity),
                clinic=rotation.clinic,
                vacation=rotation.vacation,
                didactics=rotation.didactics,
                pattern=DutyPattern(
                    duties=tuple(
                        PatternDuty(
                            service=d.service,
                            shift=d.shift,
                            days=d.days,
                            per_block=Count(min=d.min, max=d.max),
                            runs=None if d.runs is None else Count(min=d.runs[0], max=d.runs[1]),
                            every=d.every,
                        )
                        for d in rotation.duties
                    ),
                    days_off_per_week=1,
                ),
            )
        )
    return tuple(rotations)


def _curriculum(spec: _Profile) -> tuple[CurriculumRequirement, ...]:
    requirements = []
    before = {(pgy, rotation): later for pgy, rotation, later in spec.before}
    for pgy, sequence in sorted(spec.sequences.items()):
        for rotation_id, blocks in sorted(Counter(sequence).items()):
            flexible = next(r for r in spec.rotations if r.id == rotation_id).vacation
            requirements.append(
                CurriculumRequirement(
                    pgy=pgy,
                    rotation=rotation_id,
                    min_blocks=blocks - 1 if flexible and blocks > 1 else blocks,
                    max_blocks=blocks + 1 if flexible else blocks,
                    max_consecutive=2,
                    before=before.get((pgy, rotation_id), ()),
                )
            )
    return tuple(requirements)


def _vacations(
    people: list[Person],
    plan: tuple[PlanEntry, ...],
    rotations: tuple[BlockRotation, ...],
    rng: random.Random,
) -> tuple[list[ProgramRequest], tuple[Absence, ...]]:
    """Two two-week vacation requests per resident on rotations that allow vacation; approved
    unless a third of the rotation's interns or seniors would already be away (at least one may go)."""
    allows = {r.id for r in rotations if r.vacation}
    by_person: dict[str, list[PlanEntry]] = defaultdict(list)
    on_block: Counter[tuple[str, str, date]] = Counter()
    pgy_of = {p.id: p.pgy or 1 for p in people}
    for entry in plan:
        by_person[entry.person_id].append(entry)
        on_block[(entry.rotation_id, _group_of(pgy_of[entry.person_id]), entry.start)] += 1
    requests: list[ProgramRequest] = []
    wishes: list[tuple[Person, PlanEntry, date, int]] = []
    for person in people:
        eligible = [e for e in by_person[person.id] if e.rotation_id in allows]
        for priority, entry in enumerate(sorted(rng.sample(eligible, min(2, len(eligible))), key=lambda e: e.start), 1):
            first = entry.start + timedelta(days=rng.choice((0, VACATION_DAYS)))
            wishes.append((person, entry, first, priority))
            requests.append(
                ProgramRequest(
                    person_id=person.id,
                    kind=RequestKind.VACATION,
                    start=first,
                    end=first + timedelta(days=VACATION_DAYS - 1),
                    priority=priority,
                )
            )
    away: Counter[tuple[str, str, date]] = Counter()
    absences = []
    order = list(range(len(wishes)))
    rng.shuffle(order)
    for index in sorted(order, key=lambda i: (wishes[i][3], order.index(i))):
        person, entry, first, _ = wishes[index]
        key = (entry.rotation_id, _group_of(pgy_of[person.id]), first)
        limit = max(1, on_block[(entry.rotation_id, key[1], entry.start)] // 3)
        if away[key] >= limit:
            continue
        away[key] += 1
        absences.append(
            Absence(person_id=person.id, start=first, end=first + timedelta(days=VACATION_DAYS - 1), kind="vacation")
        )
    return requests, tuple(sorted(absences, key=lambda a: (a.person_id, a.start)))


def _day_off_requests(people: list[Person], year: AcademicYear, rng: random.Random) -> list[ProgramRequest]:
    first = year.blocks[0].start
    span = (year.blocks[-1].end - first).days
    requests = []
    for person in people:
        for day in sorted(rng.sample(range(span + 1), DAY_OFF_REQUESTS)):
            when = first + timedelta(days=day)
            requests.append(
                ProgramRequest(
                    person_id=person.id, kind=RequestKind.DAY_OFF, start=when, end=when, weight=rng.randint(1, 5)
                )
            )
    return requests


_Staffing = dict[tuple[str, str, tuple[Weekday, ...], tuple[int, ...]], tuple[int, int]]


def _derived_staffing(program: Program, spec: _Profile) -> _Staffing:
    """Each coverage entry's resident minimum and maximum per group, from the plan: the minimum is
    the head count expected on the thinnest day of the year, at most 90 % of the head count
    possible there, rounded down; the maximum everyone who could work the fullest day."""
    assert program.year is not None
    streams = _streams(program)
    all_days = _dates(program.year.blocks[0].start, program.year.blocks[-1].end)
    staffing: _Staffing = {}
    for service in spec.services:
        for entry in service.entries:
            days = [d for d in all_days if _weekday(d) in entry.days]
            for pgy in entry.groups:
                heads, expected, possible = _daily(
                    s for s in streams.get((service.id, entry.shift), []) if s.pgy in pgy
                )
                thinnest = min((min(expected[d], COVERAGE_MARGIN * possible[d]) for d in days), default=0)
                # The academic half day is attendance, not staffing: it asks no minimum.
                low = 0 if service.id == spec.didactics_service else math.floor(thinnest + 1e-9)
                high = max(max((heads[d] for d in days), default=0), low)
                staffing[(service.id, entry.shift, entry.days, pgy)] = (low, min(high, MAX_STAFF_PER_SLOT))
    return staffing


def _service(spec: _Service, staffing: _Staffing | None, rules: RuleParams) -> Rotation:
    entries = []
    for entry in spec.entries:
        groups = []
        for pgy in entry.groups:
            key = (spec.id, entry.shift, entry.days, pgy)
            low, high = (0, MAX_STAFF_PER_SLOT) if staffing is None else staffing[key]
            groups.append(ResidentStaffing(pgy=pgy, min=low, max=high))
        faculty = Staffing()
        if spec.supervised:
            # The supervision ratio at the resident minimum, and at the maximum.
            need_low = _faculty_for(rules, [(g.pgy, g.min) for g in groups])
            need_high = _faculty_for(rules, [(g.pgy, g.max) for g in groups])
            faculty = Staffing(min=need_low, max=min(max(need_high, need_low, 1), MAX_STAFF_PER_SLOT))
        entries.append(Coverage(shift=entry.shift, days=entry.days, residents=tuple(groups), faculty=faculty))
    return Rotation(
        id=spec.id,
        name=spec.name,
        coverage=tuple(entries),
        supervised=spec.supervised,
        credentials=spec.credentials,
        hours=spec.hours,
    )


def _faculty_for(rules: RuleParams, groups: Iterable[tuple[tuple[int, ...], int]]) -> int:
    """Faculty for these resident counts by group by the supervision ratio; a group holding PGY-1
    counts as interns (the worst case)."""
    groups = list(groups)
    pgy1 = sum(n for pgy, n in groups if 1 in pgy)
    seniors = sum(n for pgy, n in groups if 1 not in pgy)
    return rules.faculty_needed(pgy1_residents=pgy1, senior_residents=seniors)


def _faculty(
    program: Program, residents: int, rng: random.Random
) -> tuple[tuple[Person, ...], tuple[AttendingAssignment, ...]]:
    """About one faculty member per three residents (more when the services need them), and an
    attending rota by week: each supervised service gets the faculty its expected residents need
    at once, and enough for the week's supervised hours at 60 h each."""
    assert program.year is not None
    streams = _streams(program)
    first, last = program.year.blocks[0].start, program.year.blocks[-1].end
    weeks = (last - first).days // WEEK + 1
    wanted: Counter[tuple[str, int]] = Counter()
    hours: defaultdict[tuple[str, int], float] = defaultdict(float)
    for service in program.rotations:
        if not service.supervised:
            continue
        expected = {}
        for shift in service.slots:
            for pgy in {g.pgy for e in service.coverage if e.shift == shift for g in e.residents}:
                expected[(shift, pgy)] = _daily(s for s in streams.get((service.id, shift), []) if s.pgy in pgy)[1]
        for day in _dates(first, last):
            week = (day - first).days // WEEK
            at_once = sessions = 0
            for shift in service.slots:
                entry = service.coverage_on(day, shift)
                if entry is None:
                    continue
                counts = [(g.pgy, max(g.min, math.ceil(expected[(shift, g.pgy)][day] - 1e-9))) for g in entry.residents]
                need = min(max(entry.faculty.min, _faculty_for(program.rules, counts)), entry.faculty.max)
                hours[(service.id, week)] += need * program.hours_for(service.id, shift)
                if program.shift(shift).is_session:
                    sessions = max(sessions, need)
                else:
                    at_once += need
            wanted[(service.id, week)] = max(wanted[(service.id, week)], at_once + sessions)
    for key, total in hours.items():
        wanted[key] = max(wanted[key], math.ceil(total / FACULTY_PLANNED_HOURS_PER_WEEK))
    per_week = [sum(n for (_, w), n in wanted.items() if w == week) for week in range(weeks)]
    count = max(math.ceil(residents / 3), *per_week)
    expires = date(last.year + 3, 6, 30)
    faculty = tuple(
        Person(
            id=f"F-{number:02d}",
            name=f"Faculty {number:02d}",
            role=Role.FACULTY,
            credentials=tuple(Credential(name=c, expires=expires) for c in ("ACLS", "BLS", "PALS")),
            email=f"f-{number:02d}@residency.example",
        )
        for number in range(1, count + 1)
    )
    rows = []
    start_at = rng.randrange(count)
    for week in range(weeks):
        start = first + timedelta(days=week * WEEK)
        end = min(start + timedelta(days=WEEK - 1), last)
        # Faculty move on through the services week by week; the others have a week without attending.
        index = (start_at + week * 3) % count
        for service in program.rotations:
            for _ in range(wanted[(service.id, week)]):
                rows.append(
                    AttendingAssignment(person_id=faculty[index].id, service_id=service.id, start=start, end=end)
                )
                index = (index + 1) % count
    return faculty, tuple(rows)


def profile_figures(program: Program) -> dict:
    """What a profile holds, for a report: classes, rotations with their weekly hours, services."""
    classes = Counter(p.pgy for p in program.people if p.is_resident)
    return {
        "residents": {f"PGY-{k}": classes[k] for k in sorted(k for k in classes if k is not None)},
        "faculty": sum(1 for p in program.people if not p.is_resident),
        "rotations": {
            r.id: {
                "hours_per_week": [round(h, 1) for h in weekly_hours(program, r)],
                "capacity": {"/".join(map(str, c.pgy)): [c.min, c.max] for c in r.capacity},
            }
            for r in program.block_rotations
        },
        "services": {
            s.id: [
                {
                    "shift": e.shift,
                    "days": [d.value for d in e.days],
                    "residents": {"/".join(map(str, g.pgy)): [g.min, g.max] for g in e.residents},
                    "faculty": [e.faculty.min, e.faculty.max],
                }
                for e in s.coverage
            ]
            for s in program.rotations
        },
        "plan_rows": len(program.plan),
        "requests": Counter(r.kind.value for r in program.requests),
        "absences": len(program.absences),
        "attending_rows": len(program.attending),
        "holidays": len(program.holidays),
    }


__all__ = [
    "SHIFT_TYPES",
    "Profile",
    "academic_year",
    "class_sizes",
    "default_year_start",
    "rotation_problems",
    "plan_problems",
    "plan_year",
    "profile_arithmetic",
    "profile_figures",
    "synthesize_profile",
    "us_holidays",
    "weekly_hours",
]
