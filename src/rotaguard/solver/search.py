"""``solve``: CP-SAT (optimal, explained when infeasible) or the greedy baseline."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from ortools.sat.python import cp_model

from rotaguard.domain import Schedule
from rotaguard.solver.levels import LEVEL_OF_PENALTY, LEVELS, Level, time_for_level
from rotaguard.solver.model import (
    RULE_TITLES,
    ScheduleModel,
    build,
    current_keys,
    duty_key,
    kept_assignments,
    solution_schedule,
)
from rotaguard.solver.problem import (
    Conflict,
    LevelResult,
    Progress,
    ScheduleProblem,
    SolveResult,
    SolverStatus,
    relative_gap,
)

ProgressCallback = Callable[[Progress], None]
ALGORITHMS = ("cp_sat", "greedy")
EXPLAIN_SECONDS = 30.0
TWO_WORKER_SUBSOLVERS = ("default_lp", "reduced_costs")

_STATUS = {
    cp_model.OPTIMAL: SolverStatus.OPTIMAL,
    cp_model.FEASIBLE: SolverStatus.FEASIBLE,
    cp_model.INFEASIBLE: SolverStatus.INFEASIBLE,
}


class _Progress(cp_model.CpSolverSolutionCallback):
    def __init__(self, began: float, report: ProgressCallback | None) -> None:
        super().__init__()
        self.began = began
        self.report = report
        self.first_feasible: float | None = None
        self.level: str | None = None

    def on_solution_callback(self) -> None:
        elapsed = time.perf_counter() - self.began
        if self.first_feasible is None:
            self.first_feasible = elapsed
        if self.report is not None:
            self.report(
                Progress(
                    objective=self.objective_value,
                    best_bound=self.best_objective_bound,
                    elapsed_seconds=elapsed,
                    level=self.level,
                )
            )


def _parameters(
    solver: cp_model.CpSolver,
    *,
    timeout_seconds: float,
    seed: int,
    workers: int,
    deterministic: bool,
    repair: bool = False,
) -> None:
    solver.parameters.max_time_in_seconds = timeout_seconds
    if repair:
        solver.parameters.repair_hint = True
    solver.parameters.random_seed = seed
    solver.parameters.num_workers = workers
    if workers == 2:
        # Two workers chosen by hand: the default pair has no worker that raises the bound, so on
        # a real block the gap never closes; default_lp finds solutions, reduced_costs proves them.
        solver.parameters.subsolvers.extend(TWO_WORKER_SUBSOLVERS)
    if deterministic and workers > 1:
        # Interleaved workers make a parallel search repeatable for a fixed seed and worker
        # count, at a price: on a real block it proves optimality in about 5-9 s, where the
        # free-running portfolio needs about 1.5 s (BENCHMARKS.md).
        solver.parameters.interleave_search = True
        solver.parameters.interleave_batch_size = 1


def _hinted_duties(model: ScheduleModel) -> set[tuple[str, date, str, str]] | None:
    """The warm start's duties: the current plan (a regeneration), or else the greedy baseline's
    schedule (v1 only: the greedy cannot follow a rotation plan, and a hint that breaks the
    patterns only misleads)."""
    current = current_keys(model.problem)
    if current:
        return current
    if model.program.has_plan_model:
        return None
    from rotaguard.solver.greedy import solve_greedy

    problem = model.problem
    return {
        (a.person_id, a.date, a.slot, a.rotation_id)
        for a in solve_greedy(problem).schedule.assignments
        if problem.start <= a.date <= problem.end and not a.locked
    }


@dataclass(frozen=True)
class WarmStart:
    """How the search was started: ``complete`` (``solver`` holds that schedule, the fallback when
    the search finds nothing better in time), ``partial`` (to be repaired) or ``none``."""

    kind: str
    solver: cp_model.CpSolver | None = None


def _hint(model: ScheduleModel, terms: dict[str, Any], *, seed: int, seconds: float) -> WarmStart:
    """Warm start the search with a complete, feasible hint when there is one.

    The duties alone leave every helper variable (shortfalls, day flags, fairness counts) unset,
    and CP-SAT then rarely takes the hint as its first solution. So the hinted duties are fixed in
    a copy of the model, which a single worker completes at the least cost (every helper is then
    implied). When that copy is infeasible (a current plan that a changed rule or absence now
    breaks), the duties stay as a partial hint for the search to repair. Returns what was done.
    """
    hinted = _hinted_duties(model)
    if hinted is None:
        return WarmStart("none")
    duties = [(duty, duty_key(model, duty) in hinted) for duty in model.variables()]
    trial = model.model.clone()
    for duty, value in duties:
        assert not isinstance(duty.lit, int)  # variables() holds the duties that are literals
        trial.add(trial.get_bool_var_from_proto_index(duty.lit.index) == int(value))
    if terms:
        trial.minimize(sum(terms.values()))
    solver = cp_model.CpSolver()
    _parameters(solver, timeout_seconds=max(seconds, 0.1), seed=seed, workers=1, deterministic=True)
    if solver.solve(trial) in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        _complete_hint(model, list(solver.response_proto.solution))
        return WarmStart("complete", solver)
    for duty, value in duties:
        assert not isinstance(duty.lit, int)
        model.model.add_hint(duty.lit, value)
    model.repair = True
    return WarmStart("partial")


def _complete_hint(model: ScheduleModel, values: list[int]) -> None:
    """Every variable hinted with a known solution's value."""
    proto = model.model.proto
    proto.clear_solution_hint()
    proto.solution_hint.vars.extend(range(len(values)))
    proto.solution_hint.values.extend(values)


