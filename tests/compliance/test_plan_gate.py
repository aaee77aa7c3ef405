"""The rules of the block schedule the plan-year gate reads (eligibility, vacation, residents on no
rotation, the curriculum over blocks away) and ``plan_findings``, each at its exact boundary."""

from datetime import timedelta

from plan_programs import BLOCKS, YEAR_START, block_row, half_row, plan_program, resident

from factories import BLOCK_START, program
from factories import assignment as v1_assignment
from rotaguard.compliance import PLAN_RULE_IDS, RULES, Tier, check_rule, plan_findings
from rotaguard.domain import VACATION_KIND, Absence, Credential, CurriculumRequirement, Schedule, Slot
from rotaguard.interchange.profiles import synthesize_profile

NEW_RULES = ("plan.eligibility", "plan.vacation", "plan.unplanned")


def check(rule_id, prog):
    """``rule_id`` over the whole three-block test year."""
    return check_rule(rule_id, Schedule(assignments=()), prog, start=YEAR_START, end=BLOCKS[2][1])


def rotations_with(prog, rotation_id, **changes):
    return tuple(r.model_copy(update=changes) if r.id == rotation_id else r for r in prog.block_rotations)


def leave(person_id, first, last, kind="leave"):
    return Absence(person_id=person_id, start=first, end=last, kind=kind)


def test_the_new_rules_are_registered_as_institutional_with_a_citation():
    for rule_id in NEW_RULES:
        rule = RULES[rule_id]
        assert rule.tier is Tier.INSTITUTIONAL and "docs/model.md" in rule.cites and rule.title


def test_plan_rule_ids_are_the_rules_of_the_block_schedule_and_not_the_duty_rules():
    assert set(PLAN_RULE_IDS) == {"plan.capacity", "curriculum.requirements", *NEW_RULES}
    assert all(RULES[rule_id].applies_to is None for rule_id in PLAN_RULE_IDS)
    assert not {"plan.outside_rotation", "clinic.missed", "didactics.conflict"} & set(PLAN_RULE_IDS)


def test_the_new_rules_do_not_judge_a_v1_program():
    v1 = program()
    schedule = Schedule(assignments=(v1_assignment("R1-01", BLOCK_START, Slot.AM),))
    for rule_id in NEW_RULES:
        assert check_rule(rule_id, schedule, v1, start=BLOCK_START, end=BLOCK_START + timedelta(27)) == []
    assert plan_findings(v1) == []


# ------------------------------------------------------------------ plan.eligibility


def test_a_row_on_a_rotation_not_for_the_residents_pgy_is_ineligible():
    base = plan_program()
    interns_only = rotations_with(base, "ICU", pgy=(1, 3))
    found = check("plan.eligibility", base.model_copy(update={"block_rotations": interns_only}))
    # R2-01 is on ICU all year: one finding per row.
    assert [(v.person_id, v.rotation_id, v.date) for v in found] == [("R2-01", "ICU", b[0]) for b in BLOCKS]
    assert "PGY-1/3" in found[0].message and found[0].tier is Tier.INSTITUTIONAL
    with_pgy_2 = rotations_with(base, "ICU", pgy=(1, 2))
    assert check("plan.eligibility", base.model_copy(update={"block_rotations": with_pgy_2})) == []


def test_a_credential_must_be_valid_on_the_rows_first_day():
    # ICU needs ACLS; R2-01's expires on block 2's first day: valid for blocks 1 and 2, not block 3.
    acls = (Credential(name="ACLS", expires=BLOCKS[1][0]), Credential(name="BLS"))
    people = (resident(), resident("R2-01", pgy=2, credentials=acls))
    base = plan_program(people=people)
    prog = base.model_copy(update={"block_rotations": rotations_with(base, "ICU", credentials=("ACLS",))})
    found = check("plan.eligibility", prog)
    assert [(v.person_id, v.date, v.window_end) for v in found] == [("R2-01", BLOCKS[2][0], BLOCKS[2][1])]
    assert "ACLS" in found[0].message
    one_day_longer = (Credential(name="ACLS", expires=BLOCKS[2][0]), Credential(name="BLS"))
    renewed = prog.model_copy(update={"people": (resident(), resident("R2-01", pgy=2, credentials=one_day_longer))})
    assert check("plan.eligibility", renewed) == []


