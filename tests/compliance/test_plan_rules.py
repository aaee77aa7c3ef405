"""The block-layer rules and fill_rate, each at its exact boundary, on tiny v2 programs."""

from datetime import timedelta

from plan_programs import (
    BLOCKS,
    YEAR_START,
    block_row,
    day,
    duty,
    half_row,
    plan_program,
    resident,
    row,
)

from factories import BLOCK_START, program
from factories import assignment as v1_assignment
from rotaguard.compliance import RULES, check_rule, validate
from rotaguard.domain import Absence, CurriculumRequirement, Schedule, Slot

NEW_RULES = {
    "plan.outside_rotation": 1,
    "plan.capacity": 2,
    "curriculum.requirements": 2,
    "clinic.missed": 2,
    "didactics.conflict": 2,
}
TUESDAY, WEDNESDAY, SATURDAY = day(6), day(0), day(3)  # 2026-07-07, 07-01, 07-04


def check(rule_id, duties=(), prog=None, start=None, end=None):
    prog = prog or plan_program()
    start = start or day(0)
    return check_rule(rule_id, Schedule(assignments=tuple(duties)), prog, start=start, end=end or start + timedelta(27))


def on(rotation_id, person="R1-01", **overrides):
    """The default program with ``person`` on ``rotation_id`` for the whole year."""
    plan = tuple(block_row(person, rotation_id, b) for b in range(3))
    others = tuple(block_row("R2-01", "ICU", b) for b in range(3)) if person != "R2-01" else ()
    return plan_program(plan=plan + others, **overrides)


def test_the_new_rules_are_registered_with_tier_and_citation():
    for rule_id, tier in NEW_RULES.items():
        rule = RULES[rule_id]
        assert rule.tier == tier and rule.cites and rule.title


def test_the_block_rules_do_not_judge_a_v1_program():
    v1 = program()
    schedule = Schedule(assignments=(v1_assignment("R1-01", BLOCK_START, Slot.AM),))
    for rule_id in NEW_RULES:
        assert check_rule(rule_id, schedule, v1, start=BLOCK_START, end=BLOCK_START + timedelta(27)) == []


# ------------------------------------------------------------------ plan.outside_rotation


def test_a_duty_of_the_planned_rotations_pattern_is_inside_and_another_services_is_outside():
    assert check("plan.outside_rotation", [duty("R1-01", day(1), "DAY", "WARDS")]) == []
    found = check("plan.outside_rotation", [duty("R1-01", day(1), "DAY", "ICU")])
    assert len(found) == 1 and found[0].tier == 1 and found[0].rotation_id == "ICU" and "WARDS" in found[0].message


def test_a_pattern_duty_on_a_weekday_the_pattern_leaves_out_is_outside():
    friday, saturday = day(2), day(3)
    assert check("plan.outside_rotation", [duty("R1-01", friday, "AM", "AMB")], on("AMB")) == []
    assert len(check("plan.outside_rotation", [duty("R1-01", saturday, "AM", "AMB")], on("AMB"))) == 1


def test_a_duty_on_a_day_without_a_plan_row_is_outside():
    prog = plan_program(plan=(row("R1-01", "WARDS", day(0), day(9)),))
    assert check("plan.outside_rotation", [duty("R1-01", day(9), "DAY", "WARDS")], prog) == []
    found = check("plan.outside_rotation", [duty("R1-01", day(10), "DAY", "WARDS")], prog)
    assert len(found) == 1 and "no plan row" in found[0].message


def test_clinic_is_inside_only_on_the_residents_clinic_half_day_of_a_clinic_rotation():
    clinic = duty("R1-01", TUESDAY, "CLINIC_PM", "CLINIC")
    assert check("plan.outside_rotation", [clinic], on("AMB")) == []
    assert len(check("plan.outside_rotation", [duty("R1-01", day(5), "CLINIC_PM", "CLINIC")], on("AMB"))) == 1  # Monday
    assert len(check("plan.outside_rotation", [clinic], on("WARDS"))) == 1  # WARDS has no clinic


def test_didactics_are_inside_only_on_a_rotation_that_has_them():
    academic = duty("R1-01", WEDNESDAY, "ACADEMIC", "ACAD")
    assert check("plan.outside_rotation", [academic], on("WARDS")) == []
    assert len(check("plan.outside_rotation", [academic], on("ICU"))) == 1


def test_faculty_duties_are_not_judged_against_the_plan():
    assert check("plan.outside_rotation", [duty("F-01", day(1), "DAY", "ICU")]) == []


# ------------------------------------------------------------------ plan.capacity


