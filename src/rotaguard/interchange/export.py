"""Schedule exports: one row per assignment with its start, end and hours (ISO-8601)."""

from __future__ import annotations

import csv
import io

from rotaguard.domain import Program, Schedule

ASSIGNMENT_FIELDS = ("person_id", "rotation_id", "date", "slot", "start", "end", "hours")


def assignment_rows(program: Program, schedule: Schedule) -> list[dict]:
    rows = []
    for assignment in schedule.sorted().assignments:
        interval = program.interval(assignment)
        rows.append(
            {
                "person_id": assignment.person_id,
                "rotation_id": assignment.rotation_id,
                "date": assignment.date.isoformat(),
                "slot": assignment.slot.value,
                "start": interval.start.isoformat(),
                "end": interval.end.isoformat(),
                "hours": interval.hours,
            }
        )
    return rows


def export_json(program: Program, schedule: Schedule) -> dict:
    return {
        "people": [{"id": p.id, "role": p.role.value, "pgy": p.pgy} for p in sorted(program.people, key=lambda p: p.id)],
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
