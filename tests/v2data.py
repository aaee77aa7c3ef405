"""A small v2 program (docs/model.md) using every part the database stores."""

from __future__ import annotations

from datetime import date, time

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
    ShiftKind,
    ShiftType,
    Staffing,
    Weekday,
    WeeklySession,
)

BLOCK1 = (date(2026, 7, 1), date(2026, 7, 28))
BLOCK2 = (date(2026, 7, 29), date(2026, 8, 25))
WEEKDAYS = (Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI)


def shift_types() -> tuple[ShiftType, ...]:
    # Not in id order: the program's own order must come back.
    return (
        ShiftType(id="DAY", name="Day", kind=ShiftKind.DAY, start=time(7), hours=11),
        ShiftType(id="NIGHT", name="Night", kind=ShiftKind.NIGHT, start=time(19), hours=12),
        ShiftType(
            id="CALL24", name="24-hour call", kind=ShiftKind.CALL_24, start=time(7), hours=24, transition_hours=4
        ),
        ShiftType(id="CLINIC_PM", name="Clinic", kind=ShiftKind.CLINIC, start=time(13), hours=4.5),
        ShiftType(id="ACADEMIC", name="Academic half day", kind=ShiftKind.DIDACTICS, start=time(13), hours=4),
    )


def services() -> tuple[Rotation, ...]:
    return (
        Rotation(
            id="AMB",
            name="Ambulatory clinic",
            coverage=(Coverage(shift="CLINIC_PM", days=WEEKDAYS, residents=(ResidentStaffing(min=0, max=6),)),),
        ),
        Rotation(
            id="EDU",
            name="Didactics",
            coverage=(Coverage(shift="ACADEMIC", days=(Weekday.WED,), residents=(ResidentStaffing(min=0, max=20),)),),
        ),
        Rotation(
            id="NF",
            name="Night float",
            coverage=(Coverage(shift="NIGHT", residents=(ResidentStaffing(min=1, max=2, pgy=(1, 2, 3)),)),),
        ),
        Rotation(
            id="WARDS",
            name="Inpatient wards",
            supervised=True,
            credentials=("BLS",),
            coverage=(
                Coverage(
                    shift="DAY",
                    residents=(ResidentStaffing(min=1, max=2, pgy=(1,)), ResidentStaffing(min=0, max=2, pgy=(2, 3))),
                    faculty=Staffing(min=1, max=2),
                ),
                Coverage(shift="CALL24", days=(Weekday.SAT, Weekday.SUN), residents=(ResidentStaffing(min=0, max=1),)),
            ),
        ),
    )


def block_rotations() -> tuple[BlockRotation, ...]:
    return (
        BlockRotation(
            id="WARDS",
            name="Wards",
            pgy=(1, 2, 3),
            credentials=("BLS",),
            capacity=(Capacity(pgy=(1,), min=1, max=2), Capacity(pgy=(2, 3), min=0, max=2)),
            clinic=False,
            vacation=False,
            pattern=DutyPattern(
                duties=(
                    PatternDuty(service="WARDS", shift="DAY", per_block=Count(min=16, max=20)),
                    PatternDuty(service="WARDS", shift="CALL24", per_block=Count(min=0, max=4), every=4),
                ),
                days_off_per_week=1,
            ),
        ),
        BlockRotation(
            id="NF",
            name="Night float",
            clinic=False,
            vacation=False,
            didactics=False,
            pattern=DutyPattern(
                duties=(
                    PatternDuty(service="NF", shift="NIGHT", per_block=Count(min=20, max=20), runs=Count(min=5, max=5)),
                )
            ),
        ),
    )


def people() -> tuple[Person, ...]:
    return (
        Person(id="F-01", name="Faculty One", role=Role.FACULTY, credentials=(Credential(name="BLS"),)),
        Person(
            id="R1-01",
            name="Resident One",
            role=Role.RESIDENT,
            pgy=1,
            credentials=(Credential(name="BLS", expires=date(2027, 6, 30)),),
            clinic=ClinicSession(day=Weekday.TUE, shift="CLINIC_PM"),
        ),
        Person(id="R2-01", name="Resident Two", role=Role.RESIDENT, pgy=2, credentials=(Credential(name="BLS"),)),
    )


def plan() -> tuple[PlanEntry, ...]:
    # By person, then start: the order the database gives the plan back in.
    return (
        PlanEntry(person_id="R1-01", start=BLOCK1[0], end=BLOCK1[1], rotation_id="WARDS", locked=True),
        PlanEntry(person_id="R1-01", start=BLOCK2[0], end=BLOCK2[1], rotation_id="NF"),
        PlanEntry(person_id="R2-01", start=BLOCK1[0], end=date(2026, 7, 14), rotation_id="NF"),
        PlanEntry(person_id="R2-01", start=date(2026, 7, 15), end=BLOCK1[1], rotation_id="WARDS"),
    )


def v2_program(**overrides) -> Program:
    values: dict = {
        "name": "Synthetic v2 Program",
        "timezone": "America/Chicago",
        "block_anchor": BLOCK1[0],
        "people": people(),
        "rotations": services(),
        "shift_types": shift_types(),
        "block_rotations": block_rotations(),
        "plan": plan(),
        "year": AcademicYear(
            label="2026-27",
            blocks=(
                BlockDates(number=1, start=BLOCK1[0], end=BLOCK1[1]),
                BlockDates(number=2, start=BLOCK2[0], end=BLOCK2[1]),
            ),
        ),
        "curriculum": (
            CurriculumRequirement(pgy=1, rotation="WARDS", min_blocks=1, max_blocks=2, max_consecutive=1),
            CurriculumRequirement(pgy=1, rotation="NF", min_blocks=0.5, max_blocks=1, before=("WARDS",)),
        ),
        "requests": (
            ProgramRequest(person_id="R2-01", kind=RequestKind.VACATION, start=date(2026, 8, 3), end=date(2026, 8, 9)),
            ProgramRequest(
                person_id="R1-01", kind=RequestKind.DAY_OFF, start=date(2026, 7, 9), end=date(2026, 7, 9), weight=3
            ),
            ProgramRequest(
                person_id="R2-01",
                kind=RequestKind.ROTATION,
                rotation_id="WARDS",
                start=BLOCK2[0],
                end=BLOCK2[1],
                priority=2,
                weight=2,
            ),
        ),
        "holidays": (Holiday(date=date(2026, 7, 4), name="Independence Day"),),
        "attending": (
            AttendingAssignment(person_id="F-01", service_id="WARDS", start=BLOCK1[0], end=date(2026, 7, 14)),
            AttendingAssignment(person_id="F-01", service_id="AMB", start=date(2026, 7, 15), end=BLOCK1[1]),
        ),
        "clinic_service": "AMB",
        "didactics": (WeeklySession(day=Weekday.WED, shift="ACADEMIC"),),
        "didactics_service": "EDU",
    }
    return Program(**{**values, **overrides})
