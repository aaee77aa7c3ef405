"""The block layer: rotations a resident is on for a block, their duty patterns, the plan,
the academic year, the curriculum, requests, holidays and faculty attending rows.

See docs/model.md. Patterns are data: the solver and the compliance engine read the same
values, and the expected work of a plan row comes from one function, :func:`expected_count`.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from enum import StrEnum

from pydantic import Field, ValidationInfo, field_validator, model_validator

from rotaguard.domain.base import (
    ALL_WEEKDAYS,
    AssignmentSource,
    CalendarDate,
    DisplayName,
    Frozen,
    Identifier,
    Weekday,
)
from rotaguard.domain.people import MAX_CREDENTIALS, MAX_PGY

MAX_PER_BLOCK = 62  # two duties a day for 31 days: a bound that keeps hostile documents small
MAX_CAPACITY = 500


def _no_duplicates(values: tuple[object, ...], what: str) -> None:
    if len(set(values)) != len(values):
        raise ValueError(f"{what} is listed twice")


def _valid_pgy_levels(levels: tuple[int, ...]) -> tuple[int, ...]:
    bad = [level for level in levels if not 1 <= level <= MAX_PGY]
    if bad:
        raise ValueError(f"PGY levels must be 1-{MAX_PGY}, got {bad}")
    _no_duplicates(levels, "a PGY level")
    return levels


class Count(Frozen):
    """An inclusive range of a count: ``min`` .. ``max``."""

    min: int = Field(default=0, ge=0, le=MAX_PER_BLOCK)
    max: int = Field(default=0, ge=0, le=MAX_PER_BLOCK)

    @model_validator(mode="after")
    def _min_not_above_max(self) -> Count:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        return self


class PatternDuty(Frozen):
    """One kind of duty a rotation's people work: a shift on a service, on some weekdays."""

    service: Identifier
    shift: Identifier
    days: tuple[Weekday, ...] = ALL_WEEKDAYS
    per_block: Count = Count(min=0, max=MAX_PER_BLOCK)
    # Consecutive days of this duty come in runs of min..max (night float: exactly 5).
    runs: Count | None = None
    # At most one such duty in any ``every`` consecutive days (24-hour call every 4th day: q4).
    every: int | None = Field(default=None, ge=2, le=28)

    @model_validator(mode="after")
    def _sane(self) -> PatternDuty:
        if not self.days:
            raise ValueError("a pattern duty needs at least one day of the week")
        _no_duplicates(self.days, "a day of the week")
        if self.runs is not None and self.runs.min < 1:
            raise ValueError("a run is at least 1 day long")
        return self


class DutyPattern(Frozen):
    duties: tuple[PatternDuty, ...] = ()
    # Calendar days no duty touches, in each 7-day week of the row (besides the ACGME's own rules).
    days_off_per_week: int = Field(default=1, ge=0, le=7)

    @model_validator(mode="after")
    def _one_entry_per_duty(self) -> DutyPattern:
        _no_duplicates(tuple((d.service, d.shift) for d in self.duties), "a (service, shift) pair of the pattern")
        return self


class Capacity(Frozen):
    """How many residents of some PGY levels a rotation takes per block."""

    pgy: tuple[int, ...] = Field(default=tuple(range(1, MAX_PGY + 1)))
    min: int = Field(default=0, ge=0, le=MAX_CAPACITY)
    max: int = Field(default=MAX_CAPACITY, ge=0, le=MAX_CAPACITY)

    @field_validator("pgy")
    @classmethod
    def _levels(cls, levels: tuple[int, ...]) -> tuple[int, ...]:
        return _valid_pgy_levels(levels)

    @model_validator(mode="after")
    def _min_not_above_max(self) -> Capacity:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        return self


class BlockRotation(Frozen):
    """What a resident is on for a block or half-block (Wards, Night float, ICU, an elective)."""

    id: Identifier
    name: DisplayName
    pgy: tuple[int, ...] = Field(default=tuple(range(1, MAX_PGY + 1)))
    credentials: tuple[Identifier, ...] = Field(default=(), max_length=MAX_CREDENTIALS)
    capacity: tuple[Capacity, ...] = ()
    # Whether the weekly continuity clinic, vacation and the protected didactics happen on it.
    clinic: bool = True
    vacation: bool = True
    didactics: bool = True
    pattern: DutyPattern = DutyPattern()

    @field_validator("pgy")
    @classmethod
    def _levels(cls, levels: tuple[int, ...]) -> tuple[int, ...]:
        return _valid_pgy_levels(levels)

    @model_validator(mode="after")
    def _capacity_groups_disjoint(self) -> BlockRotation:
        seen: set[int] = set()
        for group in self.capacity:
            if overlap := seen & set(group.pgy):
                raise ValueError(f"capacity groups overlap on PGY {sorted(overlap)}")
            seen |= set(group.pgy)
        _no_duplicates(self.credentials, "a credential")
        return self

    @property
    def heavy(self) -> bool:
        """An inpatient-style rotation: neither continuity clinic nor vacation happens on it (wards,
        ICU, night float, the emergency department). The year planner spreads these (no more than
        ``RuleParams.max_heavy_blocks_in_a_row`` in a row) and shares them fairly within a class."""
        return not self.clinic and not self.vacation

    def capacity_for(self, pgy: int) -> Capacity | None:
        return next((group for group in self.capacity if pgy in group.pgy), None)

    def pattern_duty(self, service: str, shift: str) -> PatternDuty | None:
        return next((d for d in self.pattern.duties if d.service == service and d.shift == shift), None)