def test_capacity_maximum_per_pgy_group():
    # WARDS takes 1..2 PGY-1 a block.
    people = (resident(), resident("R1-02"), resident("R1-03"), resident("R2-01", pgy=2))
    two = (block_row("R1-01", "WARDS"), block_row("R1-02", "WARDS"), block_row("R1-03", "ICU"))
    assert check("plan.capacity", prog=plan_program(people=people, plan=two)) == []
    three = (*two[:2], block_row("R1-03", "WARDS"))
    found = check("plan.capacity", prog=plan_program(people=people, plan=three))
    assert len(found) == 1 and found[0].tier == 2 and (found[0].measured, found[0].limit) == (3, 2)
    assert (found[0].window_start, found[0].window_end) == BLOCKS[0] and found[0].rotation_id == "WARDS"


def test_capacity_minimum_is_judged_in_each_half_of_the_block():
    # R1-01 on WARDS for the first half only: the second half has no PGY-1 on WARDS.
    first_half = (half_row("R1-01", "WARDS", half=0), half_row("R1-01", "ICU", half=1), block_row("R2-01", "ICU"))
    found = check("plan.capacity", prog=plan_program(plan=first_half))
    assert [(v.date, v.measured, v.limit) for v in found] == [(day(14), 0, 1)]
    assert (found[0].window_start, found[0].window_end) == (day(14), BLOCKS[0][1])
    both_halves = (half_row("R1-01", "WARDS", half=0), half_row("R1-02", "WARDS", half=1), block_row("R2-01", "ICU"))
    people = (resident(), resident("R1-02"), resident("R2-01", pgy=2))
    assert check("plan.capacity", prog=plan_program(people=people, plan=both_halves)) == []


def test_capacity_is_not_judged_where_the_plan_does_not_reach():
    # Only block 1 is planned; blocks 2 and 3 (in the range) are not judged empty.
    plan = (block_row("R1-01", "WARDS", 0), block_row("R2-01", "ICU", 0))
    assert check("plan.capacity", prog=plan_program(plan=plan), start=day(0), end=BLOCKS[2][1]) == []
    nobody_on_wards = (block_row("R1-01", "ICU", 0), block_row("R2-01", "ICU", 0))
    assert len(check("plan.capacity", prog=plan_program(plan=nobody_on_wards), start=day(0), end=BLOCKS[2][1])) == 1


# ------------------------------------------------------------------ curriculum.requirements


def _curriculum_program(rotations, **need):
    """R1-01's year: one row per block (a pair of names is two half-blocks)."""
    plan = []
    for block, names in enumerate(rotations):
        if isinstance(names, tuple):
            plan += [half_row("R1-01", names[0], block, 0), half_row("R1-01", names[1], block, 1)]
        else:
            plan.append(block_row("R1-01", names, block))
    requirement = CurriculumRequirement(pgy=1, **need)
    return plan_program(plan=tuple(plan), people=(resident(),), curriculum=(requirement,))


def _curriculum(prog):
    return check("curriculum.requirements", prog=prog, start=YEAR_START, end=BLOCKS[2][1])


def test_curriculum_minimum_counts_half_blocks_as_halves():
    exact = _curriculum_program(["WARDS", ("WARDS", "ICU"), "ICU"], rotation="WARDS", min_blocks=1.5)
    assert _curriculum(exact) == []
    short = _curriculum_program([("WARDS", "ICU"), "AMB", "ICU"], rotation="WARDS", min_blocks=1)
    found = _curriculum(short)
    assert len(found) == 1 and (found[0].measured, found[0].limit) == (0.5, 1) and found[0].tier == 2


def test_curriculum_maximum():
    assert _curriculum(_curriculum_program(["WARDS", "ICU", "WARDS"], rotation="WARDS", max_blocks=2)) == []
    found = _curriculum(_curriculum_program(["WARDS", ("ICU", "WARDS"), "WARDS"], rotation="WARDS", max_blocks=2))
    assert [(v.measured, v.limit) for v in found] == [(2.5, 2)]


def test_curriculum_most_in_a_row():
    assert _curriculum(_curriculum_program(["WARDS", "ICU", "WARDS"], rotation="WARDS", max_consecutive=1)) == []
    found = _curriculum(_curriculum_program([("ICU", "WARDS"), "WARDS", "ICU"], rotation="WARDS", max_consecutive=1))
    assert [(v.measured, v.limit, v.date) for v in found] == [(1.5, 1, day(14))]


def test_curriculum_order():
    assert _curriculum(_curriculum_program(["ICU", "NF", "WARDS"], rotation="ICU", before=("NF",))) == []
    found = _curriculum(_curriculum_program(["NF", "ICU", "WARDS"], rotation="ICU", before=("NF",)))
    assert len(found) == 1 and found[0].rotation_id == "NF" and found[0].date == YEAR_START


