"""Services (v1's "rotations"): what work exists, when, and who may staff it.

A v1 rotation is a service with one staffing for all its slots and weekdays. A v2 service
may give ``coverage`` instead: per shift type and set of weekdays, resident groups by PGY
(each with its own min and max) and faculty. ``Rotation`` is the service type; the block
rotations a resident is on for a block are ``rotaguard.domain.plan.BlockRotation``.
"""

from __future__ import annotations

from datetime import date

from pydantic import Field, model_validator

from rotaguard.domain.base import (
    ALL_WEEKDAYS,
    DisplayName,
    Frozen,
    Identifier,
    Role,
    RotationKind,
    Weekday,
)
from rotaguard.domain.people import MAX_CREDENTIALS, MAX_PGY, Person

MAX_STAFF_PER_SLOT = 200


class Staffing(Frozen):
    """How many people of one role a rotation needs on each of its slots."""

    min: int = Field(default=0, ge=0, le=MAX_STAFF_PER_SLOT)
    max: int = Field(default=0, ge=0, le=MAX_STAFF_PER_SLOT)

    @model_validator(mode="after")
    def _min_not_above_max(self) -> Staffing:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        return self


class ResidentStaffing(Staffing):
    pgy: tuple[int, ...] = Field(default=tuple(range(1, MAX_PGY + 1)))

    @model_validator(mode="after")
    def _pgy_levels_valid(self) -> ResidentStaffing:
        bad = [level for level in self.pgy if not 1 <= level <= MAX_PGY]
        if bad:
            raise ValueError(f"PGY levels must be 1-{MAX_PGY}, got {bad}")
        if len(set(self.pgy)) != len(self.pgy):
            raise ValueError("a PGY level is listed twice")
        return self


class Coverage(Frozen):
    """Who a service needs on one shift type on some weekdays: resident groups and faculty."""

    shift: Identifier
    days: tuple[Weekday, ...] = ALL_WEEKDAYS
    residents: tuple[ResidentStaffing, ...] = ()
    faculty: Staffing = Staffing()

    @model_validator(mode="after")
    def _groups_disjoint(self) -> Coverage:
        if not self.days:
            raise ValueError("a coverage entry needs at least one day of the week")
        if len(set(self.days)) != len(self.days):
            raise ValueError("a day of the week is listed twice")
        seen: set[int] = set()
        for group in self.residents:
            if overlap := seen & set(group.pgy):
                raise ValueError(f"resident groups overlap on PGY {sorted(overlap)}")
            seen |= set(group.pgy)
        return self

    def applies(self, day: date, shift: str) -> bool:
        return shift == self.shift and Weekday.of(day) in self.days


class Rotation(Frozen):
    """A service. ``kind`` says which shift kinds it may run (checked by the program, which knows
    the shift types): ``session`` no in-house call, ``call`` only in-house call, ``service`` any."""

    id: Identifier
    name: DisplayName
    kind: RotationKind = RotationKind.SERVICE
    slots: tuple[Identifier, ...] = ()
    days: tuple[Weekday, ...] = ALL_WEEKDAYS
    residents: ResidentStaffing = ResidentStaffing()
    faculty: Staffing = Staffing()
    credentials: tuple[Identifier, ...] = Field(default=(), max_length=MAX_CREDENTIALS)
    supervised: bool = False
    hours: float | None = Field(default=None, gt=0, le=28)
    # At-home call counts its hours but is exempt from the every-third-night rule (VI.F.8.a / 6.28).
    in_house: bool = True
    # Moonlighting counts toward the 80 hours and is refused for PGY-1 (VI.F.5.b-c / 6.25.a-b).
    moonlighting: bool = False
    coverage: tuple[Coverage, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _slots_from_coverage(cls, data: object) -> object:
        # A service given by coverage runs the shifts and weekdays its entries name.
        if isinstance(data, dict) and data.get("coverage") and not data.get("slots"):
            entries = [e if isinstance(e, Coverage) else Coverage.model_validate(e) for e in data["coverage"]]
            shifts = list(dict.fromkeys(e.shift for e in entries))
            days = [d for d in ALL_WEEKDAYS if any(d in e.days for e in entries)]
            return {**data, "coverage": tuple(entries), "slots": tuple(shifts), "days": tuple(days)}
        return data

    @model_validator(mode="after")
    def _slots_fit_kind(self) -> Rotation:
        if not self.slots:
            raise ValueError("a rotation needs at least one slot")
        if len(set(self.slots)) != len(self.slots):
            raise ValueError("a slot is listed twice")
        if not self.days:
            raise ValueError("a rotation needs at least one day of the week")
        if len(set(self.days)) != len(self.days):
            raise ValueError("a day of the week is listed twice")
        if len(set(self.credentials)) != len(self.credentials):
            raise ValueError("a credential is listed twice")
        return self

    def runs_on(self, day: date, slot: str) -> bool:
        if self.coverage:
            return any(entry.applies(day, slot) for entry in self.coverage)
        return slot in self.slots and Weekday.of(day) in self.days

    def coverage_on(self, day: date, slot: str) -> Coverage | None:
        """Who the service needs on ``slot`` of ``day``: its coverage entry, or v1's one staffing."""
        if self.coverage:
            return next((entry for entry in self.coverage if entry.applies(day, slot)), None)
        if not self.runs_on(day, slot):
            return None
        return Coverage(shift=slot, days=self.days, residents=(self.residents,), faculty=self.faculty)

    def is_call(self) -> bool:
        return self.kind is RotationKind.CALL

    def accepts(self, person: Person) -> bool:
        """Role and PGY eligibility (credentials depend on the day: see ``Person.holds``)."""
        if self.coverage:
            if person.role is Role.FACULTY:
                return any(entry.faculty.max > 0 for entry in self.coverage)
            return any(g.max > 0 and person.pgy in g.pgy for entry in self.coverage for g in entry.residents)
        if person.role is Role.FACULTY:
            return self.faculty.max > 0
        return self.residents.max > 0 and person.pgy in self.residents.pgy
