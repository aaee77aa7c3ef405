"""``solve``: CP-SAT (optimal, explained when infeasible) or the greedy baseline."""

from __future__ import annotations

import time
from collections.abc import Callable

from ortools.sat.python import cp_model

from rotaguard.domain import Schedule
from rotaguard.solver.model import (
    RULE_TITLES,
    ScheduleModel,
    build,
    current_keys,
    duty_key,
    kept_assignments,
    solution_schedule,
)
from rotaguard.solver.problem import Conflict, Progress, ScheduleProblem, SolveResult, SolverStatus, relative_gap

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

    def on_solution_callback(self) -> None:
        elapsed = time.perf_counter() - self.began
        if self.first_feasible is None:
            self.first_feasible = elapsed
        if self.report is not None:
            self.report(
                Progress(objective=self.objective_value, best_bound=self.best_objective_bound, elapsed_seconds=elapsed)
            )


def _parameters(
    solver: cp_model.CpSolver, *, timeout_seconds: float, seed: int, workers: int, deterministic: bool
) -> None:
    solver.parameters.max_time_in_seconds = timeout_seconds
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


def _hint(model: ScheduleModel) -> None:
    """Warm start from the current plan, or else from the greedy baseline's schedule (v1 only: the
    greedy cannot follow a rotation plan, and a hint that breaks the patterns only misleads)."""
    current = current_keys(model.problem)
    if not current and model.program.has_plan_model:
        return
    if not current:
        from rotaguard.solver.greedy import solve_greedy

        problem = model.problem
        current = {
            (a.person_id, a.date, a.slot, a.rotation_id)
            for a in solve_greedy(problem).schedule.assignments
            if problem.start <= a.date <= problem.end and not a.locked
        }
    for duty in model.variables():
        assert not isinstance(duty.lit, int)  # variables() holds the duties that are literals
        model.model.add_hint(duty.lit, duty_key(model, duty) in current)


def solve(
    problem: ScheduleProblem,
    *,
    algorithm: str = "cp_sat",
    timeout_seconds: float = 60.0,
    seed: int = 0,
    workers: int = 2,
    deterministic: bool = True,
    progress: ProgressCallback | None = None,
) -> SolveResult:
    """Solve ``problem``. With ``deterministic`` (the default) the same problem, seed and worker
    count give the same schedule whenever the search ends before ``timeout_seconds``."""
    if algorithm == "greedy":
        from rotaguard.solver.greedy import solve_greedy

        return solve_greedy(problem)
    if algorithm != "cp_sat":
        raise ValueError(f"unknown algorithm {algorithm!r}: one of {', '.join(ALGORITHMS)}")
    began = time.perf_counter()
    model = build(problem)
    _hint(model)
    solver = cp_model.CpSolver()
    _parameters(solver, timeout_seconds=timeout_seconds, seed=seed, workers=workers, deterministic=deterministic)
    callback = _Progress(began, progress)
    status = _STATUS.get(solver.solve(model.model, callback), SolverStatus.UNKNOWN)
    proto = model.model.proto
    size = {"variables": len(proto.variables), "constraints": len(proto.constraints)}
    if status is SolverStatus.INFEASIBLE:
        conflicts = explain(problem, seed=seed)
        return SolveResult(
            schedule=Schedule(assignments=tuple(kept_assignments(problem))),
            status=status,
            algorithm=algorithm,
            wall_seconds=time.perf_counter() - began,
            conflicts=conflicts,
            **size,
        )
    if status is SolverStatus.UNKNOWN:
        return SolveResult(
            schedule=Schedule(assignments=tuple(kept_assignments(problem))),
            status=status,
            algorithm=algorithm,
            wall_seconds=time.perf_counter() - began,
            **size,
        )
    objective, bound = solver.objective_value, solver.best_objective_bound
    return SolveResult(
        schedule=solution_schedule(model, [d for d in model.variables() if solver.boolean_value(d.lit)]),
        status=status,
        algorithm=algorithm,
        objective=objective,
        best_bound=bound,
        gap=relative_gap(objective, bound),
        wall_seconds=time.perf_counter() - began,
        solver_seconds=solver.wall_time,
        first_feasible_seconds=callback.first_feasible,
        penalties={name: float(solver.value(term)) for name, term in model.objective_terms().items()},
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
