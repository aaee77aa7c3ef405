"""Small synthetic v2 programs (shift types, services with coverage, block rotations, a plan).

``plan_program()`` is one realistic 28-day block of a small internal-medicine program:

- shift types: ``DAY`` 07:00 11 h, ``NIGHT`` 19:00 12 h, ``CALL24`` 07:00 24 h (+4 h transition),
  ``AM`` 08:00 5 h and ``PM`` 13:00 4 h sessions, ``CLINIC_AM`` / ``CLINIC_PM`` (clinic),
  ``ACADEMIC`` Thursday 13:00 4 h (didactics);
- services: ``WARDS`` (DAY, interns 1-2 and seniors 1-2, supervised), ``NF`` (NIGHT, 1-2),
  ``ICU`` (CALL24 1 a day, DAY 1-2, ACLS), ``AMB`` (AM mon-fri, PM mon/tue/wed/fri, supervised),
  ``CLINIC`` (continuity clinic, supervised by a preceptor) and ``ACAD`` (the academic half day);
- rotations: ``WARDS`` (DAY 20-24 a block), ``NF`` (NIGHT 20 a block in runs of exactly 5),
  ``ICU`` (CALL24 7 a block every 4 days, DAY 8-12), ``AMB`` (AM and PM, clinic and didactics);
- 12 residents: 4 on WARDS, 2 on NF, 4 on ICU, 2 on AMB; every resident has a weekly clinic
  half day (Tuesday PM or Wednesday AM), kept only on AMB;
- faculty with attending rows: two on WARDS, one each on ICU, AMB and CLINIC.

Every builder takes overrides, so a test changes one part and keeps the rest valid. Other
areas may import these (db, interchange, compliance tests).
"""

from __future__ import annotations

from datetime import date, time, timedelta

