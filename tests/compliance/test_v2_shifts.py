"""The engine on a v2 program's own shift types: intervals, in-house call by shift kind,
staffing per service, shift, weekday and PGY group, N-1 by group, unknown shifts."""

from datetime import timedelta

from plan_programs import block_row, day, duty, faculty, group, plan_program, resident, service

from rotaguard.compliance import check_rule, validate
from rotaguard.domain import Coverage, Schedule, Staffing


def check(rule_id, duties, prog=None, start=None, end=None):
    prog = prog or plan_program()
    start = start or day(0)
    return check_rule(rule_id, Schedule(assignments=tuple(duties)), prog, start=start, end=end or start + timedelta(27))


# ------------------------------------------------------------------ intervals and call kinds


def test_a_24_hour_call_then_a_night_12_hours_later_breaks_the_14_hour_rest():
    # CALL24 07:00 -> 07:00 next day; NIGHT 19:00 that day leaves 12 h.
    found = check(
        "acgme.rest.after_24h", [duty("R2-01", day(0), "CALL24", "ICU"), duty("R2-01", day(1), "NIGHT", "NF")]
    )
    assert len(found) == 1 and found[0].measured == 12.0 and found[0].limit == 14.0
    # The night after that leaves 36 h.
    later = [duty("R2-01", day(0), "CALL24", "ICU"), duty("R2-01", day(2), "NIGHT", "NF")]
    assert check("acgme.rest.after_24h", later) == []


def test_a_24_hour_call_followed_by_a_day_shift_is_continuous_duty_over_24_hours():
    found = check(
        "acgme.duty.max_continuous", [duty("R2-01", day(0), "CALL24", "ICU"), duty("R2-01", day(1), "DAY", "ICU")]
    )
    assert len(found) == 1 and found[0].measured == 35.0
    assert check("acgme.duty.max_continuous", [duty("R2-01", day(0), "CALL24", "ICU")]) == []


def test_call_24_is_in_house_call_but_night_float_nights_are_not():
    calls = [duty("R2-01", day(0), "CALL24", "ICU"), duty("R2-01", day(1), "CALL24", "ICU")]
    found = check("acgme.call.consecutive_nights", calls)
    assert len(found) == 1 and found[0].date == day(1)
    nights = [duty("R2-01", day(i), "NIGHT", "NF") for i in range(5)]
    assert check("acgme.call.consecutive_nights", nights) == []
    assert check("acgme.call.every_third_night", nights) == []


def test_ten_24_hour_calls_in_28_days_break_every_third_night_and_nine_do_not():
    nine = [duty("R2-01", day(3 * i), "CALL24", "ICU") for i in range(9)]
    assert check("acgme.call.every_third_night", nine) == []
    ten = nine + [duty("R2-01", day(27), "CALL24", "ICU")]
    found = check("acgme.call.every_third_night", ten)
    assert len(found) == 1 and found[0].measured == 10


def test_in_house_call_counts_only_call_shifts_on_in_house_services():
    home = service("HOME", Coverage(shift="CALL24", residents=(group((2, 3), 0, 1),)), in_house=False)
    prog = plan_program(rotations=(*plan_program().rotations, home))
    calls = [duty("R2-01", day(0), "CALL24", "HOME"), duty("R2-01", day(1), "CALL24", "HOME")]
    assert check("acgme.call.consecutive_nights", calls, prog) == []
    report = validate(Schedule(assignments=tuple(calls)), prog, start=day(0), end=day(6), resilience=False)
    assert {p.person_id: p.calls for p in report.metrics.people}["R2-01"] == 0


def test_overlapping_shift_types_are_double_booking():
    # DAY 07:00-18:00 overlaps CLINIC_PM 13:00-17:00; NIGHT 19:00 does not.
    found = check(
        "schedule.double_booked", [duty("R1-01", day(6), "DAY", "WARDS"), duty("R1-01", day(6), "CLINIC_PM", "CLINIC")]
    )
    assert len(found) == 1 and found[0].slot == "CLINIC_PM"
    assert (
        check("schedule.double_booked", [duty("R1-01", day(6), "DAY", "WARDS"), duty("R1-01", day(6), "NIGHT", "NF")])
        == []
    )


def test_a_duty_on_a_shift_the_program_does_not_have_is_an_unknown_reference():
    found = check("schedule.unknown_reference", [duty("R1-01", day(0), "SWING", "WARDS")])
    assert len(found) == 1 and found[0].tier == 1 and "unknown shift" in found[0].message
    assert check("schedule.unknown_reference", [duty("R1-01", day(0), "DAY", "WARDS")]) == []


def test_unknown_shift_rows_stay_out_of_the_hours():
    report = validate(
        Schedule(assignments=(duty("R1-01", day(0), "SWING", "WARDS"),)), plan_program(), start=day(0), end=day(0)
    )
    assert {p.person_id: p.hours for p in report.metrics.people}["R1-01"] == 0


# ------------------------------------------------------------------ staffing by PGY group


