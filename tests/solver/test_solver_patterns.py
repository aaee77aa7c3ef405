"""Each duty-pattern builder (solver/patterns.py) on one resident: a violating case and a clean
case at the exact boundary. Locked duties set up the violations: the solver must report them
infeasible and name the pattern rule."""

from datetime import timedelta

import pytest

from plan_factories import BLOCK_START, block_rotations, plan_program
from rotaguard.domain import (
    Absence,
    Assignment,
    BlockRotation,
    Count,
    Coverage,
    DutyPattern,
    PatternDuty,
    PlanEntry,
    ResidentStaffing,
    Rotation,
    Schedule,
)
from rotaguard.solver import ScheduleProblem, SolverStatus, Weights, solve

QUIET = Weights(call_fairness=0, weekend_fairness=0, continuity=0, short_rest=0)


def _rotation(rotation_id: str, *duties: PatternDuty, days_off: int = 0, **extra) -> BlockRotation:
    base = {r.id: r for r in block_rotations()}[rotation_id]
    return base.model_copy(update={"pattern": DutyPattern(duties=duties, days_off_per_week=days_off), **extra})


def _one(rotation: BlockRotation, person: str, *, optional_service: str | None = None, **program_extra):
    """A program with one resident on ``rotation``; ``optional_service`` loses its minimum (no demand)."""
    services = {}
    if optional_service is not None:
        services[optional_service] = Rotation(
            id=optional_service,
            name=optional_service,
            coverage=(
                Coverage(shift="DAY", residents=(ResidentStaffing(pgy=(1, 2, 3), min=0, max=2),)),
                Coverage(shift="NIGHT", residents=(ResidentStaffing(pgy=(1, 2, 3), min=0, max=2),)),
                Coverage(shift="CALL24", residents=(ResidentStaffing(pgy=(1, 2, 3), min=0, max=1),)),
            ),
        )
    return plan_program(
        teams={rotation.id: (person,)}, rotation_overrides={rotation.id: rotation}, service_overrides=services
    ).model_copy(update=program_extra)


def _solve(program, *, days=28, locks=(), weights=QUIET):
    existing = Schedule(assignments=tuple(locks))
    problem = ScheduleProblem(
        program=program,
        start=BLOCK_START,
        end=BLOCK_START + timedelta(days=days - 1),
        existing=existing,
        weights=weights,
    )
    return solve(problem, timeout_seconds=10, workers=1)


def _locks(person, service, shift, days):
    return [
        Assignment(person_id=person, date=BLOCK_START + timedelta(days=d), slot=shift, rotation_id=service, locked=True)
        for d in days
    ]


def _worked(result, person, service, shift):
    return sorted(
        (a.date - BLOCK_START).days
        for a in result.schedule.assignments
        if a.person_id == person and a.rotation_id == service and a.slot == shift
    )


def _rules(result):
    return {c.rule_id for c in result.conflicts}


# ---------------------------------------------------------------- per_block.max


def _wards(maximum, minimum=0, days_off=0):
    duty = PatternDuty(service="WARDS", shift="DAY", per_block=Count(min=minimum, max=maximum))
    return _rotation("WARDS", duty, days_off=days_off)


@pytest.mark.parametrize("locked, feasible", [(4, True), (5, False)])
def test_per_block_max_is_hard(locked, feasible):
    program = _one(_wards(4), "R2-01", optional_service="WARDS")
    result = _solve(program, locks=_locks("R2-01", "WARDS", "DAY", range(0, 2 * locked, 2)))
    if feasible:
        assert result.status is SolverStatus.OPTIMAL
        assert len(_worked(result, "R2-01", "WARDS", "DAY")) == 4
    else:
        assert result.status is SolverStatus.INFEASIBLE
        assert "pattern.max_per_block" in _rules(result) and "R2-01 WARDS" in result.explanation


