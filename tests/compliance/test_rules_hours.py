"""Duty hours, days off, continuous duty, rest and call: each rule at its exact boundary."""

from datetime import date, time, timedelta

from factories import BLOCK_START, assignment, call_rotation, program, resident, session_rotation
from rotaguard.compliance import check_rule, validate
from rotaguard.domain import Credential, RuleParams, Schedule, Slot, SlotTime, SlotTimes

ACLS = (Credential(name="BLS"), Credential(name="ACLS"))


def days(n: int, start: date = BLOCK_START) -> list[date]:
    return [start + timedelta(days=i) for i in range(n)]


def half_days(person: str, count: int, start: date = BLOCK_START) -> list:
    """``count`` half days, AM then PM, day after day."""
    out = []
    for i in range(count):
        out.append(assignment(person, start + timedelta(days=i // 2), Slot.AM if i % 2 == 0 else Slot.PM))
    return out


def check(rule_id, assignments, prog=None, start=BLOCK_START, end=None, params=None):
    prog = prog or program()
    return check_rule(
        rule_id,
        Schedule(assignments=tuple(assignments)),
        prog,
        params,
        start=start,
        end=end or start + timedelta(days=27),
    )


# ------------------------------------------------------------------ 80 hours over 28 days


def _spread_half_days(person: str, count: int) -> list:
    """``count`` half days over 28 days leaving 4 days free (so only the hours rule can fire)."""
    out = []
    for day in days(24):
        for slot in (Slot.AM, Slot.PM):
            if len(out) < count:
                out.append(assignment(person, day, slot))
    return out


def test_53_half_days_318_hours_pass():
    assert (
        check(
            "acgme.hours.max_80_per_week",
            _spread_half_days("R1-01", 48)
            + [
                assignment("R1-01", d, s) for d in days(3, BLOCK_START + timedelta(days=24)) for s in (Slot.AM, Slot.PM)
            ][:5],
        )
        == []
    )


def test_54_half_days_324_hours_fail_with_a_sentence():
    schedule = _spread_half_days("R1-01", 48) + [
        assignment("R1-01", d, s) for d in days(3, BLOCK_START + timedelta(days=24)) for s in (Slot.AM, Slot.PM)
    ]
    found = check("acgme.hours.max_80_per_week", schedule)
    assert len(found) == 1
    violation = found[0]
    assert (violation.measured, violation.limit, violation.person_id) == (324.0, 320.0, "R1-01")
    assert violation.message == "R1-01 worked 324.0 h in the 28 days 2026-03-12..2026-04-08; limit 320.0 h"
    assert violation.tier == 1 and violation.severity == "error"


def _eight_hour_program():
    """AM 06:00-14:00 and PM 14:00-22:00 (16 h a day), and a 30-minute CALL at 22:00."""
    slots = SlotTimes(
        AM=SlotTime(start=time(6), hours=8),
        PM=SlotTime(start=time(14), hours=8),
        CALL=SlotTime(start=time(22), hours=0.5),
    )
    anyone_call = call_rotation(residents={"min": 0, "max": 1, "pgy": (1, 2, 3)}, credentials=())
    return program(slots=slots, rotations=(session_rotation(), anyone_call))


def test_exactly_320_hours_pass_and_320_5_fail():
    prog = _eight_hour_program()
    twenty_days = [assignment("R1-01", d, s) for d in days(20) for s in (Slot.AM, Slot.PM)]
    assert check("acgme.hours.max_80_per_week", twenty_days, prog) == []
    extra = twenty_days + [assignment("R1-01", BLOCK_START, Slot.CALL, "NIGHT")]
    found = check("acgme.hours.max_80_per_week", extra, prog)
    assert [v.measured for v in found] == [320.5]


def test_history_before_the_range_counts():
    """27 heavy days of history plus one day in the range break the window that straddles the start."""
    history_start = BLOCK_START - timedelta(days=27)
    history = [assignment("R1-01", d, s) for d in days(26, history_start) for s in (Slot.AM, Slot.PM)]  # 312 h
    in_range = [assignment("R1-01", BLOCK_START, Slot.AM), assignment("R1-01", BLOCK_START, Slot.PM)]  # 12 h
    found = check("acgme.hours.max_80_per_week", history + in_range)
    assert len(found) == 1 and found[0].measured == 324.0
    assert found[0].window_start == history_start and found[0].window_end == BLOCK_START
    # The same history alone is not the range's violation.
    assert check("acgme.hours.max_80_per_week", history) == []


def test_hours_are_clipped_at_window_edges():
    """A call from 19:00 the night before the window counts only its 7 hours inside it."""
    prog = program(people=(resident("R2-01", pgy=2, credentials=ACLS),))
    first_window_day = BLOCK_START
    before = assignment("R2-01", first_window_day - timedelta(days=1), Slot.CALL, "NIGHT")
    # 312 h on the last 26 days of the window BLOCK_START..+27, none on its first two days.
    inside = [
        assignment("R2-01", d, s) for d in days(26, first_window_day + timedelta(days=2)) for s in (Slot.AM, Slot.PM)
    ]
    # 312 + 7 = 319 in the window starting at BLOCK_START: within the limit (unclipped it would be 324).
    assert (
        check("acgme.hours.max_80_per_week", [before, *inside], prog, start=first_window_day, end=first_window_day)
        == []
    )
    one_more = [before, *inside, assignment("R2-01", first_window_day, Slot.PM)]  # + 6 = 325
    found = check("acgme.hours.max_80_per_week", one_more, prog, start=first_window_day, end=first_window_day)
    assert [v.measured for v in found] == [325.0]


def test_approaching_limit_is_a_tier2_warning():
    fifty_one = _spread_half_days("R1-01", 48) + [
        assignment("R1-01", BLOCK_START + timedelta(days=24), Slot.AM),
        assignment("R1-01", BLOCK_START + timedelta(days=24), Slot.PM),
        assignment("R1-01", BLOCK_START + timedelta(days=25), Slot.AM),
    ]
    found = check("acgme.hours.approaching_limit", fifty_one)  # 306 h > 300 h
    assert len(found) == 1 and found[0].tier == 2 and found[0].measured == 306.0
    assert check("acgme.hours.approaching_limit", _spread_half_days("R1-01", 48)) == []  # 288 h


def test_faculty_have_their_own_weekly_maximum():
    faculty_heavy = [assignment("F-01", d, s) for d in days(27) for s in (Slot.AM, Slot.PM)]  # 324 h
    assert check("acgme.hours.max_80_per_week", faculty_heavy) == []
    found = check("institution.faculty_hours", faculty_heavy)
    assert len(found) == 1 and found[0].person_id == "F-01" and found[0].tier == 2


# ------------------------------------------------------------------ days off


def test_four_free_days_pass_three_fail():
    worked = [assignment("R1-01", d, Slot.AM) for d in days(24)]
    assert check("acgme.days_off.one_in_seven", worked) == []
    found = check(
        "acgme.days_off.one_in_seven", worked + [assignment("R1-01", BLOCK_START + timedelta(days=24), Slot.AM)]
    )
    assert len(found) == 1 and (found[0].measured, found[0].limit) == (3.0, 4.0)


def test_a_call_ending_in_the_morning_takes_that_day_too():
    prog = program(people=(resident("R2-01", pgy=2, credentials=ACLS),))
    worked = [assignment("R2-01", d, Slot.AM) for d in days(23)]
    # Day 23 worked by a call that ends on day 24 at 07:00: days 24-27 leave only 3 free.
    call = assignment("R2-01", BLOCK_START + timedelta(days=23), Slot.CALL, "NIGHT")
    found = check("acgme.days_off.one_in_seven", worked + [call], prog)
    assert len(found) == 1 and found[0].measured == 3.0


def test_strict_one_in_seven_six_days_pass_seven_fail():
    strict = RuleParams(strict_one_in_seven=True)
    six = [assignment("R1-01", d, Slot.AM) for d in days(6)]
    assert check("acgme.days_off.seven_consecutive", six, params=strict) == []
    seven = [assignment("R1-01", d, Slot.AM) for d in days(7)]
    found = check("acgme.days_off.seven_consecutive", seven, params=strict)
    assert len(found) == 1 and found[0].measured == 7.0
    assert check("acgme.days_off.seven_consecutive", seven) == []  # the option is off by default


# ------------------------------------------------------------------ continuous duty and rest


def test_24_hour_call_passes_and_30_hours_fail():
    prog = program(people=(resident("R2-01", pgy=2, credentials=ACLS),))
    call_day = [
        assignment("R2-01", BLOCK_START, Slot.AM),
        assignment("R2-01", BLOCK_START, Slot.PM),
        assignment("R2-01", BLOCK_START, Slot.CALL, "NIGHT"),
    ]
    assert check("acgme.duty.max_continuous", call_day, prog) == []
    found = check(
        "acgme.duty.max_continuous", call_day + [assignment("R2-01", BLOCK_START + timedelta(days=1), Slot.AM)], prog
    )
    assert len(found) == 1 and (found[0].measured, found[0].limit) == (30.0, 24.0)


def test_24_hours_pass_and_24_5_fail():
    prog = program(
        people=(resident("R2-01", pgy=2, credentials=ACLS),), rotations=(session_rotation(), call_rotation(hours=12.5))
    )
    longer = [
        assignment("R2-01", BLOCK_START, Slot.AM),
        assignment("R2-01", BLOCK_START, Slot.PM),
        assignment("R2-01", BLOCK_START, Slot.CALL, "NIGHT"),
    ]
    assert [v.measured for v in check("acgme.duty.max_continuous", longer, prog)] == [24.5]


def _late_call_program():
    """AM 07-13, PM 13-21, CALL 21-07: a 24 h day ends at 07:00, and the next CALL starts 14 h later."""
    slots = SlotTimes(
        AM=SlotTime(start=time(7), hours=6),
        PM=SlotTime(start=time(13), hours=8),
        CALL=SlotTime(start=time(21), hours=10),
    )
    return program(people=(resident("R2-01", pgy=2, credentials=ACLS),), slots=slots)


def test_exactly_14_hours_after_24_hours_pass():
    long_day = [assignment("R2-01", BLOCK_START, s, "NIGHT" if s is Slot.CALL else "WARDS") for s in Slot]
    next_call = assignment("R2-01", BLOCK_START + timedelta(days=1), Slot.CALL, "NIGHT")
    params = RuleParams(forbid_consecutive_calls=False)
    assert check("acgme.rest.after_24h", long_day + [next_call], _late_call_program(), params=params) == []


def test_duty_6_hours_after_24_hours_fails():
    long_day = [assignment("R2-01", BLOCK_START, s, "NIGHT" if s is Slot.CALL else "WARDS") for s in Slot]
    afternoon = assignment("R2-01", BLOCK_START + timedelta(days=1), Slot.PM)
    found = check("acgme.rest.after_24h", long_day + [afternoon], _late_call_program())
    assert len(found) == 1 and (found[0].measured, found[0].limit) == (6.0, 14.0)


def test_default_program_call_the_next_night_is_only_12_hours_later():
    prog = program(people=(resident("R2-01", pgy=2, credentials=ACLS),))
    long_day = [assignment("R2-01", BLOCK_START, s, "NIGHT" if s is Slot.CALL else "WARDS") for s in Slot]
    found = check(
        "acgme.rest.after_24h",
        long_day + [assignment("R2-01", BLOCK_START + timedelta(days=1), Slot.CALL, "NIGHT")],
        prog,
    )
    assert [v.measured for v in found] == [12.0]
    assert (
        check("acgme.rest.after_24h", long_day + [assignment("R2-01", BLOCK_START + timedelta(days=2), Slot.AM)], prog)
        == []
    )


def test_eight_hours_between_duties_is_tier2():
    # PM ends 19:00; a CALL-slot duty of another kind at 03:00 would be 8 h later.
    slots = SlotTimes(CALL=SlotTime(start=time(3), hours=2))
    prog = program(
        slots=slots,
        rotations=(session_rotation(), call_rotation(residents={"min": 0, "max": 1, "pgy": (1, 2, 3)}, credentials=())),
    )
    pm = assignment("R1-01", BLOCK_START, Slot.PM)
    eight_later = assignment("R1-01", BLOCK_START + timedelta(days=1), Slot.CALL, "NIGHT")  # 03:00 next day
    assert check("acgme.rest.between_duties", [pm, eight_later], prog) == []
    earlier_slots = SlotTimes(CALL=SlotTime(start=time(2, 30), hours=2))
    prog2 = prog.model_copy(update={"slots": earlier_slots})
    found = check("acgme.rest.between_duties", [pm, eight_later], prog2)
    assert len(found) == 1 and found[0].measured == 7.5 and found[0].tier == 2


# ------------------------------------------------------------------ call


def _calls(person: str, offsets: list[int]) -> list:
    return [assignment(person, BLOCK_START + timedelta(days=o), Slot.CALL, "NIGHT") for o in offsets]


def test_nine_calls_in_28_days_pass_ten_fail():
    prog = program(people=(resident("R2-01", pgy=2, credentials=ACLS),))
    nine = _calls("R2-01", list(range(0, 27, 3)))
    assert len(nine) == 9 and check("acgme.call.every_third_night", nine, prog) == []
    ten = _calls("R2-01", list(range(0, 28, 3)))
    found = check("acgme.call.every_third_night", ten, prog)
    assert len(ten) == 10 and len(found) == 1 and (found[0].measured, found[0].limit) == (10.0, 9.0)


def test_consecutive_nights_fail_every_other_night_passes():
    prog = program(people=(resident("R2-01", pgy=2, credentials=ACLS),))
    assert check("acgme.call.consecutive_nights", _calls("R2-01", [0, 2, 4]), prog) == []
    found = check("acgme.call.consecutive_nights", _calls("R2-01", [0, 1]), prog)
    assert len(found) == 1 and found[0].date == BLOCK_START + timedelta(days=1)


def test_at_home_call_is_exempt_from_the_call_rules_but_counts_hours():
    home = call_rotation(in_house=False)
    prog = program(people=(resident("R2-01", pgy=2, credentials=ACLS),), rotations=(session_rotation(), home))
    every_night = _calls("R2-01", list(range(0, 28)))
    assert check("acgme.call.every_third_night", every_night, prog) == []
    assert check("acgme.call.consecutive_nights", every_night, prog) == []
    assert check("acgme.hours.max_80_per_week", every_night, prog)  # 336 h


# ------------------------------------------------------------------ daylight saving


def test_daylight_saving_week_counts_real_hours():
    """Spring forward on 2026-03-08: the 19:00-07:00 call that night lasts 11 h, not 12."""
    prog = program(people=(resident("R2-01", pgy=2, credentials=ACLS),))
    start = date(2026, 3, 2)
    dst_call = assignment("R2-01", date(2026, 3, 7), Slot.CALL, "NIGHT")
    report = validate(Schedule(assignments=(dst_call,)), prog, start=start, end=date(2026, 3, 29), resilience=False)
    load = next(p for p in report.metrics.people if p.person_id == "R2-01")
    assert load.hours == 11.0
    # The 11-hour call followed by the 07:00 half days is one 23-hour period: allowed.
    day_after = [
        dst_call,
        assignment("R2-01", date(2026, 3, 8), Slot.AM),
        assignment("R2-01", date(2026, 3, 8), Slot.PM),
    ]
    assert check("acgme.duty.max_continuous", day_after, prog, start=start, end=date(2026, 3, 29)) == []
    assert check("schedule.double_booked", day_after, prog, start=start, end=date(2026, 3, 29)) == []


def test_fall_back_call_counts_13_hours():
    prog = program(people=(resident("R2-01", pgy=2, credentials=ACLS),))
    night = assignment("R2-01", date(2026, 10, 31), Slot.CALL, "NIGHT")
    report = validate(
        Schedule(assignments=(night,)), prog, start=date(2026, 10, 26), end=date(2026, 11, 1), resilience=False
    )
    assert next(p for p in report.metrics.people if p.person_id == "R2-01").hours == 13.0
