"""Seeded, synthetic (PII-free) residency programs whose minimum staffing can be met in full.

The staffing scales with the number of residents; the counts are checked against a
capacity estimate that leaves every person well inside the Tier 1 limits, so a demo
always has a complete schedule to find.
"""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

from rotaguard.domain import (
    MAX_DATE,
    Absence,
    Credential,
    Person,
    ResidentStaffing,
    Role,
    Rotation,
    RotationKind,
    Slot,
    Staffing,
    StaffMember,
    StaffRole,
    Weekday,
)
from rotaguard.domain.program import BLOCK_DAYS, DEFAULT_BLOCK_ANCHOR
from rotaguard.errors import InputError, Problem
from rotaguard.interchange.document import FORMAT, ProgramDocument, ProgramSpec
from rotaguard.interchange.v1_models import Rotation as V1Rotation

MIN_RESIDENTS = 8
MAX_RESIDENTS = 600
MAX_FACULTY = 300
WEEKDAYS = (Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI)
# Planning capacity per person per block: 20 working days of two half days, far below 320 h.
HALF_DAYS_PER_PERSON = 40
# Calls a senior can take per block while keeping every third night free, with slack.
CALLS_PER_SENIOR = 6


def next_block_start(today: date, anchor: date = DEFAULT_BLOCK_ANCHOR) -> date:
    """The first day of the 28-day block after the one containing ``today``."""
    blocks_passed = (today - anchor).days // BLOCK_DAYS + 1
    return anchor + timedelta(days=blocks_passed * BLOCK_DAYS)


def _pgy_counts(residents: int) -> tuple[int, int, int]:
    pgy1 = math.ceil(residents / 3)
    pgy2 = math.ceil((residents - pgy1) / 2)
    return pgy1, pgy2, residents - pgy1 - pgy2


