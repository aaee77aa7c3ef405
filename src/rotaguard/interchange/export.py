"""Schedule exports: one row per assignment with its start, end and hours (ISO-8601)."""

from __future__ import annotations

import csv
import io

from rotaguard.domain import Person, Program, Role, Schedule

ASSIGNMENT_FIELDS = ("person_id", "rotation_id", "date", "slot", "start", "end", "hours")
# What ``--format json`` adds to v1's fields: the service and shift in v2's words, the shift's
# kind, and the block rotation the person's plan puts them on that day (null without one).
DUTY_FIELDS = ("service_id", "shift", "shift_kind", "rotation")


def assignment_records(program: Program, schedule: Schedule) -> list[dict]:
    """The export's rows with typed values: ``date`` a date, ``start``/``end`` aware datetimes in
    the program's time zone, ``hours`` the time that really elapses, then ``DUTY_FIELDS``. Every
    format is built on these (csv and xlsx keep ``ASSIGNMENT_FIELDS`` only)."""
    rows = []
    for assignment in schedule.sorted().assignments:
        interval = program.interval(assignment)
        planned = program.planned(assignment.person_id, assignment.date)
        rows.append(
            {
                "person_id": assignment.person_id,
                "rotation_id": assignment.rotation_id,
                "date": assignment.date,
                "slot": assignment.slot,
                "start": interval.start,
                "end": interval.end,
                "hours": interval.hours,
                "service_id": assignment.rotation_id,
                "shift": assignment.slot,
                "shift_kind": program.shift(assignment.slot).kind.value,
                "rotation": None if planned is None else planned.rotation_id,
            }
        )
    return rows


def assignment_rows(program: Program, schedule: Schedule) -> list[dict]:
    """The same rows with ISO-8601 dates and datetimes (JSON and CSV)."""
    return [
        {**row, "date": row["date"].isoformat(), "start": row["start"].isoformat(), "end": row["end"].isoformat()}
        for row in assignment_records(program, schedule)
    ]


def export_json(program: Program, schedule: Schedule) -> dict:
    return {
        "people": [
            {"id": p.id, "role": p.role.value, "pgy": p.pgy} for p in sorted(program.people, key=lambda p: p.id)
        ],
        "rotations": [
            {"id": r.id, "kind": r.kind.value, "supervised": r.supervised}
            for r in sorted(program.rotations, key=lambda r: r.id)
        ],
        "assignments": assignment_rows(program, schedule),
    }


def export_csv(program: Program, schedule: Schedule) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=ASSIGNMENT_FIELDS, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(assignment_rows(program, schedule))
    return buffer.getvalue()


def export_people(program: Program, schedule: Schedule) -> list[Person]:
    """Whom a per-person export covers: every active person, and anyone else with an assignment
    in ``schedule``; residents by PGY level, then faculty, each by id."""
    assigned = {assignment.person_id for assignment in schedule.assignments}
    people = [person for person in program.people if person.active or person.id in assigned]
    return sorted(people, key=lambda p: (p.role is not Role.RESIDENT, p.pgy or 0, p.id))
