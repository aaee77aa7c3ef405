"""Shared building blocks of the domain types."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

IDENTIFIER_PATTERN = r"^[A-Za-z0-9_.\-]+$"
MAX_IDENTIFIER_LENGTH = 64
MAX_NAME_LENGTH = 200

Identifier = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_IDENTIFIER_LENGTH, pattern=IDENTIFIER_PATTERN),
]
"""Ids of people, rotations and credentials: letters, digits, ``-``, ``_`` and ``.``."""

DisplayName = Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME_LENGTH, pattern=r"^[^\x00-\x1f\x7f]+$")]
"""A human-readable name: any printable text, no control characters."""

EmailAddress = Annotated[str, StringConstraints(min_length=3, max_length=254, pattern=r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$")]
"""Where notifications go: one ``@`` between a local part and a dotted domain, no spaces."""


class Frozen(BaseModel):
    """Base of every domain value: immutable, strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Slot(StrEnum):
    AM = "AM"
    PM = "PM"
    CALL = "CALL"


SESSION_SLOTS = frozenset({Slot.AM, Slot.PM})


class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"

    @property
    def index(self) -> int:
        """Monday is 0, as ``date.weekday()`` counts."""
        return list(Weekday).index(self)

    @classmethod
    def of(cls, day) -> "Weekday":
        return list(cls)[day.weekday()]


ALL_WEEKDAYS = tuple(Weekday)


class Role(StrEnum):
    RESIDENT = "resident"
    FACULTY = "faculty"


class AssignmentSource(StrEnum):
    IMPORT = "import"
    MANUAL = "manual"
    SOLVER = "solver"
    SWAP = "swap"


class RotationKind(StrEnum):
    SESSION = "session"
    CALL = "call"
