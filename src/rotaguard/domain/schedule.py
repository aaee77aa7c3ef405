"""Absences, assignments and schedules."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from pydantic import AwareDatetime, Field, ValidationInfo, field_validator, model_validator

from rotaguard.domain.base import AssignmentSource, CalendarDate, Frozen, Identifier, Slot

ShiftId = Identifier
"""The id of a shift type: ``AM``, ``PM``, ``CALL`` in a v1 program, any the program names in v2."""

MAX_ABSENCE_KIND_LENGTH = 40

_Date = date  # inside Assignment, ``date`` names the field, not the type


# The absence kind of an approved vacation: the year planner puts it on a rotation that allows vacation.
VACATION_KIND = "vacation"


class Absence(Frozen):
    """A person unavailable from ``start`` to ``end``, both inclusive."""

    person_id: Identifier
    start: CalendarDate
    end: CalendarDate
    kind: str = Field(default="other", min_length=1, max_length=MAX_ABSENCE_KIND_LENGTH, pattern=r"^[A-Za-z0-9_.\- ]+$")

    @field_validator("end")
    @classmethod
    def _end_not_before_start(cls, end: date, info: ValidationInfo) -> date:
        start = info.data.get("start")
        if start is not None and end < start:
            raise ValueError(f"end {end} is before start {start}")
        return end

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


class Assignment(Frozen):
    """One duty: one person on one service (``rotation_id``, v1's name) for one shift of one day.

    ``slot`` is the id of the shift type (v1's AM, PM, CALL are shift types too).
    """

    person_id: Identifier
    date: CalendarDate
    slot: ShiftId
    rotation_id: Identifier
    source: AssignmentSource = AssignmentSource.IMPORT
    locked: bool = False

    @property
    def key(self) -> tuple[str, _Date, str]:
        """At most one assignment exists per person, day and slot."""
        return (self.person_id, self.date, self.slot)


class DutyInterval(Frozen):
    """When a duty happens, in the program's time zone.

    Python subtracts two datetimes of the same zone by wall clock, ignoring a daylight-saving
    change between them: compute durations and gaps from the ``*_utc`` values.
    """

    start: AwareDatetime
    end: AwareDatetime
    hours: float

    @property
    def start_utc(self) -> datetime:
        return self.start.astimezone(UTC)

    @property
    def end_utc(self) -> datetime:
        return self.end.astimezone(UTC)


def days_between(start: date, end: date) -> Iterator[date]:
    """Every day from ``start`` to ``end`` inclusive."""
    for offset in range((end - start).days + 1):
        yield start + timedelta(days=offset)


class Schedule(Frozen):
    """A set of assignments, at most one per person, day and slot.

    It may hold history before the range being planned: the 28-day windows reach back.
    """

    assignments: tuple[Assignment, ...] = ()

    @model_validator(mode="after")
    def _one_per_person_slot(self) -> Schedule:
        seen: set[tuple[str, date, str]] = set()
        for assignment in self.assignments:
            if assignment.key in seen:
                person, day, slot = assignment.key
                raise ValueError(f"{person} has two assignments on {day} {slot}")
            seen.add(assignment.key)
        return self

    def between(self, start: date, end: date) -> Schedule:
        return Schedule(assignments=tuple(a for a in self.assignments if start <= a.date <= end))

    def for_person(self, person_id: str) -> tuple[Assignment, ...]:
        return tuple(a for a in self.assignments if a.person_id == person_id)

    def sorted(self) -> Schedule:
        # v1's slots in their day order, then any other shift by id.
        order = {slot.value: index for index, slot in enumerate(Slot)}
        return Schedule(
            assignments=tuple(
                sorted(self.assignments, key=lambda a: (a.date, order.get(a.slot, len(order)), a.slot, a.person_id))
            )
        )


__all__ = ["Absence", "Assignment", "DutyInterval", "Schedule", "ShiftId", "days_between"]
