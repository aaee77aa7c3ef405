from datetime import date

import pytest
from pydantic import ValidationError

from factories import call_rotation, faculty, program, resident, session_rotation
from rotaguard.domain import ResidentStaffing, RotationKind, Slot, Staffing, Weekday


def test_staffing_min_above_max_rejected():
    with pytest.raises(ValidationError, match=r"min \(3\) is above max \(2\)"):
        Staffing(min=3, max=2)


# A service's kind is checked against the program's shift types, which only the program knows.
def test_session_rotation_cannot_use_call_slot():
    with pytest.raises(ValidationError, match="a session rotation runs no call"):
        program(rotations=(session_rotation(slots=(Slot.AM, Slot.CALL)),))
    assert program(rotations=(session_rotation(slots=(Slot.AM, Slot.PM)),)).rotations


def test_call_rotation_uses_call_slot_only():
    with pytest.raises(ValidationError, match="a call rotation runs only call"):
        program(rotations=(call_rotation(slots=(Slot.AM,)),))
    assert call_rotation().kind is RotationKind.CALL
    assert program(rotations=(call_rotation(),)).rotations


def test_pgy_levels_must_be_valid():
    with pytest.raises(ValidationError, match="PGY levels must be 1-8"):
        ResidentStaffing(min=0, max=1, pgy=(0, 2))


def test_runs_on_checks_weekday_and_slot():
    clinic = session_rotation(days=(Weekday.MON, Weekday.TUE))
    monday = date(2026, 3, 16)
    assert monday.weekday() == 0
    assert clinic.runs_on(monday, Slot.AM)
    assert not clinic.runs_on(monday, Slot.CALL)
    assert not clinic.runs_on(date(2026, 3, 18), Slot.AM)  # Wednesday


def test_accepts_by_role_and_pgy():
    night = call_rotation()
    assert not night.accepts(resident(pgy=1))
    assert night.accepts(resident("R2-01", pgy=2))
    assert not night.accepts(faculty())  # faculty max is 0
    assert session_rotation().accepts(faculty())
