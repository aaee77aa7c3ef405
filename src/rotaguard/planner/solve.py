"""``plan_year``: build the layout and the model, solve with CP-SAT, read the plan and its terms
(docs/planner.md)."""

from __future__ import annotations

import time
from collections.abc import Callable

from ortools.sat.python import cp_model

from rotaguard.domain import AssignmentSource, PlanEntry
from rotaguard.planner.explain import counting_reasons, relaxed_reason
from rotaguard.planner.layout import Layout, build_layout
from rotaguard.planner.model import LinearLike, YearModel, build_model
from rotaguard.planner.objective import TERMS, count_terms, plan_terms
from rotaguard.planner.problem import PlanResult, PlanStatus, YearProblem

Progress = Callable[[str], None]

# Two workers chosen by hand: CP-SAT's default pair on 2 workers (default_lp and an LNS worker)
# has no worker raising the lower bound, so a gap never closes; max_lp's full linear relaxation
# proves the bound while default_lp finds plans (BENCHMARKS.md, "Year planner").
TWO_WORKER_SUBSOLVERS = ("default_lp", "max_lp")


class _Reporter(cp_model.CpSolverSolutionCallback):
    def __init__(self, progress: Progress | None, stage: str, started: float) -> None:
        super().__init__()
        self.progress = progress
        self.stage = stage
        self.started = started

    def on_solution_callback(self) -> None:
        if self.progress is not None:
            self.progress(
                f"{self.stage}: plan with objective {self.objective_value:g}, bound {self.best_objective_bound:g} "
                f"at {time.monotonic() - self.started:.1f} s"
            )


def _solver(problem: YearProblem, seconds: float) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(seconds, 0.05)
    solver.parameters.num_workers = problem.workers
    solver.parameters.random_seed = problem.seed
    if problem.workers == 2:
        solver.parameters.subsolvers.extend(TWO_WORKER_SUBSOLVERS)
    if problem.deterministic and problem.workers > 1:
        solver.parameters.interleave_search = True
        solver.parameters.interleave_batch_size = 1
    return solver


def _grid(ym: YearModel, solver: cp_model.CpSolver) -> list[list[str | None]]:
    layout = ym.layout
    grid: list[list[str | None]] = [[None] * layout.year_blocks for _ in layout.residents]
    for (r, b, k), var in ym.x.items():
        if solver.boolean_value(var):
            grid[r][b] = layout.rotations[k].id
    return grid


def _hint(ym: YearModel, grid: list[list[str | None]]) -> None:
    ym.model.clear_hints()  # type: ignore[no-untyped-call]
    for (r, b, k), var in ym.x.items():
        ym.model.add_hint(var, grid[r][b] == ym.layout.rotations[k].id)


def _entries(layout: Layout, grid: list[list[str | None]]) -> tuple[PlanEntry, ...]:
    return tuple(
        PlanEntry(
            person_id=person.id,
            start=layout.blocks[b].start,
            end=layout.blocks[b].end,
            rotation_id=rotation_id,
            source=AssignmentSource.SOLVER,
        )
        for r, person in enumerate(layout.residents)
        for b, rotation_id in enumerate(grid[r])
        if rotation_id is not None
    )


def _objective(ym: YearModel, skip: frozenset[str] = frozenset()) -> LinearLike:
    weights = ym.layout.problem.weights
    return sum((t.weight(weights) * ym.terms[t.id] for t in TERMS if t.id not in skip), start=0)


def plan_year(problem: YearProblem, *, progress: Progress | None = None) -> PlanResult:
    """The year's plan from ``problem.from_block`` on, or why there is none."""
    started = time.monotonic()
    say = progress or (lambda _message: None)
    layout = build_layout(problem)
    reasons = counting_reasons(layout)
    if reasons:
        say(f"counting shows no plan can exist: {len(reasons)} reason(s)")
        return PlanResult(status=PlanStatus.INFEASIBLE, explanation=reasons, wall_seconds=time.monotonic() - started)
    ym = build_model(layout, symmetry=not problem.minimize_changes)
    say(f"model: {len(layout.residents)} residents, {layout.year_blocks} blocks, {len(ym.x)} cell choices")
    deadline = started + problem.time_limit_seconds
    changed: int | None = None
    proved = False
    if problem.minimize_changes:
        ym.model.minimize(ym.terms["change"])
        solver = _solver(problem, (deadline - time.monotonic()) / 2)
        status = solver.solve(ym.model, _Reporter(progress, "fewest changes", started))
        if status == cp_model.INFEASIBLE:
            return _infeasible(problem, layout, started)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return PlanResult(status=PlanStatus.UNKNOWN, wall_seconds=time.monotonic() - started)
        changed = round(solver.objective_value)
        proved = status == cp_model.OPTIMAL
        say(f"fewest changes: {changed} block(s), {'proved minimal' if proved else 'not proved minimal'}")
        first_grid = _grid(ym, solver)
        # Lexicographic: the change count held at its minimum, then the other terms.
        ym.model.add(ym.terms["change"] <= changed)
        _hint(ym, first_grid)
    ym.model.minimize(_objective(ym))
    solver = _solver(problem, deadline - time.monotonic())
    status = solver.solve(ym.model, _Reporter(progress, "plan", started))
    if status == cp_model.INFEASIBLE:
        return _infeasible(problem, layout, started)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return PlanResult(status=PlanStatus.UNKNOWN, wall_seconds=time.monotonic() - started)
    grid = _grid(ym, solver)
    units = count_terms(layout, grid)
    terms = plan_terms(units, problem.weights)
    objective = float(sum(t.cost for t in terms))
    if abs(objective - solver.objective_value) > 1e-6:
        # The model's units and the independent count disagree: a bug; report the count.
        say(f"warning: the model's objective {solver.objective_value:g} differs from the count {objective:g}")
    bound = float(min(solver.best_objective_bound, objective))
    optimal = abs(objective - bound) < 1e-6
    if problem.minimize_changes:
        changed = units["change"]
    elif layout_has_published(layout):
        changed = units["change"]
    return PlanResult(
        status=PlanStatus.OPTIMAL if optimal else PlanStatus.FEASIBLE,
        entries=_entries(layout, grid),
        objective=objective,
        best_bound=bound,
        terms=terms,
        changed_blocks=changed,
        changes_proved_minimal=proved,
        wall_seconds=time.monotonic() - started,
    )


def layout_has_published(layout: Layout) -> bool:
    return any(layout.published[r] for r in range(len(layout.residents)))


def _infeasible(problem: YearProblem, layout: Layout, started: float) -> PlanResult:
    left = max(problem.time_limit_seconds - (time.monotonic() - started), 1.0)
    return PlanResult(
        status=PlanStatus.INFEASIBLE,
        explanation=(relaxed_reason(problem, seconds=min(left, 10.0)),),
        wall_seconds=time.monotonic() - started,
    )


__all__ = ["TWO_WORKER_SUBSOLVERS", "plan_year"]
