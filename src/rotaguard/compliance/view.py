"""A schedule as arrays: every duty in whole seconds since the epoch, grouped by person.

Built once per check; every rule reads it. Seconds are integers so that a call ending at
07:00 and a half day starting at 07:00 meet exactly and merge into one duty period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import SupportsIndex, overload

import numpy as np
from numpy.typing import NDArray

from rotaguard.domain import Assignment, Person, Program, RotationKind, Schedule, Slot

HOUR = 3600
SLOT_CODES = {Slot.AM: 0, Slot.PM: 1, Slot.CALL: 2}
SLOTS_BY_CODE = (Slot.AM, Slot.PM, Slot.CALL)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Ints = NDArray[np.int64]
"""Seconds, grid days, slot, rotation and role codes, counts."""
Flags = NDArray[np.bool_]
Positions = NDArray[np.intp]
"""Indices into another array, as numpy's searches and sorts return them."""


def _seconds(moment: datetime) -> int:
    return int((moment - _EPOCH).total_seconds())


@dataclass(frozen=True)
class DayGrid:
    """Consecutive calendar days in the program's zone; ``midnights[i]`` starts day ``i``."""

    first: date
    midnights: Ints  # len(days) + 1 entries, seconds

    @classmethod
    def covering(cls, program: Program, first: date, last: date) -> DayGrid:
        days = (last - first).days + 2
        midnights = np.array(
            [_seconds(datetime.combine(first + timedelta(days=i), time(0), tzinfo=program.zone)) for i in range(days)],
            dtype=np.int64,
        )
        return cls(first=first, midnights=midnights)

    @property
    def size(self) -> int:
        return len(self.midnights) - 1

    def index(self, day: date) -> int:
        return (day - self.first).days

    def day(self, index: SupportsIndex) -> date:
        return self.first + timedelta(days=int(index))

    def day_of(self, seconds: Ints) -> Positions:
        """The grid day each instant falls in."""
        return np.searchsorted(self.midnights, seconds, side="right") - 1

    @overload
    def weekday(self, index: int) -> int: ...
    @overload
    def weekday(self, index: NDArray[np.integer]) -> NDArray[np.integer]: ...
    def weekday(self, index: NDArray[np.integer] | int) -> NDArray[np.integer] | int:
        return (self.first.weekday() + index) % 7


@dataclass(frozen=True)
class Timeline:
    """One person's duties, sorted by start."""

    person: Person
    index: int
    starts: Ints
    ends: Ints
    days: Ints
    slots: Ints
    rotations: Ints
    in_house_call: Flags
    rows: Positions  # positions in ScheduleView.assignments

    def with_duty(self, *, start: int, end: int, day: int, slot: int, rotation: int, in_house_call: bool) -> Timeline:
        """This timeline plus one more duty (a substitute's tentative assignment)."""
        at = int(np.searchsorted(self.starts, start))

        def put(values: np.ndarray, value: int | bool) -> np.ndarray:
            return np.insert(values, at, value)

        return Timeline(
            person=self.person,
            index=self.index,
            starts=put(self.starts, start),
            ends=put(self.ends, end),
            days=put(self.days, day),
            slots=put(self.slots, slot),
            rotations=put(self.rotations, rotation),
            in_house_call=put(self.in_house_call, in_house_call),
            rows=put(self.rows, -1),
        )


@dataclass(frozen=True)
class Periods:
    """Duty periods: overlapping or touching duties merged into one continuous stretch."""

    starts: Ints
    ends: Ints

    @classmethod
    def of(cls, timeline: Timeline) -> Periods:
        if len(timeline.starts) == 0:
            empty = np.zeros(0, dtype=np.int64)
            return cls(empty, empty)
        running_end = np.maximum.accumulate(timeline.ends)
        opens = np.ones(len(timeline.starts), dtype=bool)
        opens[1:] = timeline.starts[1:] > running_end[:-1]
        first = np.flatnonzero(opens)
        return cls(timeline.starts[first], np.maximum.reduceat(timeline.ends, first))

    @property
    def lengths(self) -> Ints:
        return self.ends - self.starts

    def worked_before(self, moments: Ints) -> Ints:
        """Seconds of duty from the beginning of time up to each moment (periods never overlap)."""
        if len(self.starts) == 0:
            return np.zeros(len(moments), dtype=np.int64)
        done: Ints = np.concatenate(([0], np.cumsum(self.lengths)))
        finished = np.searchsorted(self.ends, moments, side="right")
        current = np.minimum(finished, len(self.starts) - 1)
        inside = (finished < len(self.starts)) & (self.starts[current] < moments)
        worked: Ints = done[finished] + np.where(inside, moments - self.starts[current], 0)
        return worked

    def touched_days(self, grid: DayGrid) -> Flags:
        """A boolean per grid day: does any duty period touch it?"""
        marks = np.zeros(grid.size + 1, dtype=np.int64)
        if len(self.starts):
            first = np.clip(grid.day_of(self.starts), 0, grid.size)
            # A period ending exactly at midnight does not touch the next day.
            last = np.clip(np.searchsorted(grid.midnights, self.ends, side="left") - 1, 0, grid.size - 1)
            np.add.at(marks, first, 1)
            np.add.at(marks, last + 1, -1)
        return np.cumsum(marks)[: grid.size] > 0


NO_EXPIRY = np.iinfo(np.int64).max
NOT_HELD = np.iinfo(np.int64).min
PGY1, SENIOR, FACULTY = 0, 1, 2


