"""Expected work and how much of it a schedule does: the ``fill_rate`` metric.

With a block plan (a v2 program), a present resident's plan row expects, over the days of the
row inside the judged range:

- of each duty of its rotation's pattern, ``expected_count(per_block.min, present_days,
  block_days)`` duties (``present_days``: the row's days in the range the resident is not
  absent; ``block_days``: the length of the block holding the row's start), the same function
  the solver uses; a duty counts toward it on a present day of the pattern's weekdays, at most
  the expected number;
- each week's continuity clinic (the resident's ``clinic`` half day on ``clinic_service``) on a
  present day, when the rotation has ``clinic``;
- each protected didactics half day (on ``didactics_service``) on a present day, when the
  rotation has ``didactics``.

Without a plan (every v1 program) the pool model has no per-person expectation, so the expected
duties are the (resident, day, shift) triples of the range where the resident is present and
some service they may staff (role and PGY) runs that shift; the filled ones are those the
schedule assigns. Faculty are not counted in either case.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

import numpy as np

from rotaguard.compliance.view import ScheduleView
from rotaguard.domain import PlanEntry, Weekday, days_between, expected_count


class ExpectedKind(StrEnum):
    PATTERN = "pattern"
    CLINIC = "clinic"
    DIDACTICS = "didactics"


@dataclass(frozen=True)
class Expected:
    """``count`` duties of ``shift`` on ``service`` that ``person_id`` should work on some of ``days``."""

    person_id: str
    kind: ExpectedKind
    service: str
    shift: str
    days: tuple[date, ...]
    count: int
    row: PlanEntry


def row_days_in_range(view: ScheduleView, row: PlanEntry) -> list[date]:
    first, last = max(row.start, view.start), min(row.end, view.end)
    return list(days_between(first, last)) if first <= last else []


def expectations(view: ScheduleView) -> Iterator[Expected]:
    """What the plan rows overlapping the range expect of their residents (see the module's text)."""
    program = view.program
    for row in program.plan:
        person = program.people_by_id.get(row.person_id)
        rotation = program.block_rotations_by_id.get(row.rotation_id)
        if person is None or rotation is None or not person.is_resident:
            continue
        present = [d for d in row_days_in_range(view, row) if (row.person_id, d) not in view.absent_days]
        if not present:
            continue
        block_start, block_end = program.block_dates(row.start)
        block_days = (block_end - block_start).days + 1
        for duty in rotation.pattern.duties:
            count = expected_count(duty.per_block.min, len(present), block_days)
            if count:
                days = tuple(d for d in present if Weekday.of(d) in duty.days)
                yield Expected(person.id, ExpectedKind.PATTERN, duty.service, duty.shift, days, count, row)
        if rotation.clinic and person.clinic is not None and program.clinic_service is not None:
            clinic = person.clinic
            days = tuple(d for d in present if Weekday.of(d) == clinic.day)
            if days:
                yield Expected(
                    person.id, ExpectedKind.CLINIC, program.clinic_service, clinic.shift, days, len(days), row
                )
        if rotation.didactics and program.didactics_service is not None:
            for session in program.didactics:
                days = tuple(d for d in present if Weekday.of(d) == session.day)
                if days:
                    yield Expected(
                        person.id,
                        ExpectedKind.DIDACTICS,
                        program.didactics_service,
                        session.shift,
                        days,
                        len(days),
                        row,
                    )


def worked_days(view: ScheduleView, expected: Expected) -> tuple[date, ...]:
    """The days of ``expected`` on which the resident has that duty (that shift on that service)."""
    worked = []
    for day in expected.days:
        row = view.rows_by_key.get((expected.person_id, day, expected.shift))
        if row is not None and view.assignments[row].rotation_id == expected.service:
            worked.append(day)
    return tuple(worked)


def _plan_fill(view: ScheduleView) -> tuple[int, int]:
    expected = filled = 0
    for item in expectations(view):
        expected += item.count
        filled += min(item.count, len(worked_days(view, item)))
    return expected, filled


def _pool_fill(view: ScheduleView) -> tuple[int, int]:
    tables = view.tables
    residents = np.array([p.is_resident for p in view.people] + [False], dtype=bool)  # code -1: no one
    # [person, weekday, slot]: some service the person may staff runs that shift on that weekday.
    may_staff = np.asarray((tables.accepts[:, :, None, None] & tables.runs[None, :, :, :]).any(axis=1), dtype=bool)
    present = ~view.absent_grid[:, view.range_first : view.range_last + 1]  # [person, range day]
    staffable = may_staff[:, view.range_weekdays, :] & present[:, :, None]  # [person, range day, slot]
    expected = int(staffable[residents[:-1]].sum())
    rows = view.in_range & residents[view.person] & (view.rotation >= 0) & (view.slot >= 0)
    people, days, slots = view.person[rows], view.day[rows] - view.range_first, view.slot[rows]
    filled = int(staffable[people, days, slots].sum())
    return expected, filled


def fill(view: ScheduleView) -> tuple[int, int]:
    """(expected duties, filled duties) of the judged range; ``fill_rate`` is their ratio."""
    if view.program.has_plan_model:
        return _plan_fill(view)
    return _pool_fill(view)
