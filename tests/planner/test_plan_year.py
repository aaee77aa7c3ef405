"""plan_year's hard rules, each at its boundary, on small hand-built years."""

from __future__ import annotations

from planner_programs import cap, problem, resident, rotation, year_program

from rotaguard.planner import PlanStatus, plan_year


def test_a_plan_gives_every_resident_one_rotation_a_block():
    result = plan_year(problem(year_program()))
    assert result.status is PlanStatus.OPTIMAL
    cells = {(e.person_id, e.start) for e in result.entries}
    assert len(cells) == len(result.entries) == 3 * 4


def test_capacity_max_exactly_full_is_feasible_one_more_is_not():
    people = tuple(resident(f"R1-0{i}") for i in range(1, 3))
    rotations = (rotation("ICU", heavy=True, capacity=(cap(0, 1),)), rotation("AMB", capacity=(cap(0, 1),)))
    assert plan_year(problem(year_program(people=people, rotations=rotations))).status is PlanStatus.OPTIMAL
    crowded = year_program(people=(*people, resident("R1-03")), rotations=rotations)
    result = plan_year(problem(crowded))
    assert result.status is PlanStatus.INFEASIBLE
    assert any("3 PGY-1/2/3 residents are to be placed" in line and "at most 2" in line for line in result.explanation)