def test_per_block_max_is_prorated_by_absence():
    # Present 14 of 28 days: at most ceil(4 * 14 / 28) = 2, so a third duty breaks the pattern.
    away = Absence(person_id="R2-01", start=BLOCK_START + timedelta(days=14), end=BLOCK_START + timedelta(days=27))
    program = _one(_wards(4), "R2-01", optional_service="WARDS", absences=(away,))
    assert _solve(program, locks=_locks("R2-01", "WARDS", "DAY", (0, 2))).status is SolverStatus.OPTIMAL
    result = _solve(program, locks=_locks("R2-01", "WARDS", "DAY", (0, 2, 4)))
    assert result.status is SolverStatus.INFEASIBLE and "pattern.max_per_block" in _rules(result)


# ---------------------------------------------------------------- fill (per_block.min, soft)


@pytest.mark.parametrize("minimum, short", [(24, 0), (25, 1)])
def test_fill_is_soft_and_counts_the_shortfall(minimum, short):
    # One day off a week leaves 24 of 28 days: 24 fills exactly, 25 is one short.
    program = _one(_wards(minimum, minimum=minimum, days_off=1), "R2-01", optional_service="WARDS")
    result = _solve(program)
    assert result.status is SolverStatus.OPTIMAL
    assert result.penalties["fill"] == short * QUIET.fill
    assert len(_worked(result, "R2-01", "WARDS", "DAY")) == 24


# ---------------------------------------------------------------- runs


def _night_float():
    duty = PatternDuty(service="NF", shift="NIGHT", per_block=Count(min=0, max=20), runs=Count(min=5, max=5))
    return _one(_rotation("NF", duty), "R2-02", optional_service="NF")


def test_runs_of_exactly_five_are_clean():
    result = _solve(_night_float(), locks=_locks("R2-02", "NF", "NIGHT", [*range(0, 5), *range(6, 11), *range(12, 17)]))
    assert result.status is SolverStatus.OPTIMAL


def test_a_run_too_short_is_infeasible():
    # 4 nights between two runs of 5, one free night either side: it can grow neither way.
    nights = [*range(0, 5), *range(6, 10), *range(11, 16)]
    result = _solve(_night_float(), locks=_locks("R2-02", "NF", "NIGHT", nights))
    assert result.status is SolverStatus.INFEASIBLE and "pattern.runs" in _rules(result)


def test_a_run_too_long_is_infeasible():
    result = _solve(_night_float(), locks=_locks("R2-02", "NF", "NIGHT", range(3, 9)))
    assert result.status is SolverStatus.INFEASIBLE and "pattern.runs" in _rules(result)


def _night_float_rows(first_days: int, then: str):
    """R2-02 on NF for the row's first ``first_days`` days, then on ``then`` for the rest of the block."""
    program = _night_float()
    middle = BLOCK_START + timedelta(days=first_days)
    rows = tuple(e for e in program.plan if e.person_id != "R2-02") + (
        PlanEntry(person_id="R2-02", start=BLOCK_START, end=middle - timedelta(days=1), rotation_id="NF"),
        PlanEntry(person_id="R2-02", start=middle, end=BLOCK_START + timedelta(days=27), rotation_id=then),
    )
    return program.model_copy(update={"plan": rows})


@pytest.mark.parametrize("then, feasible", [("NF", True), ("WARDS", False)])
def test_a_short_run_at_a_row_edge_is_judged_unless_the_same_rotation_goes_on(then, feasible):
    # Three nights fill a 3-day NF row. When the next row is night float again the run goes on
    # there (an open edge); when it is another rotation the run really ends after 3 nights.
    program = _night_float_rows(3, then)
    assert then in program.block_rotations_by_id
    result = _solve(program, locks=_locks("R2-02", "NF", "NIGHT", [0, 1, 2]))
    if feasible:
        assert result.status is SolverStatus.OPTIMAL
    else:
        assert result.status is SolverStatus.INFEASIBLE and "pattern.runs" in _rules(result)


def test_a_run_cut_by_the_row_edge_or_an_absence_is_not_judged():
    away = Absence(person_id="R2-02", start=BLOCK_START + timedelta(days=10), end=BLOCK_START + timedelta(days=11))
    program = _night_float().model_copy(update={"absences": (away,)})
    # 3 nights at the row's start, 2 nights ending at the absence.
    result = _solve(program, locks=_locks("R2-02", "NF", "NIGHT", [0, 1, 2, 8, 9]))
    assert result.status is SolverStatus.OPTIMAL