def test_a_year_the_plan_does_not_wholly_cover_is_not_judged():
    short = _curriculum_program(["ICU", "ICU", "ICU"], rotation="WARDS", min_blocks=1)
    assert len(_curriculum(short)) == 1
    partial = short.model_copy(update={"plan": short.plan[:2]})
    assert _curriculum(partial) == []


def test_without_a_dated_year_the_plan_rows_span_is_the_year():
    prog = _curriculum_program(["ICU", "ICU", "WARDS"], rotation="WARDS", min_blocks=2).model_copy(
        update={"year": None}
    )
    found = _curriculum(prog)
    assert len(found) == 1 and (found[0].window_start, found[0].window_end) == (YEAR_START, BLOCKS[2][1])


# ------------------------------------------------------------------ clinic.missed


def test_a_clinic_week_without_the_clinic_half_day_is_missed():
    week = {"start": day(5), "end": day(11)}  # Monday 07-06 .. Sunday 07-12; clinic Tuesday 07-07
    found = check("clinic.missed", [], on("AMB"), **week)
    assert [(v.person_id, v.date, v.slot, v.tier) for v in found] == [("R1-01", TUESDAY, "CLINIC_PM", 2)]
    assert check("clinic.missed", [duty("R1-01", TUESDAY, "CLINIC_PM", "CLINIC")], on("AMB"), **week) == []


def test_clinic_on_another_service_still_misses_it():
    week = {"start": day(5), "end": day(11)}
    assert len(check("clinic.missed", [duty("R1-01", TUESDAY, "CLINIC_PM", "AMB")], on("AMB"), **week)) == 1


def test_no_clinic_is_missed_on_a_rotation_without_clinic_or_while_absent():
    week = {"start": day(5), "end": day(11)}
    assert check("clinic.missed", [], on("WARDS"), **week) == []
    away = on("AMB", absences=(Absence(person_id="R1-01", start=TUESDAY, end=TUESDAY),))
    assert check("clinic.missed", [], away, **week) == []


# ------------------------------------------------------------------ didactics.conflict


def test_a_duty_overlapping_protected_didactics_is_a_conflict():
    # WARDS protects didactics (Wednesday 13:00-17:00); DAY 07:00-18:00 overlaps it.
    found = check("didactics.conflict", [duty("R1-01", WEDNESDAY, "DAY", "WARDS")])
    assert [(v.person_id, v.date, v.slot, v.tier) for v in found] == [("R1-01", WEDNESDAY, "DAY", 2)]
    assert check("didactics.conflict", [duty("R1-01", day(1), "DAY", "WARDS")]) == []  # Thursday


def test_a_duty_ending_as_didactics_begin_does_not_conflict():
    # AM is 08:00-13:00: it touches the 13:00 academic half day without overlapping it.
    assert check("didactics.conflict", [duty("R1-01", WEDNESDAY, "AM", "AMB")], on("AMB")) == []
    assert check("didactics.conflict", [duty("R1-01", WEDNESDAY, "ACADEMIC", "ACAD")], on("AMB")) == []


def test_a_rotation_without_didactics_does_not_protect_them():
    assert check("didactics.conflict", [duty("R1-01", WEDNESDAY, "DAY", "ICU")], on("ICU")) == []


# ------------------------------------------------------------------ fill_rate


def _metrics(duties, prog, start, end):
    return validate(Schedule(assignments=tuple(duties)), prog, start=start, end=end, resilience=False).metrics


def test_fill_rate_counts_pattern_duties_up_to_the_expected_count_and_didactics():
    # R1-01 on WARDS for block 1: 20 DAY shifts expected and four Wednesday didactics.
    prog = plan_program(plan=(block_row("R1-01", "WARDS"),))
    start, end = BLOCKS[0]
    not_wednesday = [d for d in (start + timedelta(days=i) for i in range(28)) if d.weekday() != 2]
    days_worked = [duty("R1-01", d, "DAY", "WARDS") for d in not_wednesday[:19]]
    academic = [duty("R1-01", start + timedelta(days=7 * w), "ACADEMIC", "ACAD") for w in range(4)]
    metrics = _metrics(days_worked + academic, prog, start, end)
    assert (metrics.expected_duties, metrics.filled_duties, metrics.fill_rate) == (24, 23, round(23 / 24, 4))
    one_more = [duty("R1-01", d, "DAY", "WARDS") for d in not_wednesday[:20]]
    assert _metrics(one_more + academic, prog, start, end).fill_rate == 1.0
    # More than the pattern's minimum does not fill more.
    two_more = [duty("R1-01", d, "DAY", "WARDS") for d in not_wednesday[:22]]
    assert _metrics(two_more + academic, prog, start, end).filled_duties == 24