@dataclass(frozen=True)
class ProgramTables:
    """Per person and rotation facts as arrays, so rules look them up instead of looping."""

    accepts: Flags  # [person, rotation] role and PGY eligibility
    valid_until: Ints  # [person, rotation] last grid day all required credentials hold
    runs: Flags  # [rotation, weekday, slot] the rotation is staffed then
    moonlighting: Flags  # [rotation]
    role: Ints  # [person] PGY1, SENIOR or FACULTY

    @classmethod
    def of(cls, program: Program, grid: DayGrid) -> ProgramTables:
        people, rotations = program.people, program.rotations
        accepts = np.array([[r.accepts(p) for r in rotations] for p in people], dtype=bool).reshape(
            len(people), len(rotations)
        )
        valid_until = np.full((len(people), len(rotations)), NO_EXPIRY, dtype=np.int64)
        for i, person in enumerate(people):
            held = {c.name: c.expires for c in person.credentials}
            for j, rotation in enumerate(rotations):
                for name in rotation.credentials:
                    if name not in held:
                        valid_until[i, j] = NOT_HELD
                    elif (expires := held[name]) is not None:
                        valid_until[i, j] = min(valid_until[i, j], grid.index(expires))
        runs = np.zeros((len(rotations), 7, 3), dtype=bool)
        for j, rotation in enumerate(rotations):
            for day in rotation.days:
                for slot in rotation.slots:
                    runs[j, day.index, SLOT_CODES[slot]] = True
        role = np.array([PGY1 if p.pgy == 1 else SENIOR if p.is_resident else FACULTY for p in people], dtype=np.int64)
        moonlighting = np.array([r.moonlighting for r in rotations], dtype=bool)
        return cls(accepts=accepts, valid_until=valid_until, runs=runs, moonlighting=moonlighting, role=role)


class ScheduleView:
    """Everything the rules need, computed once per check."""

    def __init__(self, schedule: Schedule, program: Program, start: date, end: date) -> None:
        self.program = program
        self.start, self.end = start, end
        self.assignments: tuple[Assignment, ...] = schedule.assignments
        window = program.rules.averaging_window_days
        days = [a.date for a in self.assignments]
        first = min([start - timedelta(days=window), *days]) - timedelta(days=1)
        last = max([end + timedelta(days=window), *days]) + timedelta(days=2)
        self.grid = DayGrid.covering(program, first, last)
        self.range_first, self.range_last = self.grid.index(start), self.grid.index(end)
        self.people = program.people
        self.person_index = {p.id: i for i, p in enumerate(self.people)}
        self.rotations = program.rotations
        self.rotation_index = {r.id: i for i, r in enumerate(self.rotations)}

        assignments = self.assignments
        self.person = np.array([self.person_index.get(a.person_id, -1) for a in assignments], dtype=np.int64)
        self.rotation = np.array([self.rotation_index.get(a.rotation_id, -1) for a in assignments], dtype=np.int64)
        self.day = np.array([a.date.toordinal() for a in assignments], dtype=np.int64) - self.grid.first.toordinal()
        self.slot = np.array([SLOT_CODES[a.slot] for a in assignments], dtype=np.int64)
        # Times repeat for every (day, slot, rotation): compute each once, not once per assignment.
        bounds: dict[tuple[date, Slot, str], tuple[int, int]] = {}

        def span(assignment: Assignment) -> tuple[int, int]:
            key = (assignment.date, assignment.slot, assignment.rotation_id)
            found = bounds.get(key)
            if found is None:
                hours = program.hours_for(assignment.rotation_id, assignment.slot)
                began, ended = program.interval_bounds(assignment.date, assignment.slot, hours)
                found = bounds[key] = (_seconds(began), _seconds(ended))
            return found

        spans = np.array([span(a) for a in assignments], dtype=np.int64).reshape(len(assignments), 2)
        self.start_s, self.end_s = spans[:, 0].copy(), spans[:, 1].copy()
        call_in_house = np.array(
            [r.kind is RotationKind.CALL and r.in_house for r in self.rotations] + [False], dtype=bool
        )
        self.in_house_call = call_in_house[self.rotation]  # index -1 picks the trailing False
        self.unknown = [int(row) for row in np.flatnonzero((self.person < 0) | (self.rotation < 0))]
        self.tables = ProgramTables.of(program, self.grid)
        self.in_range = (self.day >= self.range_first) & (self.day <= self.range_last)
        # Rows naming an unknown person or rotation stay out of every timeline (a rule reports them).
        owner = np.where(self.rotation >= 0, self.person, -1)
        order = np.lexsort((self.start_s, owner))
        edges = np.searchsorted(owner[order], np.arange(len(self.people) + 1))
        self.timelines = tuple(
            Timeline(
                person=person,
                index=i,
                starts=self.start_s[rows],
                ends=self.end_s[rows],
                days=self.day[rows],
                slots=self.slot[rows],
                rotations=self.rotation[rows],
                in_house_call=self.in_house_call[rows],
                rows=rows,
            )
            for i, person in enumerate(self.people)
            for rows in (order[edges[i] : edges[i + 1]],)
        )

    @cached_property
    def staffing(self) -> Ints:
        """[rotation, day, slot, role] head counts of the in-range assignments."""
        counts = np.zeros((len(self.rotations), self.grid.size, 3, 3), dtype=np.int64)
        rows = self.in_range & (self.person >= 0) & (self.rotation >= 0)
        roles = self.tables.role[self.person[rows]]
        np.add.at(counts, (self.rotation[rows], self.day[rows], self.slot[rows], roles), 1)
        return counts

    def windows(self) -> Ints:
        """Start days of every averaging window that overlaps the range (some reach into history)."""
        width = self.program.rules.averaging_window_days
        return np.arange(max(0, self.range_first - width + 1), self.range_last + 1)
