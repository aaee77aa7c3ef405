"""Rotation templates: what work exists, when, and who may staff it."""

from __future__ import annotations

from datetime import date

from pydantic import Field, model_validator

from rotaguard.domain.base import (
    ALL_WEEKDAYS,
    SESSION_SLOTS,
    DisplayName,
    Frozen,
    Identifier,
    Role,
    RotationKind,
    Slot,
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


class Rotation(Frozen):
    id: Identifier
    name: DisplayName
    kind: RotationKind
    slots: tuple[Slot, ...]
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
        if self.kind is RotationKind.SESSION and not set(self.slots) <= SESSION_SLOTS:
            raise ValueError("a session rotation runs on AM and PM slots only")
        if self.kind is RotationKind.CALL and set(self.slots) != {Slot.CALL}:
            raise ValueError("a call rotation runs on the CALL slot only")
        return self

    def runs_on(self, day: date, slot: Slot) -> bool:
        return slot in self.slots and Weekday.of(day) in self.days

    def is_call(self) -> bool:
        return self.kind is RotationKind.CALL

    def accepts(self, person: Person) -> bool:
        """Role and PGY eligibility (credentials depend on the day: see ``Person.holds``)."""
        if person.role is Role.FACULTY:
            return self.faculty.max > 0
        return self.residents.max > 0 and person.pgy in self.residents.pgy