# ------------------------------------------------------------------ plan.vacation


def _vacation_program(last_day, kind=VACATION_KIND):
    """R2-01 on AMB (vacation allowed) in block 1, then ICU (no vacation) in blocks 2 and 3."""
    base = plan_program()
    plan = (block_row("R1-01", "WARDS", 0), block_row("R2-01", "AMB", 0))
    plan += tuple(row for b in (1, 2) for row in (block_row("R1-01", "WARDS", b), block_row("R2-01", "ICU", b)))
    return base.model_copy(
        update={
            "plan": plan,
            "block_rotations": rotations_with(base, "ICU", vacation=False),
            "absences": (leave("R2-01", BLOCKS[0][1] - timedelta(days=6), last_day, kind),),
        }
    )


def test_a_vacation_reaching_into_a_rotation_without_vacation_is_a_finding():
    assert check("plan.vacation", _vacation_program(BLOCKS[0][1])) == []  # ends on AMB's last day
    found = check("plan.vacation", _vacation_program(BLOCKS[1][0]))  # one day into ICU
    assert [(v.person_id, v.rotation_id, v.window_start, v.window_end) for v in found] == [
        ("R2-01", "ICU", BLOCKS[1][0], BLOCKS[1][0])
    ]
    assert found[0].tier is Tier.INSTITUTIONAL


def test_only_an_approved_vacation_is_judged_not_another_absence():
    assert check("plan.vacation", _vacation_program(BLOCKS[1][0], kind="sick")) == []


# ------------------------------------------------------------------ plan.unplanned


def test_a_resident_present_in_a_planned_block_without_a_row_is_a_finding():
    # Block 2 is planned (R2-01 has a row there); R1-01 has none.
    plan = (block_row("R1-01", "WARDS", 0), block_row("R1-01", "WARDS", 2))
    plan += tuple(block_row("R2-01", "ICU", b) for b in range(3))
    found = check("plan.unplanned", plan_program(plan=plan))
    assert [(v.person_id, v.date, v.window_start, v.window_end, v.measured) for v in found] == [
        ("R1-01", BLOCKS[1][0], *BLOCKS[1], 28)
    ]
    assert check("plan.unplanned", plan_program()) == []


def test_a_half_block_without_a_row_is_counted_by_its_days():
    plan = (block_row("R1-01", "WARDS", 0), half_row("R1-01", "WARDS", 1, 0), block_row("R1-01", "WARDS", 2))
    plan += tuple(block_row("R2-01", "ICU", b) for b in range(3))
    found = check("plan.unplanned", plan_program(plan=plan))
    assert [(v.date, v.measured) for v in found] == [(BLOCKS[1][0] + timedelta(days=14), 14)]


def test_a_block_nobody_is_planned_in_is_not_planned_yet():
    plan = (block_row("R1-01", "WARDS", 0), block_row("R2-01", "ICU", 0))
    assert check("plan.unplanned", plan_program(plan=plan)) == []


def test_a_block_away_entirely_needs_no_row_but_one_day_short_of_it_does():
    plan = (block_row("R1-01", "WARDS", 0), block_row("R1-01", "WARDS", 2))
    plan += tuple(block_row("R2-01", "ICU", b) for b in range(3))
    whole = plan_program(plan=plan, absences=(leave("R1-01", *BLOCKS[1]),))
    assert check("plan.unplanned", whole) == []
    short = plan_program(plan=plan, absences=(leave("R1-01", BLOCKS[1][0], BLOCKS[1][1] - timedelta(days=1)),))
    found = check("plan.unplanned", short)
    assert [(v.person_id, v.date, v.measured) for v in found] == [("R1-01", BLOCKS[1][1], 1)]
    # A vacation is not a block away: the resident is on a rotation during it.
    on_vacation = plan_program(plan=plan, absences=(leave("R1-01", *BLOCKS[1], kind=VACATION_KIND),))
    assert len(check("plan.unplanned", on_vacation)) == 1