def test_coverage_gaps_and_maximum_per_pgy_group():
    # WARDS/DAY needs 1..2 PGY-1 and 1..1 PGY-2/3, and 1..2 faculty.
    people = (
        resident(),
        resident("R1-02"),
        resident("R1-03"),
        resident("R2-01", pgy=2),
        resident("R3-01", pgy=3),
        faculty(),
    )
    prog = plan_program(people=people, plan=())
    two_seniors = [
        duty("R2-01", day(0), "DAY", "WARDS"),
        duty("R3-01", day(0), "DAY", "WARDS"),
        duty("F-01", day(0), "DAY", "WARDS"),
    ]
    report = validate(Schedule(assignments=tuple(two_seniors)), prog, start=day(0), end=day(0), resilience=False)
    wards = [(g.pgy, g.role, g.required, g.assigned) for g in report.coverage_gaps if g.rotation_id == "WARDS"]
    assert wards == [((1,), "residents", 1, 0)]
    above = [v for v in report.violations if v.rule_id == "staffing.above_max"]
    assert [(v.rotation_id, v.slot, v.measured, v.limit) for v in above] == [("WARDS", "DAY", 2.0, 1.0)]
    assert "residents PGY-2/3" in above[0].message

    one_each = [
        duty("R1-01", day(0), "DAY", "WARDS"),
        duty("R2-01", day(0), "DAY", "WARDS"),
        duty("F-01", day(0), "DAY", "WARDS"),
    ]
    report = validate(Schedule(assignments=tuple(one_each)), prog, start=day(0), end=day(0), resilience=False)
    assert [g for g in report.coverage_gaps if g.rotation_id == "WARDS"] == []
    assert not [v for v in report.violations if v.rule_id == "staffing.above_max"]
    # The PGY-1 group's maximum is 2: three is one too many, two is not.
    three = [duty(p, day(0), "DAY", "WARDS") for p in ("R1-01", "R1-02", "R1-03")]
    assert [v.measured for v in check("staffing.above_max", three, prog, end=day(0))] == [3.0]
    assert check("staffing.above_max", three[:2], prog, end=day(0)) == []


def test_demand_coverage_counts_each_group_minimum():
    prog = plan_program(plan=(), people=(resident(), resident("R2-01", pgy=2), faculty()))
    one_each = [duty("R1-01", day(0), "DAY", "WARDS"), duty("F-01", day(0), "DAY", "WARDS")]
    report = validate(Schedule(assignments=tuple(one_each)), prog, start=day(0), end=day(0), resilience=False)
    # Only WARDS/DAY has minimums: PGY-1 1, PGY-2/3 1, faculty 1; two of three are there.
    assert report.metrics.demand_coverage == round(2 / 3, 4)


def test_coverage_gap_json_keeps_v1_shape_and_adds_the_pgy_group_for_v2():
    prog = plan_program(plan=())
    data = validate(Schedule(), prog, start=day(0), end=day(0), resilience=False).as_json()
    assert {tuple(g["pgy"]) for g in data["coverage_gaps"] if g["role"] == "residents"} == {(1,), (2, 3)}
    assert all("pgy" not in g for g in data["coverage_gaps"] if g["role"] == "faculty")


def test_a_service_is_staffed_only_on_its_coverage_weekdays():
    saturday = day(3)
    assert saturday.weekday() == 5
    found = check("schedule.rotation_calendar", [duty("R1-01", saturday, "CLINIC_PM", "CLINIC")])
    assert len(found) == 1 and found[0].tier == 2
    assert check("schedule.rotation_calendar", [duty("R1-01", day(2), "CLINIC_PM", "CLINIC")]) == []  # Friday


def test_supervision_on_a_v2_service():
    found = check("program.supervision", [duty("R1-01", day(0), "DAY", "WARDS")])
    assert len(found) == 1 and found[0].slot == "DAY" and (found[0].measured, found[0].limit) == (0, 1)
    supervised = [duty("R1-01", day(0), "DAY", "WARDS"), duty("F-01", day(0), "DAY", "WARDS")]
    assert check("program.supervision", supervised) == []


def test_n1_needs_a_substitute_from_the_lost_persons_pgy_group():
    wards = service(
        "WARDS",
        Coverage(shift="DAY", residents=(group((1,), 1, 2), group((2, 3), 0, 2)), faculty=Staffing(min=0, max=2)),
    )
    prog_rotations = (wards, *plan_program().rotations[1:])
    # Everyone on the WARDS rotation, so only the PGY group decides who may step in.
    on_wards = (block_row("R1-01", "WARDS"), block_row("R1-02", "WARDS"), block_row("R2-01", "WARDS"))
    people = (resident(), resident("R2-01", pgy=2))
    senior_only = plan_program(rotations=prog_rotations, people=people, plan=(on_wards[0], on_wards[2]))
    report = validate(
        Schedule(assignments=(duty("R1-01", day(0), "DAY", "WARDS"),)), senior_only, start=day(0), end=day(0)
    )
    assert report.metrics.n1_compliant is False
    assert report.resilience[0].uncovered == (f"WARDS {day(0)} DAY (resident PGY-1)",)
    another_intern = plan_program(rotations=prog_rotations, people=(resident(), resident("R1-02")), plan=on_wards[:2])
    report = validate(
        Schedule(assignments=(duty("R1-01", day(0), "DAY", "WARDS"),)), another_intern, start=day(0), end=day(0)
    )
    assert report.metrics.n1_compliant is True


def test_eligibility_follows_the_coverage_of_the_shift():
    # ICU takes PGY-2/3 on its 24-hour call and anyone on its day shift.
    icu = service(
        "ICU",
        Coverage(shift="CALL24", residents=(group((2, 3), 0, 1),)),
        Coverage(shift="DAY", residents=(group((1, 2, 3), 0, 1),)),
    )
    prog = plan_program(rotations=(*(r for r in plan_program().rotations if r.id != "ICU"), icu), plan=())
    found = check("schedule.eligibility", [duty("R1-01", day(0), "CALL24", "ICU")], prog)
    assert len(found) == 1 and "does not take PGY-1 on this shift" in found[0].message
    assert check("schedule.eligibility", [duty("R1-01", day(0), "DAY", "ICU")], prog) == []
    assert check("schedule.eligibility", [duty("R2-01", day(0), "CALL24", "ICU")], prog) == []
