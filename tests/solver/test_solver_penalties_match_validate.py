"""The solver's penalties are what ``validate`` finds, on every benchmark case (bench/dense_cases.py).

Whatever solution a search returns, optimal or cut short, the penalty the solver reports for a
goal that ``validate`` also judges must count exactly what validate reports of that schedule:
people missing from coverage minimums, short rests between duty periods, calls and weekend days
beyond the fairness spread, missed clinics. A short time limit leaves some cases unfinished,
which is the point: unfinished schedules carry penalties to compare.
"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from dense_cases import ALL_CASES, JUDGED_BY_VALIDATE, build_case, findings_in_units, penalty_mismatches
from rotaguard.compliance import validate
from rotaguard.solver import solve

# The 26- and 36-person cases over a whole block; the 90- and 150-person ones are compared by
# the benchmark itself (bench/solve_dense.py exits 1 on a mismatch).
CASES = [case.name for case in ALL_CASES if case.people <= 36]


@pytest.mark.parametrize("name", CASES)
def test_penalties_equal_validate_findings(name):
    program, problem = build_case(name)
    result = solve(problem, timeout_seconds=6, workers=2, deterministic=False)
    assert result.status.value in {"OPTIMAL", "FEASIBLE"}, result.status
    report = validate(result.schedule, program, start=problem.start, end=problem.end, resilience=False)
    assert report.metrics.tier1_violations == 0
    assert penalty_mismatches(result, report, problem.weights) == {}
    # Every judged goal the model carries is compared (none silently missing from the mapping).
    judged = set(result.penalties) & set(JUDGED_BY_VALIDATE)
    assert judged >= {"unmet_staffing"} and set(findings_in_units(report)) >= judged


def test_the_comparison_sees_a_difference():
    """A penalty that does not match its findings is reported (the check can fail)."""
    program, problem = build_case("short-staffed")
    result = solve(problem, timeout_seconds=6, workers=2, deterministic=False)
    report = validate(result.schedule, program, start=problem.start, end=problem.end, resilience=False)
    shortfall = result.penalties["unmet_staffing"] / problem.weights.unmet_staffing
    assert shortfall >= 12  # 84 calls needed, 72 possible
    doctored = result.model_copy(update={"penalties": {**result.penalties, "unmet_staffing": 0.0}})
    assert penalty_mismatches(doctored, report, problem.weights) == {"unmet_staffing": (0.0, shortfall)}
