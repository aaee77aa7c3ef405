"""Tiny v2 programs built directly from domain types: shift types, services with coverage by
PGY group, block rotations with duty patterns, a three-block year, plan rows, clinic, didactics.

Valid by default; every part can be replaced by keyword.

Shift types (America/New_York):
    DAY 07:00 11 h (day), NIGHT 19:00 12 h (night), CALL24 07:00 24 h + 4 h (call_24),
    AM 08:00 5 h and PM 13:00 4 h (half days), CLINIC_PM 13:00 4 h (clinic),
    ACADEMIC 13:00 4 h (didactics, Wednesdays).
Services: WARDS (DAY daily: PGY-1 1..2, PGY-2/3 1..1, faculty 1..2, supervised), ICU (CALL24 and
    DAY daily), NF (NIGHT daily), AMB (AM weekdays), CLINIC (CLINIC_PM weekdays), ACAD (ACADEMIC
    Wednesdays).
Rotations: WARDS (WARDS/DAY, 20 a block; no clinic; didactics), ICU (ICU/CALL24 every 4th day,
    ICU/DAY; no clinic, no didactics), NF (NF/NIGHT; no clinic, no didactics), AMB (AMB/AM
    weekdays; clinic; didactics).
Year: three 28-day blocks from Wednesday 2026-07-01.
"""

from __future__ import annotations

from datetime import date, time, timedelta

from rotaguard.domain import (
    AcademicYear,
    Assignment,
    BlockDates,
    BlockRotation,
    Capacity,
    ClinicSession,
    Count,
    Coverage,
    Credential,
    DutyPattern,
    PatternDuty,
    Person,
    PlanEntry,
    Program,
    ResidentStaffing,
    Role,
    Rotation,
    ShiftKind,
    ShiftType,
    Staffing,
    WeeklySession,
)

YEAR_START = date(2026, 7, 1)  # a Wednesday
BLOCKS = tuple((YEAR_START + timedelta(days=28 * i), YEAR_START + timedelta(days=28 * i + 27)) for i in range(3))
YEAR_END = BLOCKS[-1][1]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def day(offset: int) -> date:
    """The day ``offset`` days into the year (0 is Wednesday 2026-07-01)."""
    return YEAR_START + timedelta(days=offset)


def shift_types() -> tuple[ShiftType, ...]:
    return (
        ShiftType(id="DAY", name="Day shift", kind=ShiftKind.DAY, start=time(7), hours=11),
        ShiftType(id="NIGHT", name="Night shift", kind=ShiftKind.NIGHT, start=time(19), hours=12),
        ShiftType(
            id="CALL24", name="24-hour call", kind=ShiftKind.CALL_24, start=time(7), hours=24, transition_hours=4
        ),
        ShiftType(id="AM", name="Morning session", kind=ShiftKind.HALF_DAY, start=time(8), hours=5),
        ShiftType(id="PM", name="Afternoon session", kind=ShiftKind.HALF_DAY, start=time(13), hours=4),
        ShiftType(id="CLINIC_PM", name="Continuity clinic", kind=ShiftKind.CLINIC, start=time(13), hours=4),
        ShiftType(id="ACADEMIC", name="Academic half day", kind=ShiftKind.DIDACTICS, start=time(13), hours=4),
    )


def group(pgy: tuple[int, ...], minimum: int, maximum: int) -> ResidentStaffing:
    return ResidentStaffing(pgy=pgy, min=minimum, max=maximum)


def service(id: str, *coverage: Coverage, **overrides) -> Rotation:
    return Rotation(**{"id": id, "name": f"Service {id}", "coverage": coverage, **overrides})


def services() -> tuple[Rotation, ...]:
    anyone = (group((1, 2, 3), 0, 1),)
    return (
        service(
            "WARDS",
            Coverage(
                shift="DAY",
                residents=(group((1,), 1, 2), group((2, 3), 1, 1)),
                faculty=Staffing(min=1, max=2),
            ),
            supervised=True,
        ),
        service("ICU", Coverage(shift="CALL24", residents=anyone), Coverage(shift="DAY", residents=anyone)),
        service("NF", Coverage(shift="NIGHT", residents=anyone)),
        service("AMB", Coverage(shift="AM", days=WEEKDAYS, residents=(group((1, 2, 3), 0, 10),))),
        service("CLINIC", Coverage(shift="CLINIC_PM", days=WEEKDAYS, residents=(group((1, 2, 3), 0, 10),))),
        service("ACAD", Coverage(shift="ACADEMIC", days=("wed",), residents=(group((1, 2, 3), 0, 30),))),
    )


