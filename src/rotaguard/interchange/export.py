"""Schedule exports: one row per assignment with its start, end and hours (ISO-8601)."""

from __future__ import annotations

import csv
import io

from rotaguard.domain import Person, Program, Role, Schedule

ASSIGNMENT_FIELDS = ("person_id", "rotation_id", "date", "slot", "start", "end", "hours")


def assignment_records(program: Program, schedule: Schedule) -> list[dict]:
    """The export's rows with typed values: ``date`` a date, ``start``/``end`` aware datetimes in
    the program's time zone, ``hours`` the time that really elapses. Every format is built on these."""
    rows = []
    for assignment in schedule.sorted().assignments:
        interval = program.interval(assignment)
        rows.append(
            {
                "person_id": assignment.person_id,
                "rotation_id": assignment.rotation_id,
                "date": assignment.date,
                "slot": assignment.slot.value,
                "start": interval.start,
                "end": interval.end,
                "hours": interval.hours,
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
    writer = csv.DictWriter(buffer, fieldnames=ASSIGNMENT_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(assignment_rows(program, schedule))
    return buffer.getvalue()


def export_people(program: Program, schedule: Schedule) -> list[Person]:
    """Whom a per-person export covers: every active person, and anyone else with an assignment
    in ``schedule``; residents by PGY level, then faculty, each by id."""
    assigned = {assignment.person_id for assignment in schedule.assignments}
    people = [person for person in program.people if person.active or person.id in assigned]
    return sorted(people, key=lambda p: (p.role is not Role.RESIDENT, p.pgy or 0, p.id))
