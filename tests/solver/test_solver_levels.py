"""Priorities solved in order, shortfalls proved by counting, and the warm start."""

import sys
from datetime import timedelta
from pathlib import Path

from factories import BLOCK_START, assignment, call_rotation, program, resident, session_rotation
from rotaguard.domain import Credential, ResidentStaffing, Schedule, Slot, Staffing
from rotaguard.solver import LEVELS, Request, ScheduleProblem, SolverStatus, Weights, solve
from rotaguard.solver.model import build
from rotaguard.solver.search import _hint

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from dense_cases import build_case

DAY = BLOCK_START
QUIET = Weights(call_fairness=0, weekend_fairness=0, continuity=0, call_share=0)
ACLS = (Credential(name="BLS"), Credential(name="ACLS"))


def _wards(minimum, maximum=4, **extra):
    return session_rotation(
        residents=ResidentStaffing(min=minimum, max=maximum, pgy=(1, 2, 3)),
        faculty=Staffing(min=0, max=0),
        supervised=False,
        **extra,
    )


def _problem(prog, days=1, **extra):
    return ScheduleProblem(program=prog, start=DAY, end=DAY + timedelta(days=days - 1), **extra)


def test_levels_are_the_priorities_in_order():
    assert [level.id for level in LEVELS] == ["staffing", "plan", "requests", "stability", "fairness"]
    owned = [name for level in LEVELS for name in level.penalties]
    assert len(owned) == len(set(owned))  # each penalty belongs to one level


def test_staffing_comes_before_a_request_whatever_the_weights():
    """The only resident asks for the day off the ward needs them: staffing wins even when the
    request weighs more than the shortfall; both levels are proved."""
    prog = program(people=(resident(),), rotations=(_wards(1, days=("thu",)),))
    wish = Request(person_id="R1-01", date=DAY, weight=100)
    weights = Weights(unmet_staffing=1, request=100, call_fairness=0, weekend_fairness=0, continuity=0)
    result = solve(_problem(prog, requests=(wish,), weights=weights), workers=1, timeout_seconds=20)
    assert result.status is SolverStatus.OPTIMAL
    staffing, requests = result.levels[0], result.levels[-1]
    assert (staffing.id, staffing.value, staffing.proved) == ("staffing", 0, True)
    assert (requests.id, requests.value, requests.proved) == ("requests", 100 * 100, True)
    # The weighted mode (one sum) grants the wish instead: 1 per missing person against 10,000.
    weighted = solve(
        _problem(prog, requests=(wish,), weights=weights), workers=1, timeout_seconds=20, lexicographic=False
    )
    assert [level.id for level in weighted.levels] == ["all"]
    assert weighted.penalties["request"] == 0 and weighted.penalties["unmet_staffing"] == 2  # AM and PM


def test_a_level_met_by_the_schedule_above_is_proved_without_a_search():
    prog = program(people=(resident(), resident("R1-02")), rotations=(_wards(1, maximum=1, days=("thu",)),))
    result = solve(_problem(prog, requests=(Request(person_id="R1-01", date=DAY),)), workers=1, timeout_seconds=20)
    met = [level for level in result.levels if level.value == 0 and level.seconds == 0]
    assert result.status is SolverStatus.OPTIMAL and result.objective == 0
    assert met and all(level.status == "OPTIMAL" and level.proved for level in met)


def test_the_short_staffed_calls_are_explained_by_counting():
    """84 calls needed (3 a night for 28 nights), 8 seniors may take 9 each: 12 cannot be covered."""
    _, problem = build_case("short-staffed")
    model = build(problem)
    assert [c.sentence for c in model.counted_shortfalls] == [
        "12 in-house calls cannot be covered: 84 needed, 8 eligible residents × 9 allowed = 72 "
        "(at most 9 in 28 days, none on consecutive nights)"
    ]
    assert model.counted_shortfalls[0].shortfall == 12


def test_counting_proves_nothing_when_the_calls_can_be_covered():
    _, problem = build_case("dense")  # 2 calls a night: 56 needed, 12 seniors may take far more
    assert build(problem).counted_shortfalls == []


def test_history_calls_reduce_what_a_resident_may_take():
    """One senior, one call a night for 3 nights: 2 possible with no consecutive calls; 8 calls
    already in the window (history) leave 1, so 2 of 3 cannot be covered."""
    senior = resident("R2-01", pgy=2, credentials=ACLS)
    prog = program(people=(senior,), rotations=(call_rotation(residents=ResidentStaffing(min=1, max=1, pgy=(2,))),))
    history = [assignment("R2-01", DAY - timedelta(days=2 * n + 2), Slot.CALL, "NIGHT") for n in range(8)]
    model = build(_problem(prog, days=3, existing=Schedule(assignments=tuple(history))))
    [calls] = [c for c in model.counted_shortfalls if c.what == "in-house calls"]
    assert (calls.needed, calls.supply, calls.shortfall) == (3, 1, 2)
    cold = build(_problem(prog, days=3))
    [fresh] = [c for c in cold.counted_shortfalls if c.what == "in-house calls"]
    assert (fresh.needed, fresh.supply) == (3, 2)


def test_a_shift_nobody_can_work_is_named():
    prog = program(people=(resident(),), rotations=(_wards(2, days=("thu", "fri")),))
    model = build(_problem(prog, days=2))
    sentences = [c.sentence for c in model.counted_shortfalls]
    assert sentences == [
        f"2 WARDS AM places cannot be filled: 2 needed on 2 days ({DAY}, {DAY + timedelta(days=1)}), "
        "at most 1 residents can work them",
        f"2 WARDS PM places cannot be filled: 2 needed on 2 days ({DAY}, {DAY + timedelta(days=1)}), "
        "at most 1 residents can work them",
    ]
    result = solve(_problem(prog, days=2), workers=1, timeout_seconds=20)
    assert result.shortfalls == tuple(sentences) and result.penalties["unmet_staffing"] == 4 * 1000


def test_the_warm_start_is_completed_or_repaired():
    """A regeneration's current schedule is a complete hint when it still holds; when it breaks a
    rule now (two on a ward whose maximum is one), it stays partial and the search repairs it."""
    people = (resident(), resident("R1-02"))
    current = [assignment(p, DAY, Slot.AM, "WARDS") for p in ("R1-01", "R1-02")]
    roomy = program(people=people, rotations=(_wards(1, maximum=2, days=("thu",)),))
    model = build(_problem(roomy, existing=Schedule(assignments=tuple(current)), weights=QUIET))
    assert _hint(model, model.objective_terms(), seed=0, seconds=5).kind == "complete"
    assert len(model.model.proto.solution_hint.vars) == len(model.model.proto.variables)
    tight = program(people=people, rotations=(_wards(1, maximum=1, days=("thu",)),))
    problem = _problem(tight, existing=Schedule(assignments=tuple(current)), weights=QUIET)
    model = build(problem)
    assert _hint(model, model.objective_terms(), seed=0, seconds=5).kind == "partial" and model.repair
    result = solve(problem, workers=1, timeout_seconds=20)
    assert result.status is SolverStatus.OPTIMAL and result.penalties["unmet_staffing"] == 0