def duty_of(service_id: str, shift: str, minimum: int = 0, maximum: int = 28, **overrides) -> PatternDuty:
    return PatternDuty(service=service_id, shift=shift, per_block=Count(min=minimum, max=maximum), **overrides)


def block_rotations() -> tuple[BlockRotation, ...]:
    return (
        BlockRotation(
            id="WARDS",
            name="Wards",
            capacity=(Capacity(pgy=(1,), min=1, max=2),),
            clinic=False,
            pattern=DutyPattern(duties=(duty_of("WARDS", "DAY", 20, 24),)),
        ),
        BlockRotation(
            id="ICU",
            name="ICU",
            clinic=False,
            didactics=False,
            pattern=DutyPattern(duties=(duty_of("ICU", "CALL24", 7, 7, every=4), duty_of("ICU", "DAY", 10, 10))),
        ),
        BlockRotation(
            id="NF",
            name="Night float",
            clinic=False,
            didactics=False,
            pattern=DutyPattern(duties=(duty_of("NF", "NIGHT", 20, 20),)),
        ),
        BlockRotation(
            id="AMB",
            name="Ambulatory",
            pattern=DutyPattern(duties=(duty_of("AMB", "AM", 10, 20, days=WEEKDAYS),)),
        ),
    )


def resident(id: str = "R1-01", pgy: int = 1, clinic: ClinicSession | None = None, **overrides) -> Person:
    values = {
        "id": id,
        "name": f"Resident {id}",
        "role": Role.RESIDENT,
        "pgy": pgy,
        "credentials": (Credential(name="BLS"),),
        "clinic": clinic if clinic is not None else ClinicSession(day="tue", shift="CLINIC_PM"),
    }
    return Person(**{**values, **overrides})


def faculty(id: str = "F-01") -> Person:
    return Person(id=id, name=f"Faculty {id}", role=Role.FACULTY, credentials=(Credential(name="BLS"),))


def row(person_id: str, rotation_id: str, start: date, end: date, **overrides) -> PlanEntry:
    return PlanEntry(person_id=person_id, rotation_id=rotation_id, start=start, end=end, **overrides)


def block_row(person_id: str, rotation_id: str, block: int = 0) -> PlanEntry:
    """A whole-block row (block 0, 1 or 2 of the test year)."""
    first, last = BLOCKS[block]
    return row(person_id, rotation_id, first, last)


def half_row(person_id: str, rotation_id: str, block: int = 0, half: int = 0) -> PlanEntry:
    first, _ = BLOCKS[block]
    start = first + timedelta(days=14 * half)
    return row(person_id, rotation_id, start, start + timedelta(days=13))


def duty(person_id: str, when: date, shift: str, service_id: str) -> Assignment:
    return Assignment(person_id=person_id, date=when, slot=shift, rotation_id=service_id)


def year() -> AcademicYear:
    return AcademicYear(
        label="2026-27 test",
        blocks=tuple(BlockDates(number=i + 1, start=first, end=last) for i, (first, last) in enumerate(BLOCKS)),
    )


def plan_program(**overrides) -> Program:
    """R1-01 (PGY-1) and R2-01 (PGY-2), both with clinic Tuesday PM, and F-01; R1-01 on WARDS for
    the whole year unless ``plan`` says otherwise, R2-01 on ICU."""
    values = {
        "name": "Synthetic v2 Program",
        "block_anchor": YEAR_START,
        "shift_types": shift_types(),
        "rotations": services(),
        "block_rotations": block_rotations(),
        "people": (resident(), resident("R2-01", pgy=2), faculty()),
        "plan": tuple(block_row("R1-01", "WARDS", b) for b in range(3))
        + tuple(block_row("R2-01", "ICU", b) for b in range(3)),
        "year": year(),
        "clinic_service": "CLINIC",
        "didactics": (WeeklySession(day="wed", shift="ACADEMIC"),),
        "didactics_service": "ACAD",
    }
    return Program(**{**values, **overrides})