def _active_levels(terms: dict[str, Any]) -> list[tuple[Level, Any]]:
    """Each level with any of its penalties in the model, and the sum it minimises."""
    active: list[tuple[Level, Any]] = []
    for level in LEVELS:
        names = [name for name in level.penalties if name in terms]
        if names:
            active.append((level, sum(terms[name] for name in names)))
    unplaced = sorted(set(terms) - set(LEVEL_OF_PENALTY))
    if unplaced:  # a goal added without a level joins the last one rather than being dropped
        if not active:
            active.append((LEVELS[-1], 0))
        level, expression = active[-1]
        active[-1] = (level, expression + sum(terms[name] for name in unplaced))
    return active


def _search(
    model: ScheduleModel,
    callback: _Progress,
    seconds: float,
    *,
    seed: int,
    workers: int,
    deterministic: bool,
    repair: bool,
) -> tuple[cp_model.CpSolver, SolverStatus]:
    """One CP-SAT search of the model's current objective."""
    attempt = cp_model.CpSolver()
    _parameters(
        attempt, timeout_seconds=seconds, seed=seed, workers=workers, deterministic=deterministic, repair=repair
    )
    return attempt, _STATUS.get(attempt.solve(model.model, callback), SolverStatus.UNKNOWN)


def _kept(
    model: ScheduleModel, level: Level, expression: Any, found: cp_model.CpSolver, status: str, seconds: float
) -> LevelResult:
    """A level left at what the schedule found before gives it (a bound of 0, or proved when
    that is 0), and held there for the levels below."""
    value = round(found.value(expression))
    model.model.add(expression <= value)
    return LevelResult(id=level.id, title=level.title, status=status, value=value, bound=0, seconds=seconds)


