"""Small hand-built year programs for the planner's tests: a few residents, a few 28-day blocks,
rotations with capacities, a curriculum. Every builder takes overrides."""

from __future__ import annotations

from datetime import date, timedelta

from rotaguard.domain import (
    Absence,
    AcademicYear,
    BlockDates,
    BlockRotation,
    Capacity,
    Credential,
    CurriculumRequirement,
    Person,
    PlanEntry,
    Program,
    Role,
)
from rotaguard.planner import YearProblem

YEAR_START = date(2026, 7, 1)


def year(blocks: int = 4, start: date = YEAR_START) -> AcademicYear:
    return AcademicYear(
        label="2026-27",
        blocks=tuple(
            BlockDates(
                number=i + 1,
                start=start + timedelta(days=28 * i),
                end=start + timedelta(days=28 * i + 27),
            )
            for i in range(blocks)
        ),
    )


def block_start(number: int) -> date:
    return YEAR_START + timedelta(days=28 * (number - 1))


def block_end(number: int) -> date:
    return block_start(number) + timedelta(days=27)


def resident(id: str, pgy: int = 1, credentials: tuple[str, ...] = ("ACLS",), **overrides) -> Person:
    return Person(
        id=id,
        name=f"Resident {id}",
        role=Role.RESIDENT,
        pgy=pgy,
        credentials=tuple(Credential(name=c) for c in credentials),
        **overrides,
    )


def rotation(id: str, *, heavy: bool = False, capacity: tuple[Capacity, ...] = (), **overrides) -> BlockRotation:
    fields = {"clinic": not heavy, "vacation": not heavy} | overrides
    return BlockRotation(id=id, name=id.title(), capacity=capacity, **fields)


def cap(minimum: int = 0, maximum: int = 500, pgy: tuple[int, ...] = (1, 2, 3)) -> Capacity:
    return Capacity(pgy=pgy, min=minimum, max=maximum)


def need(rotation_id: str, minimum: float = 0, maximum: float = 13, pgy: int = 1, **overrides) -> CurriculumRequirement:
    return CurriculumRequirement(pgy=pgy, rotation=rotation_id, min_blocks=minimum, max_blocks=maximum, **overrides)


def row(person_id: str, rotation_id: str, number: int, **overrides) -> PlanEntry:
    return PlanEntry(
        person_id=person_id, rotation_id=rotation_id, start=block_start(number), end=block_end(number), **overrides
    )


def leave(person_id: str, first: int, last: int) -> Absence:
    return Absence(person_id=person_id, start=block_start(first), end=block_end(last), kind="leave")


def vacation(person_id: str, number: int) -> Absence:
    return Absence(
        person_id=person_id, start=block_start(number), end=block_start(number) + timedelta(days=13), kind="vacation"
    )


def year_program(
    *,
    blocks: int = 4,
    people: tuple[Person, ...] | None = None,
    rotations: tuple[BlockRotation, ...] | None = None,
    curriculum: tuple[CurriculumRequirement, ...] = (),
    **overrides,
) -> Program:
    """Default: 3 interns, WARDS (heavy, 1 per block) and AMB (clinic, vacation)."""
    return Program(
        name="Planner test",
        block_anchor=YEAR_START,
        people=people if people is not None else tuple(resident(f"R1-0{i}") for i in range(1, 4)),
        block_rotations=rotations
        if rotations is not None
        else (rotation("WARDS", heavy=True, capacity=(cap(1, 1),)), rotation("AMB")),
        year=year(blocks),
        curriculum=curriculum,
        **overrides,
    )


def problem(program: Program, **overrides) -> YearProblem:
    fields = {"time_limit_seconds": 10.0, "deterministic": True} | overrides
    return YearProblem(program=program, **fields)