from rotaguard.domain import (
    AttendingAssignment,
    BlockRotation,
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

BLOCK_START = date(2026, 3, 12)  # Block 10 of 2025-26 (the default 28-day blocks), a Thursday
BLOCK_END = BLOCK_START + timedelta(days=27)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
BLS_ACLS = (Credential(name="BLS"), Credential(name="ACLS"))

# Who is on what in the block (the plan), and each resident's clinic half day.
TEAMS = {
    "WARDS": ("R1-01", "R1-02", "R2-01", "R3-01"),
    "NF": ("R1-03", "R2-02"),
    "ICU": ("R1-04", "R2-03", "R2-04", "R3-02"),
    "AMB": ("R1-05", "R3-03"),
}
CLINIC_DAYS = {"R1-05": ("tue", "CLINIC_PM"), "R3-03": ("wed", "CLINIC_AM")}


def shift_types() -> tuple[ShiftType, ...]:
    return (
        ShiftType(id="DAY", name="Day team", kind=ShiftKind.DAY, start=time(7), hours=11),
        ShiftType(id="NIGHT", name="Night float", kind=ShiftKind.NIGHT, start=time(19), hours=12),
        ShiftType(
            id="CALL24", name="24-hour call", kind=ShiftKind.CALL_24, start=time(7), hours=24, transition_hours=4
        ),
        ShiftType(id="AM", name="Morning session", kind=ShiftKind.HALF_DAY, start=time(8), hours=5),
        ShiftType(id="PM", name="Afternoon session", kind=ShiftKind.HALF_DAY, start=time(13), hours=4),
        ShiftType(id="CLINIC_AM", name="Clinic morning", kind=ShiftKind.CLINIC, start=time(8), hours=5),
        ShiftType(id="CLINIC_PM", name="Clinic afternoon", kind=ShiftKind.CLINIC, start=time(13), hours=4),
        ShiftType(id="ACADEMIC", name="Academic half day", kind=ShiftKind.DIDACTICS, start=time(13), hours=4),
    )


def _groups(*groups: tuple[tuple[int, ...], int, int]) -> tuple[ResidentStaffing, ...]:
    return tuple(ResidentStaffing(pgy=pgy, min=low, max=high) for pgy, low, high in groups)


def services(**overrides: Rotation) -> tuple[Rotation, ...]:
    everyone = ((1, 2, 3), 0, 12)
    made = {
        "WARDS": Rotation(
            id="WARDS",
            name="Inpatient wards",
            supervised=True,
            credentials=("BLS",),
            coverage=(
                Coverage(
                    shift="DAY",
                    residents=_groups(((1,), 1, 2), ((2, 3), 1, 2)),
                    faculty=Staffing(min=1, max=2),
                ),
            ),
        ),
        "NF": Rotation(
            id="NF",
            name="Night float",
            credentials=("BLS",),
            coverage=(Coverage(shift="NIGHT", residents=_groups(((1, 2, 3), 1, 2))),),
        ),
        "ICU": Rotation(
            id="ICU",
            name="Intensive care",
            credentials=("BLS", "ACLS"),
            coverage=(
                Coverage(shift="CALL24", residents=_groups(((1, 2, 3), 1, 1))),
                Coverage(
                    shift="DAY", days=WEEKDAYS, residents=_groups(((1, 2, 3), 1, 2)), faculty=Staffing(min=1, max=1)
                ),
                Coverage(shift="DAY", days=("sat", "sun"), residents=_groups(((1, 2, 3), 1, 2))),
            ),
        ),
        "AMB": Rotation(
            id="AMB",
            name="Ambulatory",
            supervised=True,
            coverage=(
                Coverage(
                    shift="AM", days=WEEKDAYS, residents=_groups(((1, 2, 3), 1, 2)), faculty=Staffing(min=0, max=1)
                ),
                Coverage(
                    shift="PM",
                    days=("mon", "tue", "wed", "fri"),
                    residents=_groups(((1, 2, 3), 1, 2)),
                    faculty=Staffing(min=0, max=1),
                ),
            ),
        ),
        "CLINIC": Rotation(
            id="CLINIC",
            name="Continuity clinic",
            supervised=True,
            coverage=(
                Coverage(shift="CLINIC_PM", days=("tue",), residents=_groups(everyone), faculty=Staffing(max=2)),
                Coverage(shift="CLINIC_AM", days=("wed",), residents=_groups(everyone), faculty=Staffing(max=2)),
            ),
        ),
        "ACAD": Rotation(
            id="ACAD",
            name="Academic half day",
            coverage=(Coverage(shift="ACADEMIC", days=("thu",), residents=_groups(everyone)),),
        ),
    }
    made.update(overrides)
    return tuple(made.values())


def block_rotations(**overrides: BlockRotation) -> tuple[BlockRotation, ...]:
    made = {
        "WARDS": BlockRotation(
            id="WARDS",
            name="Wards",
            clinic=False,
            didactics=False,
            vacation=False,
            pattern=DutyPattern(
                duties=(PatternDuty(service="WARDS", shift="DAY", per_block=Count(min=20, max=24)),),
                days_off_per_week=1,
            ),
        ),
        "NF": BlockRotation(
            id="NF",
            name="Night float",
            clinic=False,
            didactics=False,
            vacation=False,
            pattern=DutyPattern(
                duties=(
                    PatternDuty(service="NF", shift="NIGHT", per_block=Count(min=20, max=20), runs=Count(min=5, max=5)),
                ),
                days_off_per_week=1,
            ),
        ),
        "ICU": BlockRotation(
            id="ICU",
            name="Intensive care",
            credentials=("ACLS",),
            clinic=False,
            didactics=False,
            vacation=False,
            pattern=DutyPattern(
                duties=(
                    PatternDuty(service="ICU", shift="CALL24", per_block=Count(min=7, max=7), every=4),
                    PatternDuty(service="ICU", shift="DAY", per_block=Count(min=8, max=12)),
                ),
                days_off_per_week=1,
            ),
        ),
        "AMB": BlockRotation(
            id="AMB",
            name="Ambulatory",
            pattern=DutyPattern(
                duties=(
                    PatternDuty(service="AMB", shift="AM", days=WEEKDAYS, per_block=Count(min=12, max=20)),
                    PatternDuty(service="AMB", shift="PM", days=WEEKDAYS, per_block=Count(min=10, max=16)),
                ),
                days_off_per_week=2,
            ),
        ),
    }
    made.update(overrides)
    return tuple(made.values())


def plan_resident(person_id: str, **overrides: object) -> Person:
    pgy = int(person_id[1])
    odd = int(person_id[-1]) % 2
    day, shift = CLINIC_DAYS.get(person_id, ("tue", "CLINIC_PM") if odd else ("wed", "CLINIC_AM"))
    values: dict[str, object] = {
        "id": person_id,
        "name": f"Resident {person_id}",
        "role": Role.RESIDENT,
        "pgy": pgy,
        "credentials": BLS_ACLS,
        "clinic": ClinicSession(day=day, shift=shift),
    }
    return Person(**{**values, **overrides})  # type: ignore[arg-type]


FACULTY_SERVICES = {"F-01": "WARDS", "F-02": "WARDS", "F-03": "ICU", "F-04": "AMB", "F-05": "CLINIC"}


def plan_faculty(person_id: str) -> Person:
    return Person(id=person_id, name=f"Faculty {person_id}", role=Role.FACULTY, credentials=BLS_ACLS)


def plan_rows(
    teams: dict[str, tuple[str, ...]] = TEAMS, start: date = BLOCK_START, days: int = 28
) -> tuple[PlanEntry, ...]:
    end = start + timedelta(days=days - 1)
    return tuple(
        PlanEntry(person_id=person, start=start, end=end, rotation_id=rotation)
        for rotation, people in teams.items()
        for person in people
    )


def plan_program(
    *,
    teams: dict[str, tuple[str, ...]] = TEAMS,
    rotation_overrides: dict[str, BlockRotation] | None = None,
    service_overrides: dict[str, Rotation] | None = None,
    **overrides: object,
) -> Program:
    """The 12-resident program of one 28-day block; ``teams`` narrows it (tests of one pattern)."""
    residents = tuple(plan_resident(p) for people in teams.values() for p in people)
    needed = set(teams)
    attending_faculty = {f: s for f, s in FACULTY_SERVICES.items() if s in needed or s == "CLINIC" and "AMB" in needed}
    values: dict[str, object] = {
        "name": "Plan test program",
        "timezone": "America/New_York",
        "shift_types": shift_types(),
        "rotations": services(**(service_overrides or {})),
        "block_rotations": block_rotations(**(rotation_overrides or {})),
        "people": residents + tuple(plan_faculty(f) for f in attending_faculty),
        "plan": plan_rows(teams),
        "attending": tuple(
            AttendingAssignment(person_id=f, service_id=s, start=BLOCK_START, end=BLOCK_END)
            for f, s in attending_faculty.items()
        ),
        "clinic_service": "CLINIC",
        "didactics": (WeeklySession(day="thu", shift="ACADEMIC"),),
        "didactics_service": "ACAD",
    }
    return Program(**{**values, **overrides})  # type: ignore[arg-type]


__all__ = [
    "BLOCK_END",
    "BLOCK_START",
    "TEAMS",
    "block_rotations",
    "plan_faculty",
    "plan_program",
    "plan_resident",
    "plan_rows",
    "services",
    "shift_types",
]