def test_faculty_and_inactive_residents_are_not_expected_on_a_rotation():
    plan = tuple(block_row("R1-01", "WARDS", b) for b in range(3))
    people = (resident(), resident("R2-01", pgy=2, active=False))
    assert check("plan.unplanned", plan_program(people=people, plan=plan)) == []
    assert len(check("plan.unplanned", plan_program(plan=plan))) == 3  # R2-01 active: all three blocks


# ------------------------------------------------------------------ curriculum.requirements over blocks away


def _away_program(block_3_rotation, *, min_blocks, away_last=None):
    """R1-01 on WARDS in block 1, away (a leave) in block 2, on ``block_3_rotation`` in block 3."""
    plan = (block_row("R1-01", "WARDS", 0), block_row("R1-01", block_3_rotation, 2))
    last = BLOCKS[1][1] if away_last is None else away_last
    return plan_program(
        people=(resident(),),
        plan=plan,
        absences=(leave("R1-01", BLOCKS[1][0], last),),
        curriculum=(CurriculumRequirement(pgy=1, rotation="WARDS", min_blocks=min_blocks),),
    )


def test_the_curriculum_judges_a_year_with_a_block_away_on_the_prorated_minimum():
    # Three blocks of WARDS over a full year; two present: floor(3 x 2 / 3) = 2.
    assert check("curriculum.requirements", _away_program("WARDS", min_blocks=3)) == []
    found = check("curriculum.requirements", _away_program("ICU", min_blocks=3))
    assert [(v.person_id, v.rotation_id, v.measured, v.limit) for v in found] == [("R1-01", "WARDS", 1, 2)]
    assert "prorated: 2 of 3 blocks present" in found[0].message


def test_the_prorated_minimum_is_rounded_down():
    # Two blocks over the year, two of three present: floor(4 / 3) = 1, which one block meets.
    assert check("curriculum.requirements", _away_program("ICU", min_blocks=2)) == []
    full_year = _away_program("ICU", min_blocks=2).model_copy(
        update={
            "absences": (),
            "plan": (block_row("R1-01", "WARDS", 0), *(block_row("R1-01", "ICU", b) for b in (1, 2))),
        }
    )
    assert [(v.measured, v.limit) for v in check("curriculum.requirements", full_year)] == [(1, 2)]


def test_a_block_neither_planned_nor_wholly_away_leaves_the_year_unjudged():
    # The leave ends a day before block 2 does: block 2 is neither away nor planned.
    assert (
        check("curriculum.requirements", _away_program("ICU", min_blocks=3, away_last=BLOCKS[1][1] - timedelta(1)))
        == []
    )


# ------------------------------------------------------------------ plan_findings


def test_plan_findings_keeps_only_the_plan_rules_over_the_whole_year():
    base = plan_program()
    # Block 3: a third intern on WARDS (capacity 1..2) and R2-01 on WARDS, which takes PGY-1 only.
    people = (resident(), resident("R1-02"), resident("R1-03"), resident("R2-01", pgy=2))
    plan = tuple(block_row(p, "WARDS", b) for p in ("R1-01", "R1-02") for b in range(3))
    plan += (block_row("R1-03", "ICU", 0), block_row("R1-03", "ICU", 1), block_row("R1-03", "WARDS", 2))
    plan += tuple(block_row("R2-01", "ICU", b) for b in range(2)) + (block_row("R2-01", "WARDS", 2),)
    prog = base.model_copy(
        update={"people": people, "plan": plan, "block_rotations": rotations_with(base, "WARDS", pgy=(1,))}
    )
    found = plan_findings(prog)
    assert [(v.rule_id, v.date) for v in found] == [("plan.capacity", BLOCKS[2][0]), ("plan.eligibility", BLOCKS[2][0])]
    assert plan_findings(base) == []


def test_plan_findings_passes_the_synthetic_profiles_plan_and_finds_a_resident_taken_off_it():
    profile = synthesize_profile("internal-medicine", residents=24, seed=1)
    assert plan_findings(profile) == []
    dropped = profile.plan[5]  # one resident's block
    found = plan_findings(profile.model_copy(update={"plan": tuple(e for e in profile.plan if e != dropped)}))
    assert ("plan.unplanned", dropped.person_id, dropped.start) in {(v.rule_id, v.person_id, v.date) for v in found}
    assert {v.rule_id for v in found} <= set(PLAN_RULE_IDS)