def test_fill_rate_prorates_half_blocks_and_absences_with_expected_count():
    # A half-block row on WARDS: round(20 x 14 / 28) = 10 DAY shifts and two Wednesdays.
    half = plan_program(plan=(half_row("R1-01", "WARDS"),))
    start, end = BLOCKS[0]
    assert _metrics([], half, start, end).expected_duties == 12
    # A week absent (Wednesday 07-08 .. Tuesday 07-14): round(20 x 7 / 28) = 5 and one Wednesday.
    away = half.model_copy(update={"absences": (Absence(person_id="R1-01", start=day(7), end=day(13)),)})
    assert _metrics([], away, start, end).expected_duties == 6


def test_fill_rate_counts_each_expected_clinic():
    # AMB: AM on weekdays, 10 a block, clinic Tuesdays, didactics Wednesdays; one week judged.
    prog = plan_program(plan=(block_row("R1-01", "AMB"),))
    start, end = day(5), day(11)  # Monday .. Sunday
    # round(10 x 7 / 28) = round(2.5) = 2 AM, one clinic, one academic half day.
    assert _metrics([], prog, start, end).expected_duties == 4
    clinic = duty("R1-01", TUESDAY, "CLINIC_PM", "CLINIC")
    assert _metrics([clinic], prog, start, end).filled_duties == 1


def test_fill_rate_of_a_v1_program_is_assigned_over_present_staffable_resident_slots():
    prog = program()  # R1-01 may staff WARDS AM and PM; R2-01 also NIGHT CALL; seven days
    start, end = BLOCK_START, BLOCK_START + timedelta(days=6)
    duties = [v1_assignment("R1-01", start, Slot.AM), v1_assignment("R2-01", start, Slot.CALL, "NIGHT")]
    duties.append(v1_assignment("F-01", start, Slot.AM))  # faculty are not counted
    metrics = _metrics(duties, prog, start, end)
    assert (metrics.expected_duties, metrics.filled_duties) == (7 * 2 + 7 * 3, 2)
    away = prog.model_copy(update={"absences": (Absence(person_id="R1-01", start=start, end=start),)})
    assert _metrics(duties, away, start, end).expected_duties == 7 * 2 + 7 * 3 - 2
    assert _metrics(duties, away, start, end).filled_duties == 1  # the duty during the absence is not filled work


def test_n1_with_a_plan_takes_substitutes_only_from_residents_whose_rotation_has_the_duty():
    # WARDS/DAY needs one PGY-1. R1-01 works it; R1-02 could step in only if planned on WARDS.
    people = (resident(), resident("R1-02"), resident("R2-01", pgy=2))
    wards_duty = [duty("R1-01", day(1), "DAY", "WARDS")]

    def n1(r1_02_rotation):
        plan = (block_row("R1-01", "WARDS"), block_row("R1-02", r1_02_rotation), block_row("R2-01", "ICU"))
        prog = plan_program(people=people, plan=plan)
        report = validate(Schedule(assignments=tuple(wards_duty)), prog, start=day(1), end=day(1))
        return report.metrics.n1_compliant, [gap.uncovered for gap in report.resilience]

    compliant, gaps = n1("ICU")
    assert compliant is False and (f"WARDS {day(1)} DAY (resident PGY-1)",) in gaps
    compliant, gaps = n1("WARDS")
    assert compliant is True


def test_the_worked_example_of_docs_model_md_is_clean_and_fills_17_of_17():
    # R1-01 on ICU for block 1: CALL24 every 4th day (7), the post-call day free, DAY on 10 of
    # the 14 other days; 4 days no duty touches. No capacity to judge on the other rotations.
    rotations = tuple(r.model_copy(update={"capacity": ()}) for r in plan_program().block_rotations)
    prog = plan_program(people=(resident(),), plan=(block_row("R1-01", "ICU"),), block_rotations=rotations)
    calls = [duty("R1-01", day(d), "CALL24", "ICU") for d in range(0, 28, 4)]
    days = [duty("R1-01", day(d), "DAY", "ICU") for d in (2, 3, 6, 7, 10, 11, 14, 15, 18, 19)]
    report = validate(Schedule(assignments=tuple(calls + days)), prog, start=BLOCKS[0][0], end=BLOCKS[0][1])
    assert report.violations == ()
    metrics = report.metrics
    assert (metrics.expected_duties, metrics.filled_duties, metrics.fill_rate) == (17, 17, 1.0)
    # One DAY fewer is 16 of 17; one more DAY on a free day breaks one day in seven.
    assert (
        validate(Schedule(assignments=tuple(calls + days[:-1])), prog, start=day(0), end=day(27)).metrics.filled_duties
        == 16
    )
    extra = [*calls, *days, duty("R1-01", day(22), "DAY", "ICU")]
    found = validate(Schedule(assignments=tuple(extra)), prog, start=day(0), end=day(27), resilience=False).tier1
    assert [v.rule_id for v in found] == ["acgme.days_off.one_in_seven"]