def _rotations(residents: int) -> tuple[Rotation, ...]:
    wards_min = max(2, round(residents * 0.2))
    clinic_min = max(1, residents // 9)
    elective_max = max(2, residents // 6)
    return (
        Rotation(
            id="WARDS",
            name="Inpatient wards",
            kind=RotationKind.SESSION,
            slots=(Slot.AM, Slot.PM),
            residents=ResidentStaffing(min=wards_min, max=wards_min + 2, pgy=(1, 2, 3)),
            faculty=Staffing(min=1, max=math.ceil((wards_min + 2) / 2)),
            credentials=("BLS",),
            supervised=True,
        ),
        Rotation(
            id="CLINIC",
            name="Continuity clinic",
            kind=RotationKind.SESSION,
            slots=(Slot.AM, Slot.PM),
            days=WEEKDAYS,
            residents=ResidentStaffing(min=clinic_min, max=clinic_min + 2, pgy=(1, 2, 3)),
            faculty=Staffing(min=1, max=math.ceil((clinic_min + 2) / 2)),
            supervised=True,
        ),
        Rotation(
            id="ELECTIVE",
            name="Elective",
            kind=RotationKind.SESSION,
            slots=(Slot.AM, Slot.PM),
            days=WEEKDAYS,
            residents=ResidentStaffing(min=0, max=elective_max, pgy=(2, 3)),
            faculty=Staffing(min=0, max=0),
        ),
        Rotation(
            id="NIGHT",
            name="Overnight call",
            kind=RotationKind.CALL,
            slots=(Slot.CALL,),
            residents=ResidentStaffing(min=1, max=1, pgy=(2, 3)),
            faculty=Staffing(min=0, max=0),
            credentials=("ACLS",),
        ),
    )


def _faculty_half_days_needed(rotations: tuple[Rotation, ...]) -> int:
    """Faculty half days one block needs at minimum staffing, assuming a third are PGY-1."""
    total = 0
    for rotation in rotations:
        if not rotation.supervised:
            continue
        per_slot = max(rotation.faculty.min, math.ceil(rotation.residents.min * 4 / 3 / 4))
        days = sum(1 for offset in range(BLOCK_DAYS) if list(Weekday)[offset % 7] in rotation.days)
        total += per_slot * len(rotation.slots) * days
    return total


def minimum_faculty(residents: int) -> int:
    return max(4, math.ceil(_faculty_half_days_needed(_rotations(residents)) / HALF_DAYS_PER_PERSON))


# Who runs the synthetic program (the authorization matrix's identities): ROTAGUARD_ACTOR=C-01
# generates and assigns, A-01 also restores and imports.
SYNTHETIC_STAFF = (
    StaffMember(id="A-01", name="Program Administrator", role=StaffRole.ADMIN, email="a-01@residency.example"),
    StaffMember(id="C-01", name="Program Coordinator", role=StaffRole.COORDINATOR, email="c-01@residency.example"),
)


# Credentials are issued to expire up to mid-way through the third year after the block starts.
LATEST_START = date(MAX_DATE.year - 3, 12, 31)


def synthesize(*, residents: int = 18, faculty: int = 8, seed: int = 1, start: date) -> ProgramDocument:
    """A realistic program for the block starting on ``start``; the same arguments give the same document."""
    problems = []
    if not MIN_RESIDENTS <= residents <= MAX_RESIDENTS:
        problems.append(Problem("--residents", f"must be {MIN_RESIDENTS}-{MAX_RESIDENTS}, got {residents}"))
    elif not minimum_faculty(residents) <= faculty <= MAX_FACULTY:
        problems.append(
            Problem(
                "--faculty",
                f"must be {minimum_faculty(residents)}-{MAX_FACULTY} for {residents} residents, got {faculty}",
            )
        )
    if start > LATEST_START:
        problems.append(
            Problem(
                "--start",
                f"{start} is too late: a synthetic program's credentials run until mid-{start.year + 3}, past {MAX_DATE}; start by {LATEST_START}",
            )
        )
    if problems:
        raise InputError("program synth", problems)

    rng = random.Random(seed)
    end = start + timedelta(days=BLOCK_DAYS - 1)
    far_future = date(start.year + 3, 6, 30)

    def expiry() -> date:
        return date(start.year + rng.randint(1, 2), rng.choice((3, 6, 9, 12)), 28)

    people: list[Person] = []
    for pgy, count in zip((1, 2, 3), _pgy_counts(residents), strict=True):
        for number in range(1, count + 1):
            credentials = [Credential(name="BLS", expires=expiry())]
            # Seniors carry ACLS for the overnight call; about half the interns have it already.
            if pgy > 1 or rng.random() < 0.5:
                credentials.append(Credential(name="ACLS", expires=max(expiry(), end + timedelta(days=90))))
            people.append(
                Person(
                    id=f"R{pgy}-{number:02d}",
                    name=f"Resident {pgy}-{number:02d}",
                    role=Role.RESIDENT,
                    pgy=pgy,
                    credentials=tuple(credentials),
                )
            )
    for number in range(1, faculty + 1):
        people.append(
            Person(
                id=f"F-{number:02d}",
                name=f"Faculty {number:02d}",
                role=Role.FACULTY,
                credentials=(Credential(name="BLS", expires=far_future), Credential(name="ACLS", expires=far_future)),
            )
        )

    rotations = _rotations(residents)
    absences = _absences(people, rng=rng, start=start)
    return ProgramDocument(
        format=FORMAT,
        program=ProgramSpec(name=f"Synthetic Internal Medicine (seed {seed})", timezone="America/New_York"),
        people=tuple(people),
        # The v1 document holds v1 rotations; these services are all in v1's form.
        rotations=tuple(V1Rotation.from_service(rotation) for rotation in rotations),
        absences=absences,
        staff=SYNTHETIC_STAFF,
    )


def _absences(people: list[Person], *, rng: random.Random, start: date) -> tuple[Absence, ...]:
    """About one absence per six people, at most one person of a kind away in any week."""
    count = max(1, len(people) // 6)
    chosen = rng.sample(people, count)
    absences = []
    for index, person in enumerate(sorted(chosen, key=lambda p: p.id)):
        week = index % 4
        kind, length = rng.choice((("vacation", 5), ("conference", 2), ("sick", 1)))
        first = start + timedelta(days=week * 7 + rng.randint(0, 7 - length))
        absences.append(Absence(person_id=person.id, start=first, end=first + timedelta(days=length - 1), kind=kind))
    return tuple(absences)
