"""Factories for synthetic test data: valid by default, overridable field by field."""

from __future__ import annotations

import copy
import json
from datetime import date

from rotaguard.domain import (
    Absence,
    Assignment,
    Credential,
    Person,
    Program,
    ResidentStaffing,
    Role,
    Rotation,
    RotationKind,
    Slot,
    Staffing,
    StaffMember,
    StaffRole,
)

BLOCK_START = date(2026, 3, 12)  # Block 10 of 2025-26, a Thursday


def resident(id: str = "R1-01", pgy: int = 1, **overrides) -> Person:
    values = {
        "id": id,
        "name": f"Resident {id}",
        "role": Role.RESIDENT,
        "pgy": pgy,
        "credentials": (Credential(name="BLS"),),
    }
    return Person(**{**values, **overrides})


def faculty(id: str = "F-01", **overrides) -> Person:
    values = {"id": id, "name": f"Faculty {id}", "role": Role.FACULTY, "credentials": (Credential(name="BLS"),)}
    return Person(**{**values, **overrides})


def session_rotation(id: str = "WARDS", **overrides) -> Rotation:
    values = {
        "id": id,
        "name": f"Rotation {id}",
        "kind": RotationKind.SESSION,
        "slots": (Slot.AM, Slot.PM),
        "residents": ResidentStaffing(min=1, max=4, pgy=(1, 2, 3)),
        "faculty": Staffing(min=1, max=2),
        "supervised": True,
    }
    return Rotation(**{**values, **overrides})


def call_rotation(id: str = "NIGHT", **overrides) -> Rotation:
    values = {
        "id": id,
        "name": f"Rotation {id}",
        "kind": RotationKind.CALL,
        "slots": (Slot.CALL,),
        "residents": ResidentStaffing(min=1, max=1, pgy=(2, 3)),
        "credentials": ("ACLS",),
    }
    return Rotation(**{**values, **overrides})


def assignment(
    person_id: str = "R1-01", day: date = BLOCK_START, slot: Slot = Slot.AM, rotation_id: str = "WARDS", **overrides
) -> Assignment:
    return Assignment(person_id=person_id, date=day, slot=slot, rotation_id=rotation_id, **overrides)


def absence(
    person_id: str = "R1-01", start: date = BLOCK_START, end: date = BLOCK_START, kind: str = "vacation"
) -> Absence:
    return Absence(person_id=person_id, start=start, end=end, kind=kind)


def program(**overrides) -> Program:
    values = {
        "name": "Synthetic Test Program",
        "people": (
            resident(),
            resident("R2-01", pgy=2, credentials=(Credential(name="BLS"), Credential(name="ACLS"))),
            faculty(),
        ),
        "rotations": (session_rotation(), call_rotation()),
        "staff": (coordinator(), coordinator("A-01", role=StaffRole.ADMIN)),
    }
    return Program(**{**values, **overrides})


def coordinator(id: str = "C-01", **overrides) -> StaffMember:
    values = {
        "id": id,
        "name": f"Coordinator {id}",
        "role": StaffRole.COORDINATOR,
        "email": f"{id.lower()}@residency.example",
    }
    return StaffMember(**{**values, **overrides})


def program_document() -> dict:
    """A small valid rotaguard-program/1 document as plain JSON data, safe to mutate."""
    return copy.deepcopy(_DOCUMENT)


def dumps(document: dict) -> str:
    return json.dumps(document, indent=2)


_DOCUMENT = {
    "format": "rotaguard-program/1",
    "program": {
        "name": "Synthetic Test Program",
        "timezone": "America/New_York",
        "slots": {
            "AM": {"start": "07:00", "hours": 6},
            "PM": {"start": "13:00", "hours": 6},
            "CALL": {"start": "19:00", "hours": 12},
        },
    },
    "rules": {"max_hours_per_week": 80},
    "people": [
        {"id": "R1-01", "name": "Resident 1-01", "role": "resident", "pgy": 1, "credentials": [{"name": "BLS"}]},
        {
            "id": "R2-01",
            "name": "Resident 2-01",
            "role": "resident",
            "pgy": 2,
            "credentials": [{"name": "BLS"}, {"name": "ACLS", "expires": "2027-06-30"}],
            "email": "r2-01@residency.example",
        },
        {"id": "F-01", "name": "Faculty 01", "role": "faculty", "credentials": [{"name": "BLS"}]},
    ],
    "staff": [
        {"id": "C-01", "name": "Coordinator 01", "role": "coordinator", "email": "c-01@residency.example"},
        {"id": "A-01", "name": "Administrator 01", "role": "admin", "email": "a-01@residency.example"},
    ],
    "rotations": [
        {
            "id": "WARDS",
            "name": "Inpatient wards",
            "kind": "session",
            "slots": ["AM", "PM"],
            "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "residents": {"min": 1, "max": 4, "pgy": [1, 2, 3]},
            "faculty": {"min": 1, "max": 2},
            "credentials": [],
            "supervised": True,
        },
        {
            "id": "NIGHT",
            "name": "Overnight call",
            "kind": "call",
            "slots": ["CALL"],
            "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "residents": {"min": 1, "max": 1, "pgy": [2, 3]},
            "faculty": {"min": 0, "max": 0},
            "credentials": ["ACLS"],
            "supervised": False,
        },
    ],
    "absences": [{"person_id": "R1-01", "start": "2026-03-15", "end": "2026-03-20", "kind": "vacation"}],
    "assignments": [
        {"person_id": "R2-01", "date": "2026-03-11", "slot": "CALL", "rotation_id": "NIGHT", "locked": True},
        {"person_id": "R1-01", "date": "2026-03-12", "slot": "AM", "rotation_id": "WARDS"},
        {"person_id": "F-01", "date": "2026-03-12", "slot": "AM", "rotation_id": "WARDS", "source": "manual"},
    ],
}
