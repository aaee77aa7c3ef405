"""In a plan program fairness compares residents on the same rotation: ICU residents take the calls
and ward residents none, and that is the plan, not unfairness."""

from datetime import timedelta

from plan_programs import BLOCKS, block_row, day, duty, plan_program, resident

from rotaguard.compliance import validate
from rotaguard.domain import Schedule

START, END = BLOCKS[0]


def _program():
    people = (resident("R1-01"), resident("R2-01", pgy=2), resident("R2-02", pgy=2), resident("R1-02"))
    plan = (
        block_row("R1-01", "WARDS"),
        block_row("R1-02", "WARDS"),
        block_row("R2-01", "ICU"),
        block_row("R2-02", "ICU"),
    )
    return plan_program(people=people, plan=plan)


def _calls(person_id: str, count: int) -> list:
    return [duty(person_id, day(4 * i), "CALL24", "ICU") for i in range(count)]


def _spread_warnings(schedule: Schedule):
    report = validate(schedule, _program(), start=START, end=END, resilience=False)
    return [v for v in report.violations if v.rule_id == "fairness.call_spread"]


def test_calls_on_one_rotation_only_are_not_unfair_to_the_other_rotation():
    # Both ICU residents take 3 calls, the ward residents none: a spread of 3 across rotations.
    assert _spread_warnings(Schedule(assignments=tuple(_calls("R2-01", 3) + _calls("R2-02", 3)))) == []


def test_a_spread_inside_one_rotation_above_the_limit_is_reported_with_the_rotation():
    # The default limit is 2: 3 against 0 on ICU breaks it, 2 against 0 does not.
    at_limit = _spread_warnings(Schedule(assignments=tuple(_calls("R2-01", 2))))
    assert at_limit == []
    over = _spread_warnings(Schedule(assignments=tuple(_calls("R2-01", 3))))
    assert len(over) == 1 and "In-house calls on ICU range from 0 (R2-02) to 3 (R2-01)" in over[0].message
    assert END - START == timedelta(days=27)
