"""A large, regular, mostly compliant schedule for benchmarks (the solver is not needed to make one)."""

from __future__ import annotations

from datetime import date, timedelta

from rotaguard.domain import Assignment, Program, Schedule, Slot
from rotaguard.domain.base import AssignmentSource


def pattern_schedule(program: Program, *, start: date, days: int) -> Schedule:
    """Residents: a call every fourth night for call-eligible seniors, otherwise half days six
    days a week; faculty: half days five days a week. Rotations chosen where eligible."""
    call = next(r for r in program.rotations if r.is_call())
    sessions = [r for r in program.rotations if not r.is_call()]
    assignments = []
    for index, person in enumerate(program.people):
        takes_call = call.accepts(person)
        for offset in range(days):
            day = start + timedelta(days=offset)
            if program.absent(person.id, day):
                continue
            if takes_call and (offset + index) % 4 == 0:
                assignments.append(Assignment(person_id=person.id, date=day, slot=Slot.CALL, rotation_id=call.id, source=AssignmentSource.SOLVER))
                continue
            if takes_call and (offset + index) % 4 == 1:
                continue  # post-call day
            rest_day = (offset + index) % 7 == 0 or (not person.is_resident and (offset + index) % 7 == 1)
            if rest_day:
                continue
            open_rotations = [r for r in sessions if r.accepts(person) and r.runs_on(day, Slot.AM)]
            if not open_rotations:
                continue
            rotation = open_rotations[(index + offset // 7) % len(open_rotations)]
            for slot in (Slot.AM, Slot.PM):
                assignments.append(Assignment(person_id=person.id, date=day, slot=slot, rotation_id=rotation.id, source=AssignmentSource.SOLVER))
    return Schedule(assignments=tuple(assignments))
