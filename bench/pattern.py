"""A large, regular, mostly compliant schedule for benchmarks (the solver is not needed to make one)."""

from __future__ import annotations

from datetime import date, timedelta

from rotaguard.domain import Assignment, Program, Schedule, Slot
from rotaguard.domain.base import AssignmentSource


def pattern_schedule(program: Program, *, start: date, days: int) -> Schedule:
    """Everyone works AM and PM six days a week; call-eligible seniors also take the
    in-house call every fourth night and have the morning after it off. Rotations are chosen
    among those each person may staff."""
    call = next(r for r in program.rotations if r.is_call())
    sessions = [r for r in program.rotations if not r.is_call()]
    assignments = []
    for index, person in enumerate(program.people):
        takes_call = call.accepts(person)
        for offset in range(days):
            day = start + timedelta(days=offset)
            if program.absent(person.id, day):
                continue
            on_call = takes_call and (offset + index) % 4 == 0
            post_call = takes_call and (offset + index) % 4 == 1
            if on_call:
                assignments.append(
                    Assignment(
                        person_id=person.id,
                        date=day,
                        slot=Slot.CALL,
                        rotation_id=call.id,
                        source=AssignmentSource.SOLVER,
                    )
                )
            if (offset + index) % 7 == 0:
                continue
            open_rotations = [r for r in sessions if r.accepts(person) and r.runs_on(day, Slot.AM)]
            if not open_rotations:
                continue
            rotation = open_rotations[(index + offset // 7) % len(open_rotations)]
            for slot in (Slot.PM,) if post_call else (Slot.AM, Slot.PM):
                assignments.append(
                    Assignment(
                        person_id=person.id,
                        date=day,
                        slot=slot,
                        rotation_id=rotation.id,
                        source=AssignmentSource.SOLVER,
                    )
                )
    return Schedule(assignments=tuple(assignments))