# ---------------------------------------------------------------- every


def _icu():
    duty = PatternDuty(service="ICU", shift="CALL24", per_block=Count(min=0, max=7), every=4)
    return _one(_rotation("ICU", duty), "R2-03", optional_service="ICU")


@pytest.mark.parametrize("gap, feasible", [(4, True), (3, False)])
def test_every_fourth_day_at_most(gap, feasible):
    result = _solve(_icu(), locks=_locks("R2-03", "ICU", "CALL24", (0, gap)))
    if feasible:
        assert result.status is SolverStatus.OPTIMAL
    else:
        assert result.status is SolverStatus.INFEASIBLE and "pattern.every" in _rules(result)


def test_q4_calls_fill_a_block():
    duty = PatternDuty(service="ICU", shift="CALL24", per_block=Count(min=7, max=7), every=4)
    result = _solve(_one(_rotation("ICU", duty, days_off=1), "R2-03", optional_service="ICU"))
    calls = _worked(result, "R2-03", "ICU", "CALL24")
    assert result.status is SolverStatus.OPTIMAL and result.penalties["fill"] == 0
    # Seven calls in 28 days at least four days apart (the q4 cycle, with 3 days of slack).
    assert len(calls) == 7 and all(b - a >= 4 for a, b in zip(calls, calls[1:], strict=False)), calls


# ---------------------------------------------------------------- days_off_per_week


@pytest.mark.parametrize("worked, feasible", [(6, True), (7, False)])
def test_days_off_per_week(worked, feasible):
    program = _one(_wards(24, days_off=1), "R2-01", optional_service="WARDS")
    result = _solve(program, locks=_locks("R2-01", "WARDS", "DAY", range(worked)))
    if feasible:
        assert result.status is SolverStatus.OPTIMAL
    else:
        assert result.status is SolverStatus.INFEASIBLE and "pattern.days_off_per_week" in _rules(result)


@pytest.mark.parametrize("worked, feasible", [(2, True), (3, False)])
def test_days_off_prorated_in_a_week_cut_by_the_range(worked, feasible):
    # Three days off a week; the range ends 3 days into week 2: floor(3 * 3 / 7) = 1 day off.
    program = _one(_wards(24, days_off=3), "R2-01", optional_service="WARDS")
    result = _solve(program, days=10, locks=_locks("R2-01", "WARDS", "DAY", range(7, 7 + worked)))
    if feasible:
        assert result.status is SolverStatus.OPTIMAL
    else:
        assert result.status is SolverStatus.INFEASIBLE and "pattern.days_off_per_week" in _rules(result)


# ---------------------------------------------------------------- clinic and didactics


def _ambulatory():
    return plan_program(teams={"AMB": ("R1-05",)})


def test_clinic_and_didactics_kept_each_week():
    result = _solve(_ambulatory())
    assert result.status is SolverStatus.OPTIMAL
    assert result.penalties["clinic"] == 0 and result.penalties["didactics"] == 0
    assert len(_worked(result, "R1-05", "CLINIC", "CLINIC_PM")) == 4
    assert len(_worked(result, "R1-05", "ACAD", "ACADEMIC")) == 4
    # Protected is hard: the four Tuesday AMB afternoons stay gaps (1000 each) rather than take
    # the clinic's half day, though missing the clinic would cost only 100.
    assert not {5, 12, 19, 26} & set(_worked(result, "R1-05", "AMB", "PM"))


def test_a_locked_duty_over_the_clinic_costs_the_clinic_penalty():
    # Tuesday 2026-03-17 PM on AMB, locked: the clinic that afternoon is missed, and costs.
    result = _solve(_ambulatory(), locks=_locks("R1-05", "AMB", "PM", (5,)))
    assert result.status is SolverStatus.OPTIMAL
    assert result.penalties["clinic"] == QUIET.clinic
    assert 5 not in _worked(result, "R1-05", "CLINIC", "CLINIC_PM")


