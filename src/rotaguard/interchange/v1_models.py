"""The rotations and assignments of a ``rotaguard-program/1`` document, as v1 defined them.

The domain moved on (services with coverage, any shift type id as a duty's slot), but the v1
document is frozen: a rotation is a ``session`` on AM/PM or a ``call`` on CALL, and a slot is
one of AM, PM, CALL. These models keep its schema and its messages; the document converts them
to and from the domain's ``Rotation`` (a service) and ``Assignment`` (a duty). The class names
are the schema's ``$defs`` names, hence ``Rotation`` and ``Assignment`` here too.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import Field, model_validator

from rotaguard.domain import Assignment as Duty
from rotaguard.domain import AssignmentSource, ResidentStaffing, Slot, Staffing, Weekday
from rotaguard.domain import Rotation as Service
from rotaguard.domain import RotationKind as ServiceKind
from rotaguard.domain.base import ALL_WEEKDAYS, SESSION_SLOTS, CalendarDate, DisplayName, Frozen, Identifier
from rotaguard.domain.people import MAX_CREDENTIALS


class RotationKind(StrEnum):
    SESSION = "session"
    CALL = "call"


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
    in_house: bool = True
    moonlighting: bool = False

    @model_validator(mode="after")
    def _slots_fit_kind(self) -> Rotation:
        if not self.slots:
            raise ValueError("a rotation needs at least one slot")
        if len(set(self.slots)) != len(self.slots):
            raise ValueError("a slot is listed twice")
        if self.kind is RotationKind.SESSION and not set(self.slots) <= SESSION_SLOTS:
            raise ValueError("a session rotation runs on AM and PM slots only")
        if self.kind is RotationKind.CALL and set(self.slots) != {Slot.CALL}:
            raise ValueError("a call rotation runs on the CALL slot only")
        if not self.days:
            raise ValueError("a rotation needs at least one day of the week")
        if len(set(self.days)) != len(self.days):
            raise ValueError("a day of the week is listed twice")
        if len(set(self.credentials)) != len(self.credentials):
            raise ValueError("a credential is listed twice")
        return self

    def to_service(self) -> Service:
        return Service(
            id=self.id,
            name=self.name,
            kind=ServiceKind(self.kind.value),
            slots=tuple(slot.value for slot in self.slots),
            days=self.days,
            residents=self.residents,
            faculty=self.faculty,
            credentials=self.credentials,
            supervised=self.supervised,
            hours=self.hours,
            in_house=self.in_house,
            moonlighting=self.moonlighting,
        )

    @classmethod
    def from_service(cls, service: Service) -> Rotation:
        """The v1 rotation for a service; ValueError when v1 cannot say it (coverage, other shifts)."""
        if service.coverage or service.kind is ServiceKind.SERVICE:
            raise ValueError(f"service {service.id} has no v1 form: export it as rotaguard-program/2")
        return cls(
            id=service.id,
            name=service.name,
            kind=RotationKind(service.kind.value),
            slots=tuple(Slot(slot) for slot in service.slots),
            days=service.days,
            residents=service.residents,
            faculty=service.faculty,
            credentials=service.credentials,
            supervised=service.supervised,
            hours=service.hours,
            in_house=service.in_house,
            moonlighting=service.moonlighting,
        )


_Date = date  # inside Assignment, ``date`` names the field, not the type


class Assignment(Frozen):
    """One person on one rotation for one slot of one day."""

    person_id: Identifier
    date: CalendarDate
    slot: Slot
    rotation_id: Identifier
    source: AssignmentSource = AssignmentSource.IMPORT
    locked: bool = False

    @property
    def key(self) -> tuple[str, _Date, str]:
        return (self.person_id, self.date, self.slot.value)

    def to_duty(self) -> Duty:
        return Duty(
            person_id=self.person_id,
            date=self.date,
            slot=self.slot.value,
            rotation_id=self.rotation_id,
            source=self.source,
            locked=self.locked,
        )

    @classmethod
    def from_duty(cls, duty: Duty) -> Assignment:
        return cls(
            person_id=duty.person_id,
            date=duty.date,
            slot=Slot(duty.slot),
            rotation_id=duty.rotation_id,
            source=duty.source,
            locked=duty.locked,
        )


__all__ = ["Assignment", "Rotation", "RotationKind"]
