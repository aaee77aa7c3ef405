"""Shared building blocks of the domain types."""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

IDENTIFIER_PATTERN = r"^[A-Za-z0-9_.\-]+$"
MAX_IDENTIFIER_LENGTH = 64
MAX_NAME_LENGTH = 200

Identifier = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_IDENTIFIER_LENGTH, pattern=IDENTIFIER_PATTERN),
]
"""Ids of people, rotations and credentials: letters, digits, ``-``, ``_`` and ``.``."""


def is_identifier(value: str) -> bool:
    """Whether ``value`` is an :data:`Identifier`, for input checked outside a pydantic model."""
    return len(value) <= MAX_IDENTIFIER_LENGTH and re.fullmatch(IDENTIFIER_PATTERN, value) is not None


# Characters a name may not hold at all: C0 and C1 controls (NUL breaks PostgreSQL text; the
# others break one-line messages and terminals) and the line and paragraph separators.
_FORBIDDEN_IN_NAMES = r"\x00-\x1f\x7f-\x9f\u2028\u2029"
# Characters that print as nothing: whitespace and the invisible format and filler characters.
# A name made only of these looks blank, so it names nobody.
_BLANK_LOOKING = (
    r"\s\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202f"
    r"\u205f-\u206f\u2800\u3000\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb"
)
VISIBLE_TEXT_PATTERN = rf"^[^{_FORBIDDEN_IN_NAMES}]*[^{_BLANK_LOOKING}{_FORBIDDEN_IN_NAMES}][^{_FORBIDDEN_IN_NAMES}]*$"
"""At least one visible character and no control character. Only ``\\uXXXX`` escapes of the Basic
Multilingual Plane, so Rust (pydantic), Python (the Prefect server's JSON Schema check) and
JavaScript (the Prefect UI's forms) read the pattern the same way."""

FREE_TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
"""Comments and reasons: any text, lines and tabs included, but no other control character (C1 ones
such as CSI start terminal escapes)."""


def _no_invisible_astral_characters(value: str) -> str:
    # The tag characters and the supplementary variation selectors print as nothing too; the
    # pattern cannot name them portably (JavaScript without the u flag reads no \\U escapes).
    if all(0xE0000 <= ord(char) <= 0xE0FFF or not char.strip() for char in value):
        raise ValueError("a name needs at least one visible character")
    return value


DisplayName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_NAME_LENGTH, pattern=VISIBLE_TEXT_PATTERN),
    AfterValidator(_no_invisible_astral_characters),
]
"""A human-readable name: any text with a visible character (emoji, right-to-left scripts and
joiners inside it included), stored exactly as given; no control characters, never blank-looking."""

ActorName = Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME_LENGTH, pattern=VISIBLE_TEXT_PATTERN)]
"""Who approves or confirms in a form: a name with a visible character (the schema's pattern is
what the Prefect server and UI check, so this type adds no validator they cannot see)."""

FreeText = Annotated[str, StringConstraints(max_length=2000, pattern=FREE_TEXT_PATTERN)]
"""A comment or reason: at most 2,000 characters, lines allowed, no other control characters."""

MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2199, 12, 31)

CalendarDate = Annotated[
    date,
    Field(ge=MIN_DATE, le=MAX_DATE, description=f"A day from {MIN_DATE} to {MAX_DATE}"),
]
"""A day a schedule can hold: far from the ends of Python's calendar, so a slot's end, a 56-day
window around it and any time-zone conversion stay representable (see docs/limits.md)."""

EmailAddress = Annotated[
    str,
    StringConstraints(
        min_length=3, max_length=254, pattern=r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$"
    ),
]
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

    # A property named like str.index, which it shadows on purpose: callers read ``day.index``.
    @property
    def index(self) -> int:  # type: ignore[override]
        """Monday is 0, as ``date.weekday()`` counts."""
        return list(Weekday).index(self)

    @classmethod
    def of(cls, day: date) -> Weekday:
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
    """A service's kind: v1's session (no in-house call) or call (only in-house call), or v2's
    service (any shift kinds)."""

    SESSION = "session"
    CALL = "call"
    SERVICE = "service"
