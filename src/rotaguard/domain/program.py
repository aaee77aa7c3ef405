"""The program: its clock (time zone, slot times, 28-day blocks) and everything it holds."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, cached_property
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AfterValidator, Field, model_validator

from rotaguard.domain.base import CalendarDate, DisplayName, Frozen, Slot
from rotaguard.domain.people import Person, StaffMember
from rotaguard.domain.rotations import Rotation
from rotaguard.domain.rules import RuleParams
from rotaguard.domain.schedule import Absence, Assignment, DutyInterval

BLOCK_DAYS = 28
BLOCKS_PER_YEAR = 13
# Block 1 of 2025-26 starts on Thursday 2025-07-03, so Block 10 is 2026-03-12 .. 2026-04-08.
DEFAULT_BLOCK_ANCHOR = date(2025, 7, 3)


@cache
def _known_zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def is_valid_timezone(name: str) -> bool:
    if name not in _known_zone_names():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _known_timezone(value: str) -> str:
    if not is_valid_timezone(value):
        raise ValueError(f"unknown IANA time zone {value!r}")
    return value


TimeZoneName = Annotated[str, AfterValidator(_known_timezone)]
"""An IANA time zone name such as ``America/New_York``."""


class SlotTime(Frozen):
    start: time
    hours: float = Field(gt=0, le=24)


class SlotTimes(Frozen):
    AM: SlotTime = SlotTime(start=time(7, 0), hours=6)
    PM: SlotTime = SlotTime(start=time(13, 0), hours=6)
    CALL: SlotTime = SlotTime(start=time(19, 0), hours=12)

    def of(self, slot: Slot) -> SlotTime:
        slot_time: SlotTime = getattr(self, slot.value)
        return slot_time


class Block(Frozen):
    """One 28-day academic block, ``start`` .. ``end`` inclusive."""

    academic_year: str
    number: int
    start: date
    end: date


def _duplicates(values: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    dupes: set[str] = set()
    for value in values:
        if value in seen:
            dupes.add(value)
        seen.add(value)
    return sorted(dupes)


_CACHED_LOOKUPS = ("zone", "people_by_id", "rotations_by_id")


class Program(Frozen):
    """A whole residency program: settings, people, rotations, absences and rules."""

    name: DisplayName
    timezone: TimeZoneName = "America/New_York"
    slots: SlotTimes = SlotTimes()
    block_anchor: CalendarDate = DEFAULT_BLOCK_ANCHOR
    rules: RuleParams = RuleParams()
    people: tuple[Person, ...] = ()
    rotations: tuple[Rotation, ...] = ()
    absences: tuple[Absence, ...] = ()
    staff: tuple[StaffMember, ...] = ()

    @model_validator(mode="after")
    def _references_resolve(self) -> Program:
        for kind, ids in (("person", [p.id for p in self.people]), ("rotation", [r.id for r in self.rotations])):
            if dupes := _duplicates(ids):
                raise ValueError(f"duplicate {kind} ids: {dupes}")
        # One id names one actor, whether a scheduled person or a staff member.
        if dupes := _duplicates([p.id for p in self.people] + [s.id for s in self.staff]):
            raise ValueError(f"ids used by both a person and a staff member, or twice: {dupes}")
        unknown = sorted({a.person_id for a in self.absences} - {p.id for p in self.people})
        if unknown:
            raise ValueError(f"absences of unknown people: {unknown}")
        return self

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Program:
        """A copy whose lookups are rebuilt: the cached ones would describe the original."""
        copy = super().model_copy(update=update, deep=deep)
        for name in _CACHED_LOOKUPS:
            copy.__dict__.pop(name, None)
        return copy

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def people_by_id(self) -> dict[str, Person]:
        return {person.id: person for person in self.people}

    @cached_property
    def rotations_by_id(self) -> dict[str, Rotation]:
        return {rotation.id: rotation for rotation in self.rotations}

    def person(self, person_id: str) -> Person:
        return self.people_by_id[person_id]

    def rotation(self, rotation_id: str) -> Rotation:
        return self.rotations_by_id[rotation_id]

    def absent(self, person_id: str, day: date) -> Absence | None:
        return next((a for a in self.absences if a.person_id == person_id and a.covers(day)), None)

    def hours_for(self, rotation_id: str, slot: Slot) -> float:
        """A duty's length: the rotation's own hours when it sets them, else the slot's."""
        rotation = self.rotations_by_id.get(rotation_id)
        if rotation is not None and rotation.hours is not None:
            return rotation.hours
        return self.slots.of(slot).hours

    def hours_of(self, assignment: Assignment) -> float:
        return self.hours_for(assignment.rotation_id, assignment.slot)

    def interval_start(self, day: date, slot: Slot) -> datetime:
        """The slot's wall-clock start on ``day`` in the program's time zone."""
        return datetime.combine(day, self.slots.of(slot).start, tzinfo=self.zone)

    def interval_bounds(self, day: date, slot: Slot, hours: float) -> tuple[datetime, datetime]:
        """Start and end on the wall clock, as shifts are rostered: a 19:00 call of 12 h ends
        at 07:00 even across a daylight-saving change, when it really lasts 11 or 13 h."""
        naive_start = datetime.combine(day, self.slots.of(slot).start)
        naive_end = naive_start + timedelta(hours=hours)
        start = naive_start.replace(tzinfo=self.zone)
        # A wall time that does not exist (skipped by the clock change) is read with the
        # offset in force before it; normalising through UTC moves it onto the real clock.
        end = naive_end.replace(tzinfo=self.zone).astimezone(UTC).astimezone(self.zone)
        return start, end

    def interval(self, assignment: Assignment) -> DutyInterval:
        """When the duty happens; ``hours`` is the time that really elapses (ACGME counts it)."""
        start, end = self.interval_bounds(assignment.date, assignment.slot, self.hours_of(assignment))
        return DutyInterval(
            start=start, end=end, hours=(end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() / 3600
        )

    def block_containing(self, day: date) -> Block:
        offset = (day - self.block_anchor).days
        year_index, day_in_year = divmod(offset, BLOCK_DAYS * BLOCKS_PER_YEAR)
        number = day_in_year // BLOCK_DAYS + 1
        return self.block(self.block_anchor.year + year_index, number)

    def block(self, academic_year_start: int, number: int) -> Block:
        """Block ``number`` (1-13) of the academic year starting in ``academic_year_start``."""
        if not 1 <= number <= BLOCKS_PER_YEAR:
            raise ValueError(f"block number must be 1-{BLOCKS_PER_YEAR}, got {number}")
        years = academic_year_start - self.block_anchor.year
        start = self.block_anchor + timedelta(days=years * BLOCK_DAYS * BLOCKS_PER_YEAR + (number - 1) * BLOCK_DAYS)
        label = f"{academic_year_start}-{(academic_year_start + 1) % 100:02d}"
        return Block(academic_year=label, number=number, start=start, end=start + timedelta(days=BLOCK_DAYS - 1))
