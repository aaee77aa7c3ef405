"""plan_year's hard rules, each at its boundary, on small hand-built years."""

from __future__ import annotations

from datetime import timedelta

from planner_programs import (
    block_start,
    cap,
    leave,
    need,
    problem,
    resident,
    rotation,
    row,
    vacation,
    year_program,
)

from rotaguard.compliance import validate
from rotaguard.domain import Credential, PlanEntry, Program, Schedule
from rotaguard.planner import PlanResult, PlanStatus, explain, merged_plan, plan_year


def grid(result: PlanResult) -> dict[tuple[str, int], str]:
    """(person, block number) -> rotation of the planned rows."""
    return {(e.person_id, 1 + (e.start - block_start(1)).days // 28): e.rotation_id for e in result.entries}


def plan_findings(program: Program, result: PlanResult) -> list[str]:
    """The compliance engine's plan.capacity and curriculum.requirements findings on the plan."""
    kept = tuple(e for e in program.plan if e.locked or e.start < min(r.start for r in result.entries))
    planned = program.model_copy(update={"plan": kept + result.entries})
    first, last = program.year_blocks()[0].start, program.year_blocks()[-1].end
    report = validate(Schedule(), planned, start=first, end=last, resilience=False)
    return [v.message for v in report.violations if v.rule_id in {"plan.capacity", "curriculum.requirements"}]


# ---------------------------------------------------------------------------- one rotation a block


def test_a_plan_gives_every_resident_one_rotation_a_block_and_compliance_agrees():
    program = year_program(curriculum=(need("WARDS", 1, 2),))
    result = plan_year(problem(program))
    assert result.status is PlanStatus.OPTIMAL
    assert len(set(grid(result))) == len(result.entries) == 3 * 4
    assert plan_findings(program, result) == []


def test_a_block_away_gets_no_row_and_the_minimum_is_prorated():
    # 4 blocks, WARDS at least 2 (prorated to 1 for 2 blocks present: floor(2 * 2 / 4)).
    people = (resident("R1-01"), resident("R1-02"))
    program = year_program(
        people=people,
        rotations=(rotation("WARDS", heavy=True), rotation("AMB")),
        curriculum=(need("WARDS", 2, 2),),
        absences=(leave("R1-01", 1, 2),),
    )
    cells = grid(plan_year(problem(program)))
    assert ("R1-01", 1) not in cells and ("R1-01", 2) not in cells
    assert [cells[("R1-01", b)] for b in (3, 4)].count("WARDS") == 1
    assert [cells[("R1-02", b)] for b in (1, 2, 3, 4)].count("WARDS") == 2


# ---------------------------------------------------------------------------- capacity


def test_capacity_max_exactly_full_is_feasible_one_more_is_not():
    people = tuple(resident(f"R1-0{i}") for i in range(1, 3))
    rotations = (rotation("ICU", heavy=True, capacity=(cap(0, 1),)), rotation("AMB", capacity=(cap(0, 1),)))
    assert plan_year(problem(year_program(people=people, rotations=rotations))).status is PlanStatus.OPTIMAL
    crowded = year_program(people=(*people, resident("R1-03")), rotations=rotations)
    result = plan_year(problem(crowded))
    assert result.status is PlanStatus.INFEASIBLE
    assert result.entries == ()
    assert "Block 1: 3 PGY-1/2/3 residents are to be placed but the rotations open to them take at most 2" in (
        result.explanation
    )
    assert explain(problem(crowded)) == result.explanation


def test_capacity_min_exactly_met_is_feasible_one_short_is_explained():
    rotations = (rotation("ICU", heavy=True, capacity=(cap(2, 3, pgy=(1,)),)), rotation("AMB"))
    two = year_program(people=(resident("R1-01"), resident("R1-02")), rotations=rotations)
    cells = grid(plan_year(problem(two)))
    assert all(cells[(p, b)] == "ICU" for p in ("R1-01", "R1-02") for b in range(1, 5))
    one = year_program(people=(resident("R1-01"),), rotations=rotations)
    reasons = explain(problem(one))
    assert "Block 1: ICU needs at least 2 PGY-1 but only 1 present can be on it" in reasons
    assert plan_year(problem(one)).status is PlanStatus.INFEASIBLE
    # Nobody present may take it (ACLS missing): still a minimum the plan cannot meet.
    acls = (rotation("ICU", heavy=True, credentials=("ACLS",), capacity=(cap(1, 3, pgy=(1,)),)), rotation("AMB"))
    without = year_program(people=(resident("R1-01", credentials=()),), rotations=acls)
    result = plan_year(problem(without))
    assert result.status is PlanStatus.INFEASIBLE
    assert "Block 4: ICU needs at least 1 PGY-1 but only 0 present can be on it" in result.explanation


# ---------------------------------------------------------------------------- eligibility


def test_credentials_are_judged_at_the_block_start():
    # ACLS valid through block 2's first day: ICU possible in blocks 1-2, not from block 3.
    expiring = resident("R1-01", credentials=()).model_copy(
        update={"credentials": (Credential(name="ACLS", expires=block_start(2)),)}
    )
    rotations = (rotation("ICU", heavy=True, credentials=("ACLS",)), rotation("AMB"))
    program = year_program(people=(expiring,), rotations=rotations, curriculum=(need("ICU", 2, 4),))
    cells = grid(plan_year(problem(program)))
    assert [cells[("R1-01", b)] for b in (1, 2, 3, 4)] == ["ICU", "ICU", "AMB", "AMB"]
    a_day_less = expiring.model_copy(
        update={"credentials": (Credential(name="ACLS", expires=block_start(2) - timedelta(days=1)),)}
    )
    short = year_program(people=(a_day_less,), rotations=rotations, curriculum=(need("ICU", 2, 4),))
    assert "R1-01 (PGY-1) needs 2 ICU blocks but can be on ICU in only 1 of the blocks left to plan" in explain(
        problem(short)
    )


def test_a_rotation_only_takes_its_pgy_levels():
    rotations = (rotation("SENIOR", pgy=(2, 3)), rotation("AMB"))
    program = year_program(
        people=(resident("R1-01"), resident("R2-01", pgy=2)),
        rotations=rotations,
        curriculum=(need("SENIOR", 4, 4, pgy=2),),
    )
    cells = grid(plan_year(problem(program)))
    assert {cells[("R1-01", b)] for b in range(1, 5)} == {"AMB"}
    assert {cells[("R2-01", b)] for b in range(1, 5)} == {"SENIOR"}
    intern_needs_it = program.model_copy(update={"curriculum": (need("SENIOR", 1, 4, pgy=1),)})
    assert plan_year(problem(intern_needs_it)).status is PlanStatus.INFEASIBLE
    seniors_only = program.model_copy(update={"block_rotations": (rotation("SENIOR", pgy=(2, 3)),), "curriculum": ()})
    assert explain(problem(seniors_only)) == (
        "R1-01 (PGY-1) can take no rotation in blocks 1-4: none admits their PGY level and credentials (and "
        "allows their approved vacation)",
    )


def test_an_approved_vacation_lands_on_a_rotation_that_allows_it():
    people = (resident("R1-01"),)
    rotations = (rotation("WARDS", heavy=True), rotation("AMB"))
    program = year_program(
        people=people, rotations=rotations, curriculum=(need("WARDS", 3, 3),), absences=(vacation("R1-01", 2),)
    )
    cells = grid(plan_year(problem(program)))
    assert cells[("R1-01", 2)] == "AMB"
    assert [cells[("R1-01", b)] for b in (1, 3, 4)] == ["WARDS"] * 3
    # A fourth WARDS block would need the vacation block: no plan.
    four = program.model_copy(update={"curriculum": (need("WARDS", 4, 4),)})
    result = plan_year(problem(four))
    assert result.status is PlanStatus.INFEASIBLE
    assert (
        "R1-01 (PGY-1) needs 4 WARDS blocks but can be on WARDS in only 3 of the blocks left to plan"
        in result.explanation
    )


# ---------------------------------------------------------------------------- curriculum


def test_curriculum_totals_at_their_bounds():
    people = (resident("R1-01"),)
    rotations = (rotation("WARDS", heavy=True), rotation("AMB"), rotation("ELEC"))
    curriculum = (need("WARDS", 2, 2), need("AMB", 1, 1), need("ELEC", 1, 1))
    cells = grid(plan_year(problem(year_program(people=people, rotations=rotations, curriculum=curriculum))))
    assert sorted(cells.values()) == ["AMB", "ELEC", "WARDS", "WARDS"]
    too_little_room = (need("WARDS", 2, 2), need("AMB", 1, 1), need("ELEC", 0, 0))
    result = plan_year(problem(year_program(people=people, rotations=rotations, curriculum=too_little_room)))
    assert result.status is PlanStatus.INFEASIBLE
    assert (
        "R1-01 (PGY-1) has 4 blocks to plan but the curriculum's maximums on the rotations open to them allow only 3"
        in (result.explanation)
    )


def test_a_class_needing_more_than_the_rotation_takes_is_explained_with_the_numbers():
    # 3 interns need 2 ICU blocks each = 6; ICU takes 1 intern a block x 4 blocks = 4, and
    # R1-03's leave (blocks 1-2) leaves them 1 ICU block prorated.
    people = tuple(resident(f"R1-0{i}") for i in range(1, 4))
    rotations = (rotation("ICU", heavy=True, capacity=(cap(0, 1, pgy=(1,)),)), rotation("AMB"))
    program = year_program(people=people, rotations=rotations, curriculum=(need("ICU", 2, 2),))
    reasons = explain(problem(program))
    assert "PGY-1 need 6 ICU blocks in total; ICU takes at most 1 PGY-1 per block x 4 blocks = 4" in reasons
    away = program.model_copy(update={"absences": (leave("R1-03", 1, 2),)})
    assert (
        "PGY-1 need 5 ICU blocks in total (prorated: R1-03 away 2 blocks); ICU takes at most 1 PGY-1 per block "
        "x 4 blocks = 4" in explain(problem(away))
    )
    fits = program.model_copy(update={"curriculum": (need("ICU", 1, 2),)})
    assert explain(problem(fits)) == ()
    assert plan_year(problem(fits)).status is PlanStatus.OPTIMAL


def test_most_in_a_row_at_the_limit_and_one_over():
    people = (resident("R1-01"),)
    rotations = (rotation("WARDS", heavy=True), rotation("AMB"))
    alternate = (need("WARDS", 2, 2, max_consecutive=1),)
    program = year_program(people=people, rotations=rotations, curriculum=alternate)
    result = plan_year(problem(program))
    wards = [b for b in range(1, 5) if grid(result)[("R1-01", b)] == "WARDS"]
    assert len(wards) == 2 and wards[1] - wards[0] > 1
    assert plan_findings(program, result) == []
    # Three of four blocks with at most one in a row: counting finds nothing, the solve does.
    three = program.model_copy(update={"curriculum": (need("WARDS", 3, 3, max_consecutive=1),)})
    assert explain(problem(three)) == ()
    infeasible = plan_year(problem(three))
    assert infeasible.status is PlanStatus.INFEASIBLE
    assert infeasible.explanation == (
        "No plan meets every rule: the curriculum's block counts per rotation and the curriculum's runs and "
        "order (most blocks in a row, what comes before what) cannot all hold together (leaving out any one of "
        "them makes a plan possible)",
    )


def test_what_comes_first_matches_the_compliance_engine():
    # ICU before NF, one NF at a time: the two NF blocks come after each one's ICU.
    people = (resident("R1-01"), resident("R1-02"))
    rotations = (
        rotation("ICU", heavy=True),
        rotation("NF", heavy=True, capacity=(cap(0, 1),)),
        rotation("AMB"),
    )
    curriculum = (need("ICU", 1, 1, before=("NF",)), need("NF", 1, 2), need("AMB", 0, 4))
    program = year_program(people=people, rotations=rotations, curriculum=curriculum)
    result = plan_year(problem(program))
    assert result.status is PlanStatus.OPTIMAL
    cells = grid(result)
    for person in ("R1-01", "R1-02"):
        blocks = [cells[(person, b)] for b in range(1, 5)]
        assert blocks.index("ICU") < blocks.index("NF")
    assert plan_findings(program, result) == []
    # A locked NF in block 1 leaves R1-01's required ICU block nowhere before it.
    forced = program.model_copy(update={"plan": (row("R1-01", "NF", 1, locked=True),)})
    assert plan_year(problem(forced)).status is PlanStatus.INFEASIBLE


# ---------------------------------------------------------------------------- kept rows


def test_earlier_and_locked_rows_stay_and_count():
    people = (resident("R1-01"),)
    rotations = (rotation("WARDS", heavy=True), rotation("AMB"))
    published = (
        row("R1-01", "WARDS", 1),
        row("R1-01", "AMB", 2),
        row("R1-01", "AMB", 3, locked=True),
        row("R1-01", "AMB", 4),
    )
    program = year_program(people=people, rotations=rotations, curriculum=(need("WARDS", 2, 2),), plan=published)
    result = plan_year(problem(program, from_block=2))
    # Block 1 (before from_block) and block 3 (locked) are kept, not repeated; WARDS' second block
    # must be 2 or 4.
    cells = grid(result)
    assert set(cells) == {("R1-01", 2), ("R1-01", 4)}
    assert sorted(cells.values()) == ["AMB", "WARDS"]
    assert result.changed_blocks == 1
    merged = merged_plan(problem(program, from_block=2), result)
    assert published[0] in merged and published[2] in merged
    assert published[1] not in merged or published[3] not in merged
    assert len(merged) == 4


def test_a_residents_minimums_against_their_blocks_present():
    people = (resident("R1-01"),)
    rotations = (rotation("WARDS", heavy=True), rotation("AMB"))
    exactly = year_program(people=people, rotations=rotations, curriculum=(need("WARDS", 2, 4), need("AMB", 2, 4)))
    assert explain(problem(exactly)) == ()
    one_over = exactly.model_copy(update={"curriculum": (need("WARDS", 2, 4), need("AMB", 3, 4))})
    assert explain(problem(one_over)) == (
        "R1-01 (PGY-1) needs 5 blocks by the curriculum's minimums but only 4 blocks are left to plan for them",
    )
    # On leave for one block: floor(4 x 3/4) = 3 of each, 6 for 3 blocks present.
    away = exactly.model_copy(
        update={"curriculum": (need("WARDS", 4, 4), need("AMB", 4, 4)), "absences": (leave("R1-01", 4, 4),)}
    )
    assert (
        "R1-01 (PGY-1) needs 6 blocks by the curriculum's minimums but only 3 blocks are left to plan for them"
        in explain(problem(away))
    )


def test_progress_reports_the_model_and_the_plans_found():
    said: list[str] = []
    plan_year(problem(year_program()), progress=said.append)
    assert said[0] == "PGY-1: 3 residents, 24 cell choices"
    assert any(line.startswith("PGY-1: plan with objective") for line in said)


def test_a_leave_that_empties_seats_is_named_in_the_class_explanation():
    # ICU takes 2 interns a block, 4 blocks = 8 seats; the interns need 4 ICU blocks each,
    # prorated: R1-01 4, R1-02 (away 3-4) 2, R1-03 (away 2-4) 1 = 7 <= 8. But in blocks 3-4 only
    # R1-01 is present: 2 + 2 + 1 + 1 = 6 seats can be filled.
    people = (resident("R1-01"), resident("R1-02"), resident("R1-03"))
    rotations = (rotation("ICU", heavy=True, capacity=(cap(0, 2, pgy=(1,)),)), rotation("AMB"))
    program = year_program(
        people=people,
        rotations=rotations,
        curriculum=(need("ICU", 4, 4),),
        absences=(leave("R1-02", 3, 4), leave("R1-03", 2, 4)),
    )
    result = plan_year(problem(program))
    assert result.status is PlanStatus.INFEASIBLE
    assert result.explanation == (
        "PGY-1 need 7 ICU blocks in total (prorated: R1-02 away 2, R1-03 away 3 blocks); ICU takes at most 2 "
        "PGY-1 per block x 4 blocks = 8, and only 6 of those can be filled: in blocks 3-4 fewer eligible PGY-1 "
        "are present than it takes (R1-02, R1-03 away)",
    )
    # R1-03 away the whole year instead: need 4 + 2 = 6 = the 6 seats R1-01 and R1-02 can fill.
    fits = program.model_copy(update={"absences": (leave("R1-02", 3, 4), leave("R1-03", 1, 4))})
    assert explain(problem(fits)) == ()
    assert plan_year(problem(fits)).status is PlanStatus.OPTIMAL


def test_kept_half_blocks_count_a_half_as_compliance_counts_them():
    # Block 1 (before from_block) was half WARDS, half AMB: 0.5 of WARDS kept.
    halves = (
        PlanEntry(
            person_id="R1-01", rotation_id="WARDS", start=block_start(1), end=block_start(1) + timedelta(days=13)
        ),
        PlanEntry(
            person_id="R1-01",
            rotation_id="AMB",
            start=block_start(1) + timedelta(days=14),
            end=block_start(2) - timedelta(days=1),
        ),
    )
    people = (resident("R1-01"),)
    rotations = (rotation("WARDS", heavy=True), rotation("AMB"))
    # 1..2 blocks of WARDS: one more whole block makes 1.5.
    program = year_program(people=people, rotations=rotations, curriculum=(need("WARDS", 1, 2),), plan=halves)
    result = plan_year(problem(program, from_block=2))
    assert [e.rotation_id for e in result.entries].count("WARDS") == 1
    merged = program.model_copy(update={"plan": merged_plan(problem(program, from_block=2), result)})
    first, last = program.year_blocks()[0].start, program.year_blocks()[-1].end
    report = validate(Schedule(), merged, start=first, end=last, resilience=False)
    assert [v for v in report.violations if v.rule_id == "curriculum.requirements"] == []
    # Exactly 1: 0.5 is short and 1.5 over; whole blocks cannot make 1.
    exactly_one = program.model_copy(update={"curriculum": (need("WARDS", 1, 1),)})
    assert plan_year(problem(exactly_one, from_block=2)).status is PlanStatus.INFEASIBLE
