"""Frozen pydantic value types shared by solver, compliance, db and flows."""

from rotaguard.domain.base import (
    ALL_WEEKDAYS,
    MAX_DATE,
    MIN_DATE,
    SESSION_SLOTS,
    AssignmentSource,
    CalendarDate,
    EmailAddress,
    Identifier,
    Role,
    RotationKind,
    Slot,
    Weekday,
)
from rotaguard.domain.people import MAX_PGY, Credential, Person, StaffMember, StaffRole
from rotaguard.domain.program import BLOCK_DAYS, Block, Program, SlotTime, SlotTimes
from rotaguard.domain.rotations import ResidentStaffing, Rotation, Staffing
from rotaguard.domain.rules import RuleParams
from rotaguard.domain.schedule import Absence, Assignment, DutyInterval, Schedule, days_between

__all__ = [
    "ALL_WEEKDAYS",
    "BLOCK_DAYS",
    "MAX_DATE",
    "MIN_DATE",
    "MAX_PGY",
    "SESSION_SLOTS",
    "Absence",
    "Assignment",
    "AssignmentSource",
    "Block",
    "CalendarDate",
    "Credential",
    "DutyInterval",
    "EmailAddress",
    "Identifier",
    "Person",
    "Program",
    "ResidentStaffing",
    "Role",
    "Rotation",
    "RotationKind",
    "RuleParams",
    "Schedule",
    "Slot",
    "SlotTime",
    "SlotTimes",
    "StaffMember",
    "StaffRole",
    "Staffing",
    "Weekday",
    "days_between",
]
