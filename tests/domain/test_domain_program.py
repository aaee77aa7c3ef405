from datetime import date, time

import pytest
from pydantic import ValidationError

import factories
from factories import absence, assignment, call_rotation, program, session_rotation
from rotaguard.domain import Program, Schedule, Slot, SlotTime, SlotTimes


def test_block_ten_of_2025_26():
    block = program().block(2025, 10)
    assert (block.start, block.end) == (date(2026, 3, 12), date(2026, 4, 8))
    assert block.start.strftime("%A") == "Thursday" and block.end.strftime("%A") == "Wednesday"
    assert block.academic_year == "2025-26"


@pytest.mark.parametrize(
    "day, number", [(date(2026, 3, 12), 10), (date(2026, 4, 8), 10), (date(2026, 4, 9), 11), (date(2026, 3, 11), 9)]
)
def test_block_containing(day, number):
    assert program().block_containing(day).number == number


def test_block_containing_wraps_into_next_academic_year():
    block = program().block_containing(date(2026, 7, 2))
    assert (block.academic_year, block.number, block.start) == ("2026-27", 1, date(2026, 7, 2))


def test_default_slot_times():
    slots = SlotTimes()
    assert (slots.AM.start, slots.AM.hours) == (time(7), 6)
    assert (slots.PM.start, slots.PM.hours) == (time(13), 6)
    assert (slots.CALL.start, slots.CALL.hours) == (time(19), 12)


def test_call_interval_ends_next_morning_in_program_zone():
    interval = program().interval(assignment("R2-01", date(2026, 3, 12), Slot.CALL, "NIGHT"))
    assert interval.start.isoformat() == "2026-03-12T19:00:00-04:00"
    assert interval.end.isoformat() == "2026-03-13T07:00:00-04:00"
    assert interval.hours == 12


def test_call_across_spring_forward_ends_on_the_wall_clock_and_lasts_11_hours():
    # 2026-03-08 02:00 EST -> 03:00 EDT: the 19:00 call still ends at 07:00, after 11 real hours.
    interval = program().interval(assignment("R2-01", date(2026, 3, 7), Slot.CALL, "NIGHT"))
    assert interval.start.isoformat() == "2026-03-07T19:00:00-05:00"
    assert interval.end.isoformat() == "2026-03-08T07:00:00-04:00"
    assert interval.hours == 11
    assert (interval.end_utc - interval.start_utc).total_seconds() == 11 * 3600


def test_call_across_fall_back_lasts_13_hours():
    interval = program().interval(assignment("R2-01", date(2026, 10, 31), Slot.CALL, "NIGHT"))
    assert interval.end.isoformat() == "2026-11-01T07:00:00-05:00"
    assert interval.hours == 13


def test_rotation_hours_override_slot_length():
    short = program(rotations=(session_rotation(hours=4), call_rotation()))
    interval = short.interval(assignment())
    assert interval.hours == 4 and interval.end.hour == 11


def test_custom_slot_times():
    custom = program(slots=SlotTimes(AM=SlotTime(start=time(6, 30), hours=5.5)))
    interval = custom.interval(assignment())
    assert (interval.start.hour, interval.start.minute, interval.end.hour) == (6, 30, 12)


def test_unknown_timezone_rejected():
    with pytest.raises(ValidationError, match="unknown IANA time zone"):
        Program(name="x", timezone="Mars/Olympus")


def test_duplicate_ids_rejected():
    with pytest.raises(ValidationError, match="duplicate person ids"):
        program(people=(factories.resident(), factories.resident()))


def test_absence_of_unknown_person_rejected():
    with pytest.raises(ValidationError, match="absences of unknown people"):
        program(absences=(absence("NOBODY"),))


def test_absent_lookup_is_inclusive():
    p = program(absences=(absence(start=date(2026, 3, 15), end=date(2026, 3, 20)),))
    assert p.absent("R1-01", date(2026, 3, 15)) and p.absent("R1-01", date(2026, 3, 20))
    assert p.absent("R1-01", date(2026, 3, 21)) is None


def test_absence_end_before_start_rejected():
    with pytest.raises(ValidationError, match="before start"):
        absence(start=date(2026, 3, 2), end=date(2026, 3, 1))


def test_schedule_one_assignment_per_person_slot():
    with pytest.raises(ValidationError, match="two assignments"):
        Schedule(assignments=(assignment(), assignment(rotation_id="OTHER")))
    ok = Schedule(assignments=(assignment(), assignment(slot=Slot.PM)))
    assert len(ok.for_person("R1-01")) == 2


def test_schedule_between_and_sorted():
    days = [date(2026, 3, d) for d in (14, 12, 13)]
    schedule = Schedule(assignments=tuple(assignment(day=d) for d in days))
    assert [a.date.day for a in schedule.sorted().assignments] == [12, 13, 14]
    assert len(schedule.between(date(2026, 3, 13), date(2026, 3, 14)).assignments) == 2


def test_model_copy_rebuilds_lookups():
    original = program()
    assert "R1-01" in original.people_by_id
    copy = original.model_copy(update={"people": (factories.faculty(),)})
    assert set(copy.people_by_id) == {"F-01"}
