"""A small synthetic program with a published week a month ahead, and a clock tests can move."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from factories import assignment, call_rotation, coordinator, resident, session_rotation
from rotaguard.db import AssignmentRepository, Database, ProgramRepository
from rotaguard.domain import Credential, Person, Program, ResidentStaffing, Role, Slot, Staffing, StaffRole

# Always weeks ahead of the real date, so that commands judging "the future" by the database's
# clock accept the same week the pinned-clock tests use.
_TODAY = datetime.now(UTC).date()
MONDAY = _TODAY + timedelta(days=28 + (7 - _TODAY.weekday()) % 7)
NOW = datetime.combine(MONDAY - timedelta(days=6), datetime.min.time(), tzinfo=UTC).replace(hour=12)


def day(offset: int) -> date:
    return MONDAY + timedelta(days=offset)


def senior(id: str, pgy: int = 2) -> Person:
    return resident(
        id,
        pgy=pgy,
        credentials=(Credential(name="BLS"), Credential(name="ACLS")),
        email=f"{id.lower()}@residency.example",
    )


def swap_program(extra_seniors: int = 0) -> Program:
    seniors = [senior("R2-01"), senior("R2-02"), senior("R2-03"), senior("R3-01", pgy=3)]
    seniors += [senior(f"R2-{n:02d}") for n in range(4, 4 + extra_seniors)]
    return Program(
        name="Synthetic Swap Program",
        people=(
            resident("R1-01", pgy=1),
            *seniors,
            Person(id="F-01", name="Faculty F-01", role=Role.FACULTY, email="f-01@residency.example"),
            Person(id="F-02", name="Faculty F-02", role=Role.FACULTY),
        ),
        rotations=(
            session_rotation(
                residents=ResidentStaffing(min=0, max=12, pgy=(1, 2, 3)),
                faculty=Staffing(min=0, max=2),
                supervised=False,
            ),
            call_rotation(residents=ResidentStaffing(min=0, max=1, pgy=(2, 3))),
        ),
        staff=(coordinator("C-01"), coordinator("A-01", role=StaffRole.ADMIN)),
    )


def week() -> list:
    return [
        assignment("R2-01", day(0), Slot.CALL, "NIGHT"),
        assignment("R2-02", day(1), Slot.CALL, "NIGHT"),
        assignment("R3-01", day(2), Slot.CALL, "NIGHT"),
        assignment("R2-03", day(3), Slot.CALL, "NIGHT"),
        assignment("R2-01", day(2), Slot.AM, "WARDS"),
        assignment("R2-02", day(4), Slot.PM, "WARDS"),
        assignment("R1-01", day(0), Slot.AM, "WARDS"),
        assignment("F-01", day(0), Slot.AM, "WARDS"),
    ]


def seed(database: Database, program: Program | None = None, assignments: list | None = None) -> None:
    with database.write() as session:
        ProgramRepository(session).save(program=program or swap_program(), rule_overrides={})
        AssignmentRepository(session).upsert(assignments=assignments if assignments is not None else week())


class Clock:
    """A clock the test moves; the service reads it instead of the database's."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self, session) -> datetime:
        return self.now
