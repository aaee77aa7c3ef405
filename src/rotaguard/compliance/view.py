"""A schedule as arrays: every duty in whole seconds since the epoch, grouped by person.

Built once per check; every rule reads it. Seconds are integers so that a call ending at
07:00 and a half day starting at 07:00 meet exactly and merge into one duty period.

Slot codes are indices into ``program.shift_ids`` (a v1 program's are AM, PM, CALL: codes
0, 1, 2 as before); a duty naming a shift the program does not have gets code -1 and, like
one naming an unknown person or service, stays out of every timeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import SupportsIndex, overload

import numpy as np
from numpy.typing import NDArray

from rotaguard.domain import MAX_PGY, Assignment, Person, Program, Rotation, Schedule

HOUR = 3600
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
# The level axis of head counts: 0 is faculty, 1..MAX_PGY the residents' PGY levels.
FACULTY_LEVEL = 0
LEVELS = MAX_PGY + 1
RESIDENT_LEVELS = tuple(range(1, LEVELS))


@dataclass(frozen=True)
class Group:
    """One head count a service needs on a shift: a group of residents by PGY level, or faculty."""

    levels: tuple[int, ...]  # on the level axis: (0,) for faculty
    minimum: int
    maximum: int
    # The PGY levels of a v2 coverage group; None for a v1 service, whose one staffing counts every
    # resident (as v1 always did) and for faculty.
    pgy: tuple[int, ...] | None = None

    @property
    def faculty(self) -> bool:
        return self.levels == (FACULTY_LEVEL,)

    @property
    def role(self) -> str:
        return "faculty" if self.faculty else "residents"

    def label(self) -> str:
        """``residents``, ``faculty``, or ``residents PGY-1`` / ``residents PGY-2/3`` for a v2 group."""
        if self.pgy is None:
            return self.role
        return f"residents PGY-{'/'.join(str(level) for level in self.pgy)}"

    def takes(self, level: int) -> bool:
        return level in self.levels


Cell = tuple[Group, ...]
"""The groups one service needs on one shift of one weekday: resident groups, then faculty."""


@dataclass(frozen=True)
class GroupTable:
    """One group of a service (its PGY levels, or faculty) across every weekday and shift, as
    arrays, so a rule compares whole [day, slot] head counts at once."""

    group: Group  # one of its cells' groups (levels, role and label are the same in all)
    present: Flags  # [weekday, slot] the cell has this group
    minimum: Ints  # [weekday, slot]
    maximum: Ints  # [weekday, slot]
    position: Ints  # [weekday, slot] its index among the cell's groups


def _group_tables(cells: tuple[tuple[Cell, ...], ...], slots: int) -> tuple[GroupTable, ...]:
    by_levels: dict[tuple[int, ...], tuple[Group, Flags, Ints, Ints, Ints]] = {}
    for weekday, row in enumerate(cells):
        for slot, cell in enumerate(row):
            for position, group in enumerate(cell):
                if group.levels not in by_levels:
                    zeros = np.zeros((7, slots), dtype=np.int64)
                    by_levels[group.levels] = (
                        group,
                        np.zeros((7, slots), dtype=bool),
                        zeros,
                        zeros.copy(),
                        zeros.copy(),
                    )
                _, present, minimum, maximum, at = by_levels[group.levels]
                present[weekday, slot] = True
                minimum[weekday, slot], maximum[weekday, slot], at[weekday, slot] = (
                    group.minimum,
                    group.maximum,
                    position,
                )
    return tuple(GroupTable(*values) for values in by_levels.values())


def _groups(rotation: Rotation, day: date, shift: str) -> Cell:
    """Who ``rotation`` needs on ``shift`` of ``day``'s weekday.

    A v1 service has its one staffing on every cell, run or not (its maximum and, for N-1, its
    minimum applied everywhere in v1; demand counts only the cells it runs). A v2 service has
    groups only where a coverage entry applies."""
    if not rotation.coverage:
        return (
            Group(RESIDENT_LEVELS, rotation.residents.min, rotation.residents.max),
            Group((FACULTY_LEVEL,), rotation.faculty.min, rotation.faculty.max),
        )
    entry = rotation.coverage_on(day, shift)
    if entry is None:
        return ()
    residents = tuple(Group(tuple(g.pgy), g.min, g.max, pgy=tuple(sorted(g.pgy))) for g in entry.residents)
    return (*residents, Group((FACULTY_LEVEL,), entry.faculty.min, entry.faculty.max))


@dataclass(frozen=True)
class ProgramTables:
    """Per person, service and shift facts as arrays, so rules look them up instead of looping."""

    accepts: Flags  # [person, rotation] role and PGY eligibility
    valid_until: Ints  # [person, rotation] last grid day all required credentials hold
    runs: Flags  # [rotation, weekday, slot] the rotation is staffed then
    moonlighting: Flags  # [rotation]
    role: Ints  # [person] PGY1, SENIOR or FACULTY
    level: Ints  # [person] FACULTY_LEVEL or the PGY level
    shifts: tuple[str, ...]  # slot code -> shift id
    in_house_call: Flags  # [rotation + 1, slot + 1] in-house call; the trailing row and column are for code -1
    runs_call: Flags  # [rotation, slot] an in-house call shift the service runs (who is call-eligible)
    session: Flags  # [slot + 1] a half-day session shift (AM, PM in v1); the trailing entry is for code -1
    groups: tuple[tuple[tuple[Cell, ...], ...], ...]  # [rotation][weekday][slot]
    group_tables: tuple[tuple[GroupTable, ...], ...]  # [rotation]
    # [rotation, weekday, slot, level] the cell takes the level: a v2 service's coverage on that
    # shift and weekday has a group of it with room (a v1 service's one staffing: ``accepts``).
    cell_takes: Flags

    @classmethod
    def of(cls, program: Program, grid: DayGrid) -> ProgramTables:
        people, rotations, shifts = program.people, program.rotations, program.shift_ids
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
        # Services run by weekday and shift: one date of each weekday stands for all of them.
        weekdays = [grid.first + timedelta(days=(w - grid.first.weekday()) % 7) for w in range(7)]
        runs = np.zeros((len(rotations), 7, len(shifts)), dtype=bool)
        for j, rotation in enumerate(rotations):
            for w, day in enumerate(weekdays):
                for s, shift in enumerate(shifts):
                    runs[j, w, s] = rotation.runs_on(day, shift)
        groups = tuple(
            tuple(tuple(_groups(rotation, day, shift) for shift in shifts) for day in weekdays)
            for rotation in rotations
        )
        cell_takes = np.ones((len(rotations), 7, len(shifts), LEVELS), dtype=bool)
        for j, rotation in enumerate(rotations):
            for w in range(7):
                for s_, cell in enumerate(groups[j][w]):
                    if rotation.coverage and cell:
                        cell_takes[j, w, s_] = [
                            any(g.takes(lv) and g.maximum > 0 for g in cell) for lv in range(LEVELS)
                        ]
        in_house_call = np.zeros((len(rotations) + 1, len(shifts) + 1), dtype=bool)
        call_shifts = np.zeros((len(rotations), len(shifts)), dtype=bool)
        for j, rotation in enumerate(rotations):
            for s, shift in enumerate(shifts):
                in_house_call[j, s] = program.is_in_house_call(rotation.id, shift)
                call_shifts[j, s] = in_house_call[j, s] and shift in rotation.slots
        session = np.array([program.shift(shift).is_session for shift in shifts] + [False], dtype=bool)
        role = np.array([PGY1 if p.pgy == 1 else SENIOR if p.is_resident else FACULTY for p in people], dtype=np.int64)
        level = np.array([p.pgy if p.is_resident and p.pgy else FACULTY_LEVEL for p in people], dtype=np.int64)
        moonlighting = np.array([r.moonlighting for r in rotations], dtype=bool)
        return cls(
            accepts=accepts,
            valid_until=valid_until,
            runs=runs,
            moonlighting=moonlighting,
            role=role,
            level=level,
            shifts=shifts,
            in_house_call=in_house_call,
            runs_call=call_shifts,
            session=session,
            groups=groups,
            group_tables=tuple(_group_tables(cells, len(shifts)) for cells in groups),
            cell_takes=cell_takes,
        )


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
        self.shift_ids = program.shift_ids
        self.shift_index = {shift: i for i, shift in enumerate(self.shift_ids)}
        self.person = np.array([self.person_index.get(a.person_id, -1) for a in assignments], dtype=np.int64)
        self.rotation = np.array([self.rotation_index.get(a.rotation_id, -1) for a in assignments], dtype=np.int64)
        self.day = np.array([a.date.toordinal() for a in assignments], dtype=np.int64) - self.grid.first.toordinal()
        self.slot = np.array([self.shift_index.get(a.slot, -1) for a in assignments], dtype=np.int64)
        # Times repeat for every (day, slot, rotation): compute each once, not once per assignment.
        bounds: dict[tuple[date, str, str], tuple[int, int]] = {}

        def span(assignment: Assignment) -> tuple[int, int]:
            if assignment.slot not in self.shift_index:
                return (0, 0)  # an unknown shift has no time; a rule reports the row
            key = (assignment.date, assignment.slot, assignment.rotation_id)
            found = bounds.get(key)
            if found is None:
                hours = program.hours_for(assignment.rotation_id, assignment.slot)
                began, ended = program.interval_bounds(assignment.date, assignment.slot, hours)
                found = bounds[key] = (_seconds(began), _seconds(ended))
            return found

        spans = np.array([span(a) for a in assignments], dtype=np.int64).reshape(len(assignments), 2)
        self.start_s, self.end_s = spans[:, 0].copy(), spans[:, 1].copy()
        self.tables = ProgramTables.of(program, self.grid)
        self.in_house_call = self.tables.in_house_call[self.rotation, self.slot]  # code -1 picks the trailing False
        self.unknown = [int(row) for row in np.flatnonzero((self.person < 0) | (self.rotation < 0) | (self.slot < 0))]
        self.in_range = (self.day >= self.range_first) & (self.day <= self.range_last)
        # Rows naming an unknown person, service or shift stay out of every timeline (a rule reports them).
        owner = np.where((self.rotation >= 0) & (self.slot >= 0), self.person, -1)
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
    def staffing_levels(self) -> Ints:
        """[rotation, day, slot, level] head counts of the in-range assignments (level 0 is faculty)."""
        counts = np.zeros((len(self.rotations), self.grid.size, len(self.shift_ids), LEVELS), dtype=np.int64)
        rows = self.in_range & (self.person >= 0) & (self.rotation >= 0) & (self.slot >= 0)
        levels = self.tables.level[self.person[rows]]
        np.add.at(counts, (self.rotation[rows], self.day[rows], self.slot[rows], levels), 1)
        return counts

    @cached_property
    def staffing(self) -> Ints:
        """[rotation, day, slot, role] head counts of the in-range assignments: PGY1, SENIOR, FACULTY."""
        levels = self.staffing_levels
        return np.stack((levels[..., 1], levels[..., 2:].sum(axis=-1), levels[..., FACULTY_LEVEL]), axis=-1).astype(
            np.int64
        )

    def group_count(self, rotation: int, days: Ints | int, slot: int, group: Group) -> Ints:
        """How many of ``group`` work ``rotation``'s ``slot`` on each of ``days``."""
        counts: Ints = self.staffing_levels[rotation, days, slot][..., list(group.levels)].sum(axis=-1)
        return counts

    @cached_property
    def range_weekdays(self) -> Ints:
        """The weekday of each day of the judged range."""
        weekdays: Ints = np.asarray(self.grid.weekday(np.arange(self.range_first, self.range_last + 1)), dtype=np.int64)
        return weekdays

    def range_group_counts(self, rotation: int, table: GroupTable) -> Ints:
        """[range day, slot] head counts of ``table``'s group on ``rotation``."""
        levels = self.staffing_levels[rotation, self.range_first : self.range_last + 1]
        counts: Ints = levels[..., list(table.group.levels)].sum(axis=-1)
        return counts

    def cell(self, rotation: int, day: int, slot: int) -> Cell:
        """The groups ``rotation`` needs on ``slot`` of grid day ``day``."""
        return self.tables.groups[rotation][int(self.grid.weekday(day))][slot]

    @cached_property
    def rows_by_key(self) -> dict[tuple[str, date, str], int]:
        """(person, day, shift) -> the row of that duty (a schedule holds at most one)."""
        return {a.key: row for row, a in enumerate(self.assignments)}

    @cached_property
    def absent_grid(self) -> Flags:
        """[person, grid day] the person is absent."""
        absent = np.zeros((len(self.people), self.grid.size), dtype=bool)
        for a in self.program.absences:
            person = self.person_index.get(a.person_id)
            if person is not None:
                first = max(0, self.grid.index(a.start))
                absent[person, first : max(first, self.grid.index(a.end) + 1)] = True
        return absent

    @cached_property
    def absent_days(self) -> frozenset[tuple[str, date]]:
        """(person, day) of every absence day inside the grid."""
        first, last = self.grid.first, self.grid.day(self.grid.size - 1)
        return frozenset(
            (a.person_id, first + timedelta(days=offset))
            for a in self.program.absences
            for offset in range(max(0, (a.start - first).days), min((a.end - first).days, (last - first).days) + 1)
        )

    def windows(self) -> Ints:
        """Start days of every averaging window that overlaps the range (some reach into history)."""
        width = self.program.rules.averaging_window_days
        return np.arange(max(0, self.range_first - width + 1), self.range_last + 1)