def test_a_rotation_without_clinic_excuses_it():
    amb = {r.id: r for r in block_rotations()}["AMB"].model_copy(update={"clinic": False, "didactics": False})
    result = _solve(plan_program(teams={"AMB": ("R1-05",)}, rotation_overrides={"AMB": amb}))
    assert result.status is SolverStatus.OPTIMAL
    assert _worked(result, "R1-05", "CLINIC", "CLINIC_PM") == [] and _worked(result, "R1-05", "ACAD", "ACADEMIC") == []
    # Without the protection, the Tuesday afternoon (day 5) is an ambulatory session.
    assert 5 in _worked(result, "R1-05", "AMB", "PM")


# ---------------------------------------------------------------- history before the range


def _history(person, service, shift, days):
    return [
        Assignment(person_id=person, date=BLOCK_START + timedelta(days=d), slot=shift, rotation_id=service)
        for d in days
    ]


def _second_week(program, history, locks=()):
    problem = ScheduleProblem(
        program=program,
        start=BLOCK_START + timedelta(days=7),
        end=BLOCK_START + timedelta(days=13),
        existing=Schedule(assignments=tuple(history) + tuple(locks)),
        weights=QUIET,
    )
    return solve(problem, timeout_seconds=10, workers=1)


@pytest.mark.parametrize("history, night_on_day_7", [(range(3, 7), True), (range(2, 7), False)])
def test_a_run_begun_in_history_is_finished_and_never_overrun(history, night_on_day_7):
    result = _second_week(_night_float(), _history("R2-02", "NF", "NIGHT", history))
    assert result.status is SolverStatus.OPTIMAL
    assert (7 in _worked(result, "R2-02", "NF", "NIGHT")) is night_on_day_7


def test_per_block_max_counts_history():
    # Solving days 7-13 of the row: the row so far is 14 days, at most ceil(4 * 14 / 28) = 2.
    program = _one(_wards(4), "R2-01", optional_service="WARDS")
    history = _history("R2-01", "WARDS", "DAY", (1,))
    assert _second_week(program, history, _locks("R2-01", "WARDS", "DAY", (8,))).status is SolverStatus.OPTIMAL
    result = _second_week(program, history, _locks("R2-01", "WARDS", "DAY", (8, 10)))
    assert result.status is SolverStatus.INFEASIBLE and "pattern.max_per_block" in _rules(result)


def test_history_over_the_max_forbids_more_but_is_not_infeasible():
    program = _one(_wards(4, minimum=4), "R2-01", optional_service="WARDS")
    result = _second_week(program, _history("R2-01", "WARDS", "DAY", (0, 1, 2)))
    assert result.status is SolverStatus.OPTIMAL
    assert _worked(result, "R2-01", "WARDS", "DAY") == [0, 1, 2]


# ---------------------------------------------------------------- weekend fairness among peers


def test_weekend_fairness_compares_residents_on_the_same_rotation():
    # Both ward residents work Saturday and Sunday (locked); the ICU pair may work no day shift
    # at all. Across the program that is a spread of 2 weekend days; within each rotation, none.
    no_days = _rotation("ICU", PatternDuty(service="ICU", shift="DAY", per_block=Count(min=0, max=0)))
    optional = _one(_wards(24), "R2-01", optional_service="WARDS").rotations_by_id["WARDS"]
    program = plan_program(
        teams={"WARDS": ("R2-01", "R3-01"), "ICU": ("R2-03", "R3-02")},
        rotation_overrides={"WARDS": _wards(24), "ICU": no_days},
        service_overrides={"WARDS": optional, "ICU": optional.model_copy(update={"id": "ICU"})},
    )
    locks = [*_locks("R2-01", "WARDS", "DAY", (2, 3)), *_locks("R3-01", "WARDS", "DAY", (2, 3))]
    result = _solve(program, days=7, locks=locks, weights=Weights(call_fairness=0, continuity=0, short_rest=0))
    assert result.status is SolverStatus.OPTIMAL
    assert result.penalties.get("weekend_fairness", 0) == 0