def solve(
    problem: ScheduleProblem,
    *,
    algorithm: str = "cp_sat",
    timeout_seconds: float = 60.0,
    seed: int = 0,
    workers: int = 2,
    deterministic: bool = True,
    progress: ProgressCallback | None = None,
    lexicographic: bool = True,
) -> SolveResult:
    """Solve ``problem``: each priority of ``levels.LEVELS`` in turn (or, with ``lexicographic``
    off, one weighted sum of every penalty). With ``deterministic`` (the default) the same
    problem, seed and worker count give the same schedule whenever every level ends before the
    time limit."""
    if algorithm == "greedy":
        from rotaguard.solver.greedy import solve_greedy

        return solve_greedy(problem)
    if algorithm != "cp_sat":
        raise ValueError(f"unknown algorithm {algorithm!r}: one of {', '.join(ALGORITHMS)}")
    began = time.perf_counter()
    model = build(problem)
    terms = model.objective_terms()
    start = _hint(model, terms, seed=seed, seconds=min(5.0, timeout_seconds / 4))
    # A completed warm start is a schedule the solve can return: the first feasible one.
    hinted_at = time.perf_counter() - began if start.solver is not None else None
    proto = model.model.proto
    size = {"variables": len(proto.variables), "constraints": len(proto.constraints)}
    shortfalls = tuple(bound.sentence for bound in model.counted_shortfalls)
    levels = _active_levels(terms)
    if not lexicographic and levels:
        everything = sum(expression for _, expression in levels)
        levels = [(Level("all", "every penalty, weighted", tuple(model.penalties)), everything)]
    if not levels:  # nothing soft to weigh: one feasibility solve
        levels = [(Level("feasible", "every hard rule", ()), 0)]
    done: list[LevelResult] = []
    callback = _Progress(began, progress)
    # The solver holding the best complete schedule so far: the warm start's, then each level's.
    solver: cp_model.CpSolver | None = start.solver
    searched = False
    for number, (level, expression) in enumerate(levels):
        remaining = timeout_seconds - (time.perf_counter() - began)
        if solver is not None and remaining < 0.05:
            done.append(_kept(model, level, expression, solver, "UNKNOWN", 0))  # no time left to search
            continue
        if solver is not None and solver.value(expression) == 0:
            # Penalties are never negative: a level the schedule above already meets at 0 is proved.
            done.append(_kept(model, level, expression, solver, "OPTIMAL", 0))
            continue
        model.model.minimize(expression)
        callback.level = level.id
        level_began = time.perf_counter()
        # Only the first search repairs a partial warm start; later ones start from a schedule.
        repair = model.repair and not searched
        share = max(time_for_level(remaining, len(levels) - number, first=not searched), 0.05)
        attempt, status = _search(
            model, callback, share, seed=seed, workers=workers, deterministic=deterministic, repair=repair
        )
        left = timeout_seconds - (time.perf_counter() - began)
        if not searched and status is SolverStatus.UNKNOWN and left > 0.5:
            # No schedule yet within the first level's share: it takes all the time that is left.
            attempt, status = _search(
                model, callback, left, seed=seed, workers=workers, deterministic=deterministic, repair=repair
            )
        searched = True
        if status is SolverStatus.INFEASIBLE or (solver is None and status is SolverStatus.UNKNOWN):
            conflicts = explain(problem, seed=seed) if status is SolverStatus.INFEASIBLE else ()
            return SolveResult(
                schedule=Schedule(assignments=tuple(kept_assignments(problem))),
                status=status,
                algorithm=algorithm,
                wall_seconds=time.perf_counter() - began,
                conflicts=conflicts,
                shortfalls=shortfalls,
                **size,
            )
        if status not in (SolverStatus.OPTIMAL, SolverStatus.FEASIBLE):
            # No better schedule in time: the one found before stands (its value, a bound of 0).
            assert solver is not None
            done.append(_kept(model, level, expression, solver, "UNKNOWN", time.perf_counter() - level_began))
            continue
        solver = attempt
        value = round(solver.objective_value)
        done.append(
            LevelResult(
                id=level.id,
                title=level.title,
                status=status.value,
                value=value,
                bound=min(float(math.ceil(solver.best_objective_bound - 1e-6)), value),
                seconds=time.perf_counter() - level_began,
                penalties={name: float(solver.value(terms[name])) for name in level.penalties if name in terms},
            )
        )
        if number + 1 < len(levels):
            # The next levels may not give back what this one won, and start from its schedule.
            model.model.add(expression <= value)
            _complete_hint(model, list(solver.response_proto.solution))
    assert solver is not None
    objective = sum(level.value for level in done)
    bound = sum(level.bound for level in done)
    final = "OPTIMAL" if all(level.status == "OPTIMAL" for level in done) else "FEASIBLE"
    return SolveResult(
        schedule=solution_schedule(model, [d for d in model.variables() if solver.boolean_value(d.lit)]),
        status=SolverStatus(final),
        algorithm=algorithm,
        objective=objective,
        best_bound=bound,
        gap=relative_gap(objective, bound),
        wall_seconds=time.perf_counter() - began,
        solver_seconds=sum(level.seconds for level in done),
        first_feasible_seconds=min((t for t in (hinted_at, callback.first_feasible) if t is not None), default=None),
        penalties={name: float(solver.value(term)) for name, term in terms.items()},
        levels=tuple(done),
        shortfalls=shortfalls,
        **size,
    )


def explain(problem: ScheduleProblem, *, seed: int = 0) -> tuple[Conflict, ...]:
    """Which rule groups (per person or slot) and locked assignments cannot all hold together."""
    model = build(problem, explain=True, soft=False)
    literals = [model.model.get_bool_var_from_proto_index(index) for index in model.assumptions]
    model.model.add_assumptions(literals)
    solver = cp_model.CpSolver()
    # Core extraction needs a single worker.
    _parameters(solver, timeout_seconds=EXPLAIN_SECONDS, seed=seed, workers=1, deterministic=True)
    status = solver.solve(model.model)
    if status != cp_model.INFEASIBLE:
        return (
            Conflict(
                rule_id="unknown",
                subject="",
                message="the rules could not all be met, and no smaller cause was found in time",
            ),
        )
    conflicts = []
    for index in solver.sufficient_assumptions_for_infeasibility():
        rule_id, subject = model.assumptions[index]
        conflicts.append(
            Conflict(rule_id=rule_id, subject=subject, message=f"{RULE_TITLES.get(rule_id, rule_id)}: {subject}")
        )
    return tuple(sorted(conflicts, key=lambda c: (c.rule_id != "lock", c.rule_id, c.subject)))