class PlanEntry(Frozen):
    """One row of the block schedule: ``person_id`` is on ``rotation_id`` from ``start`` to ``end``."""

    person_id: Identifier
    start: CalendarDate
    end: CalendarDate
    rotation_id: Identifier
    locked: bool = False
    source: AssignmentSource = AssignmentSource.IMPORT

    @field_validator("end")
    @classmethod
    def _end_not_before_start(cls, end: date, info: ValidationInfo) -> date:
        start = info.data.get("start")
        if start is not None and end < start:
            raise ValueError(f"end {end} is before start {start}")
        return end

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


class WeeklySession(Frozen):
    """A half day that repeats every week: a resident's continuity clinic, the academic half day."""

    day: Weekday
    shift: Identifier


class CurriculumRequirement(Frozen):
    """Per PGY class and rotation: blocks over the year (half-blocks count a half)."""

    pgy: int = Field(ge=1, le=MAX_PGY)
    rotation: Identifier
    min_blocks: float = Field(default=0, ge=0, le=13)
    max_blocks: float = Field(default=13, ge=0, le=13)
    max_consecutive: int | None = Field(default=None, ge=1, le=13)
    # Rotations whose first block must not come before this rotation's first block.
    before: tuple[Identifier, ...] = ()

    @model_validator(mode="after")
    def _min_not_above_max(self) -> CurriculumRequirement:
        if self.min_blocks > self.max_blocks:
            raise ValueError(f"min_blocks ({self.min_blocks}) is above max_blocks ({self.max_blocks})")
        return self


class RequestKind(StrEnum):
    VACATION = "vacation"
    DAY_OFF = "day_off"
    ROTATION = "rotation"


class ProgramRequest(Frozen):
    """A resident's wish: vacation weeks, a day off, a rotation in some block."""

    person_id: Identifier
    kind: RequestKind
    start: CalendarDate
    end: CalendarDate
    priority: int = Field(default=1, ge=1, le=9)
    weight: int = Field(default=1, ge=1, le=100)
    rotation_id: Identifier | None = None

    @model_validator(mode="after")
    def _sane(self) -> ProgramRequest:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        if (self.kind is RequestKind.ROTATION) != (self.rotation_id is not None):
            raise ValueError("a rotation request names a rotation_id; other requests do not")
        return self


class Holiday(Frozen):
    date: CalendarDate
    name: DisplayName


class AttendingAssignment(Frozen):
    """A faculty member attends ``service_id`` from ``start`` to ``end`` (attending weeks, precepting)."""

    person_id: Identifier
    service_id: Identifier
    start: CalendarDate
    end: CalendarDate

    @model_validator(mode="after")
    def _ordered(self) -> AttendingAssignment:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


class BlockDates(Frozen):
    number: int = Field(ge=1, le=26)
    start: CalendarDate
    end: CalendarDate

    @model_validator(mode="after")
    def _ordered(self) -> BlockDates:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        if (self.end - self.start).days + 1 > 42:
            raise ValueError("a block is at most 42 days long")
        return self

    def halves(self) -> tuple[tuple[date, date], tuple[date, date]]:
        """The two half-blocks; on an odd length the first half is the shorter."""
        first_len = ((self.end - self.start).days + 1) // 2
        middle = self.start + timedelta(days=first_len)
        return (self.start, middle - timedelta(days=1)), (middle, self.end)


class AcademicYear(Frozen):
    label: DisplayName
    blocks: tuple[BlockDates, ...]

    @model_validator(mode="after")
    def _contiguous(self) -> AcademicYear:
        if not self.blocks:
            raise ValueError("an academic year needs at least one block")
        ordered = sorted(self.blocks, key=lambda b: b.start)
        for earlier, later in zip(ordered, ordered[1:], strict=False):
            if later.start <= earlier.end:
                raise ValueError(f"blocks {earlier.number} and {later.number} overlap")
            if later.start != earlier.end + timedelta(days=1):
                raise ValueError(f"a gap between blocks {earlier.number} and {later.number}")
        _no_duplicates(tuple(b.number for b in self.blocks), "a block number")
        return self


def required_blocks(requirement: CurriculumRequirement, present_blocks: int, year_blocks: int) -> tuple[int, int]:
    """The whole blocks of ``requirement.rotation`` a resident present for ``present_blocks`` of the
    year's ``year_blocks`` must have (min, max): the minimum prorated and rounded down (a leave of
    absence or a late start carries the rest into extended training), the maximum as written.
    The year planner and the compliance engine both read this."""
    low = math.floor(requirement.min_blocks + 1e-9)
    if year_blocks > 0 and present_blocks < year_blocks:
        low = math.floor(requirement.min_blocks * present_blocks / year_blocks + 1e-9)
    return low, math.floor(requirement.max_blocks + 1e-9)


def expected_count(per_block: int, present_days: int, block_days: int) -> int:
    """A pattern's count for a row: prorated by the days present out of the block's days."""
    if block_days <= 0:
        return 0
    return round(per_block * present_days / block_days)


def allowed_count(per_block: int, present_days: int, block_days: int) -> int:
    """The hard maximum for a row: prorated and rounded up, so a prorated minimum always fits."""
    if block_days <= 0:
        return 0
    return min(per_block, math.ceil(per_block * present_days / block_days))


__all__ = [
    "AcademicYear",
    "AttendingAssignment",
    "BlockDates",
    "BlockRotation",
    "Capacity",
    "Count",
    "CurriculumRequirement",
    "DutyPattern",
    "Holiday",
    "PatternDuty",
    "PlanEntry",
    "ProgramRequest",
    "RequestKind",
    "WeeklySession",
    "allowed_count",
    "expected_count",
    "required_blocks",
]
