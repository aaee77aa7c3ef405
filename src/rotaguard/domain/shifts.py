"""Shift types: named pieces of work with their own local start, length and kind.

A v1 program has three program-wide slots (AM, PM, CALL); they are the shift types
``AM`` and ``PM`` (half days) and ``CALL`` (an overnight in-house call). A v2 program
names its own: ``DAY`` 07:00 for 11 h, ``NIGHT`` 19:00 for 12 h, ``CALL24`` 07:00 for 24 h.
An assignment's ``slot`` holds the id of its shift type.
"""

from __future__ import annotations

from datetime import time
from enum import StrEnum

from pydantic import Field, model_validator

from rotaguard.domain.base import DisplayName, Frozen, Identifier, Slot


class ShiftKind(StrEnum):
    HALF_DAY = "half_day"
    DAY = "day"
    NIGHT = "night"
    # An overnight in-house call (v1's CALL): the every-third-night and consecutive-night rules apply.
    CALL = "call"
    # A 24-hour in-house call that starts in the morning; 14 h free after it (VI.F.3.a.(1) / 6.22.a).
    CALL_24 = "call_24"
    CLINIC = "clinic"
    DIDACTICS = "didactics"
    # At-home call counts its hours but is exempt from the every-third-night rule (VI.F.8.a / 6.28).
    HOME_CALL = "home_call"


# Kinds that are in-house call for the every-third-night and consecutive-night rules.
CALL_KINDS = frozenset({ShiftKind.CALL, ShiftKind.CALL_24})
# Kinds that fill one half day of the clinic week (sessions).
SESSION_KINDS = frozenset({ShiftKind.HALF_DAY, ShiftKind.CLINIC, ShiftKind.DIDACTICS})
MAX_TRANSITION_HOURS = 4


class ShiftType(Frozen):
    id: Identifier
    name: DisplayName
    kind: ShiftKind
    start: time
    hours: float = Field(gt=0, le=28)
    # The ACGME's transition allowance after a 24-hour call: not scheduled time, at most 4 h.
    transition_hours: float = Field(default=0, ge=0, le=MAX_TRANSITION_HOURS)

    @model_validator(mode="after")
    def _transition_only_after_24h_call(self) -> ShiftType:
        if self.transition_hours and self.kind is not ShiftKind.CALL_24:
            raise ValueError("only a call_24 shift has transition hours")
        if self.kind is ShiftKind.CALL_24 and self.hours + self.transition_hours > 28:
            raise ValueError(f"a 24-hour call of {self.hours} h plus {self.transition_hours} h transition exceeds 28 h")
        if self.hours > 24 and self.kind is not ShiftKind.CALL_24:
            raise ValueError(f"a {self.kind.value} shift of {self.hours} h is longer than 24 h")
        return self

    @property
    def is_call(self) -> bool:
        return self.kind in CALL_KINDS

    @property
    def is_session(self) -> bool:
        return self.kind in SESSION_KINDS


def v1_shift_types(am: tuple[time, float], pm: tuple[time, float], call: tuple[time, float]) -> tuple[ShiftType, ...]:
    """The shift types a v1 program's three slots stand for."""
    return (
        ShiftType(id=Slot.AM.value, name="Morning session", kind=ShiftKind.HALF_DAY, start=am[0], hours=am[1]),
        ShiftType(id=Slot.PM.value, name="Afternoon session", kind=ShiftKind.HALF_DAY, start=pm[0], hours=pm[1]),
        ShiftType(id=Slot.CALL.value, name="Overnight call", kind=ShiftKind.CALL, start=call[0], hours=call[1]),
    )


__all__ = ["CALL_KINDS", "SESSION_KINDS", "ShiftKind", "ShiftType", "v1_shift_types"]
