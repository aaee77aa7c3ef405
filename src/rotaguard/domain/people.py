"""People: residents (PGY 1-8) and faculty, with their credentials."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import Field, ValidationInfo, field_validator, model_validator

from rotaguard.domain.base import DisplayName, EmailAddress, Frozen, Identifier, Role, Weekday

MAX_PGY = 8
# A limit that keeps a hostile document small; real people hold a handful (BLS, ACLS, PALS, ...).
MAX_CREDENTIALS = 100


class Credential(Frozen):
    """A certification such as BLS or ACLS; ``expires`` is the last valid day, inclusive."""

    name: Identifier
    expires: date | None = None

    def valid_on(self, day: date) -> bool:
        return self.expires is None or day <= self.expires


class ClinicSession(Frozen):
    """A resident's fixed weekly continuity-clinic half day: a weekday and a shift type."""

    day: Weekday
    shift: Identifier


class Person(Frozen):
    id: Identifier
    name: DisplayName
    role: Role
    pgy: int | None = Field(default=None, ge=1, le=MAX_PGY, validate_default=True)
    credentials: tuple[Credential, ...] = Field(default=(), max_length=MAX_CREDENTIALS)
    active: bool = True
    email: EmailAddress | None = Field(default=None, description="Where swap notifications go")
    # Worked every week the person is present on a rotation with clinic (docs/model.md).
    clinic: ClinicSession | None = None

    @field_validator("pgy")
    @classmethod
    def _pgy_matches_role(cls, pgy: int | None, info: ValidationInfo) -> int | None:
        role = info.data.get("role")
        if role is Role.RESIDENT and pgy is None:
            raise ValueError(f"a resident needs a PGY level (1-{MAX_PGY})")
        if role is Role.FACULTY and pgy is not None:
            raise ValueError("faculty have no PGY level")
        return pgy

    @field_validator("credentials")
    @classmethod
    def _credentials_in_name_order(cls, credentials: tuple[Credential, ...]) -> tuple[Credential, ...]:
        # One canonical order, so equal people compare equal whatever order a file listed them in.
        return tuple(sorted(credentials, key=lambda credential: credential.name))

    @model_validator(mode="after")
    def _credentials_unique(self) -> Person:
        names = [credential.name for credential in self.credentials]
        if len(names) != len(set(names)):
            raise ValueError("a credential is listed twice")
        return self

    @property
    def is_resident(self) -> bool:
        return self.role is Role.RESIDENT

    def holds(self, credential: str, on: date) -> bool:
        """True when the person holds ``credential`` and it has not expired by ``on``."""
        return any(c.name == credential and c.valid_on(on) for c in self.credentials)

    def missing_credentials(self, required: tuple[str, ...], on: date) -> tuple[str, ...]:
        return tuple(name for name in required if not self.holds(name, on))


class StaffRole(StrEnum):
    """Who may act on other people's schedules (residents and faculty act on their own)."""

    ADMIN = "admin"
    COORDINATOR = "coordinator"


class StaffMember(Frozen):
    """A program coordinator or administrator: not scheduled, but may act for anyone."""

    id: Identifier
    name: DisplayName
    role: StaffRole
    email: EmailAddress | None = None
    active: bool = True
