"""Whole solves: compliance finds nothing, infeasibility is explained, results are repeatable."""

from datetime import date, timedelta

import pytest

from factories import BLOCK_START, assignment, call_rotation, program, resident
from rotaguard.compliance import validate
from rotaguard.domain import Credential, ResidentStaffing, Schedule, Slot
from rotaguard.interchange.synth import synthesize
from rotaguard.solver import ScheduleProblem, SolverStatus, solve

START = date(2026, 12, 17)
ACLS = (Credential(name="BLS"), Credential(name="ACLS"))


def _block(seed: int, days: int = 28) -> ScheduleProblem:
    program_ = synthesize(seed=seed, start=START).to_program()
    return ScheduleProblem(program=program_, start=START, end=START + timedelta(days=days - 1))


@pytest.mark.parametrize("algorithm", ["cp_sat", "greedy"])
def test_solved_block_passes_compliance(algorithm):
    problem = _block(seed=2)
    result = solve(problem, algorithm=algorithm, timeout_seconds=60, deterministic=False)
    assert result.status in (SolverStatus.OPTIMAL, SolverStatus.FEASIBLE)
    report = validate(result.schedule, problem.program, start=problem.start, end=problem.end, resilience=False)
    assert report.metrics.tier1_violations == 0, [v.message for v in report.tier1][:5]
    if algorithm == "cp_sat":
        assert report.metrics.demand_coverage == 1.0
        assert result.penalties["unmet_staffing"] == 0


def test_progress_is_reported_and_sizes_are_given():
    seen = []
    result = solve(_block(seed=3, days=7), timeout_seconds=30, deterministic=False, progress=seen.append)
    assert seen and all(p.elapsed_seconds >= 0 for p in seen)
    assert seen[-1].objective == result.objective
    assert result.variables > 0 and result.constraints > 0 and result.first_feasible_seconds is not None


def test_deterministic_for_a_fixed_seed_and_worker_count():
    problem = _block(seed=4, days=7)
    first = solve(problem, seed=7, workers=2, timeout_seconds=60)
    second = solve(problem, seed=7, workers=2, timeout_seconds=60)
    assert first.status is SolverStatus.OPTIMAL
    assert first.schedule == second.schedule


def test_infeasible_locks_are_explained():
    senior = resident("R2-01", pgy=2, credentials=ACLS)
    prog = program(people=(senior,), rotations=(call_rotation(residents=ResidentStaffing(min=0, max=1, pgy=(2, 3))),))
    locks = [assignment("R2-01", BLOCK_START + timedelta(days=d), Slot.CALL, "NIGHT", locked=True) for d in (0, 1)]
    problem = ScheduleProblem(
        program=prog,
        start=BLOCK_START,
        end=BLOCK_START + timedelta(days=3),
        existing=Schedule(assignments=tuple(locks)),
    )
    result = solve(problem, workers=1, timeout_seconds=30)
    assert result.status is SolverStatus.INFEASIBLE
    rules = {c.rule_id for c in result.conflicts}
    assert "acgme.call.consecutive_nights" in rules and "lock" in rules
    assert "R2-01" in result.explanation
    assert any(c.rule_id == "acgme.call.consecutive_nights" and c.subject == "R2-01" for c in result.conflicts)


def test_history_that_already_breaks_a_window_is_explained():
    prog = program(people=(resident(),))
    history = [
        assignment("R1-01", BLOCK_START - timedelta(days=d), s) for d in range(1, 28) for s in (Slot.AM, Slot.PM)
    ]  # 324 h
    problem = ScheduleProblem(
        program=prog, start=BLOCK_START, end=BLOCK_START, existing=Schedule(assignments=tuple(history))
    )
    result = solve(problem, workers=1, timeout_seconds=30)
    assert result.status is SolverStatus.INFEASIBLE
    assert {(c.rule_id, c.subject) for c in result.conflicts} >= {("acgme.hours.max_80_per_week", "R1-01")}


def test_unknown_algorithm_is_refused():
    with pytest.raises(ValueError, match="unknown algorithm"):
        solve(_block(seed=1, days=1), algorithm="simulated_annealing")
