"""``plan_year``: build the layout and the model, solve with CP-SAT, read the plan and its terms
(docs/planner.md)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ortools.sat.python import cp_model

from rotaguard.domain import AssignmentSource, PlanEntry
from rotaguard.planner.explain import counting_reasons, relaxed_reason
from rotaguard.planner.layout import Layout, build_layout, components, restrict
from rotaguard.planner.model import LinearLike, YearModel, build_model
from rotaguard.planner.objective import TERMS, count_terms, plan_terms
from rotaguard.planner.problem import PlanResult, PlanStatus, YearProblem

Progress = Callable[[str], None]

# The full-problem worker chosen by hand. With 2 workers CP-SAT runs ONE full-problem subsolver
# (the first listed; the log says "1 full problem subsolver") and gives the other thread to the
# interleaved LNS and local-search workers, which find the plans. By default that one is
# default_lp, which never raised the bound on the profile (gap 12 / 8 at 30 s at 90 residents);
# max_lp's full linear relaxation with cuts proves it in seconds (BENCHMARKS.md, "Year planner").
TWO_WORKER_SUBSOLVERS = ("max_lp",)


class _Reporter(cp_model.CpSolverSolutionCallback):
    def __init__(self, progress: Progress, stage: str, started: float) -> None:
        super().__init__()
        self.progress = progress
        self.stage = stage
        self.started = started

    def on_solution_callback(self) -> None:
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


@dataclass
class _Part:
    """One independent group's solve: its plan, objective, bound and change count."""

    status: PlanStatus
    grid: list[list[str | None]]
    bound: float = 0.0
    objective: float = 0.0
    changes_proved: bool = False


def _solve_part(problem: YearProblem, layout: Layout, seconds: float, say: Progress, label: str) -> _Part:
    started = time.monotonic()
    deadline = started + seconds
    ym = build_model(layout, symmetry=not problem.minimize_changes)
    say(f"{label}: {len(layout.residents)} residents, {len(ym.x)} cell choices")
    proved = False
    if problem.minimize_changes:
        ym.model.minimize(ym.terms["change"])
        solver = _solver(problem, (deadline - time.monotonic()) / 2)
        status = solver.solve(ym.model, _Reporter(say, f"{label}, fewest changes", started))
        if status == cp_model.INFEASIBLE:
            return _Part(PlanStatus.INFEASIBLE, [])
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return _Part(PlanStatus.UNKNOWN, [])
        changed = round(solver.objective_value)
        proved = status == cp_model.OPTIMAL
        say(f"{label}: fewest changes {changed} block(s), {'proved minimal' if proved else 'not proved minimal'}")
        first_grid = _grid(ym, solver)
        # Lexicographic: the change count held at its minimum, then the other terms.
        ym.model.add(ym.terms["change"] <= changed)
        _hint(ym, first_grid)
    ym.model.minimize(_objective(ym))
    solver = _solver(problem, deadline - time.monotonic())
    status = solver.solve(ym.model, _Reporter(say, label, started))
    if status == cp_model.INFEASIBLE:
        return _Part(PlanStatus.INFEASIBLE, [])
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return _Part(PlanStatus.UNKNOWN, [])
    optimal = status == cp_model.OPTIMAL
    return _Part(
        PlanStatus.OPTIMAL if optimal else PlanStatus.FEASIBLE,
        _grid(ym, solver),
        bound=solver.objective_value if optimal else solver.best_objective_bound,
        objective=solver.objective_value,
        changes_proved=proved,
    )


def plan_year(problem: YearProblem, *, progress: Progress | None = None) -> PlanResult:
    """The year's plan from ``problem.from_block`` on, or why there is none. Each group of
    residents no rule links (``layout.components``: interns apart from seniors when no capacity
    group mixes them) is solved on its own within its share of the time limit."""
    started = time.monotonic()
    say: Progress = progress or (lambda _message: None)
    layout = build_layout(problem)
    reasons = counting_reasons(layout)
    if reasons:
        say(f"counting shows no plan can exist: {len(reasons)} reason(s)")
        return PlanResult(status=PlanStatus.INFEASIBLE, explanation=reasons, wall_seconds=time.monotonic() - started)
    deadline = started + problem.time_limit_seconds
    groups = components(layout)
    sizes = [
        sum(len(layout.options[r][b] or ()) for r in members for b in range(layout.year_blocks)) for members in groups
    ]
    grid: list[list[str | None]] = [[None] * layout.year_blocks for _ in layout.residents]
    bound = 0.0
    solved = 0.0
    optimal = True
    proved = True
    for index, members in enumerate(groups):
        share = (deadline - time.monotonic()) * sizes[index] / max(sum(sizes[index:]), 1)
        levels = sorted({layout.residents[r].pgy or 0 for r in members})
        label = "PGY-" + "/".join(str(level) for level in levels)
        part = _solve_part(problem, restrict(layout, members), share, say, label)
        if part.status is PlanStatus.INFEASIBLE:
            return _infeasible(problem, started)
        if part.status is PlanStatus.UNKNOWN:
            say(f"{label}: no plan within the time limit")
            return PlanResult(status=PlanStatus.UNKNOWN, wall_seconds=time.monotonic() - started)
        for position, r in enumerate(members):
            grid[r] = part.grid[position]
        bound += part.bound
        solved += part.objective
        optimal = optimal and part.status is PlanStatus.OPTIMAL
        proved = proved and part.changes_proved
    units = count_terms(layout, grid)
    terms = plan_terms(units, problem.weights)
    objective = float(sum(t.cost for t in terms))
    if abs(objective - solved) > 1e-6:
        # The model's units and the independent count disagree: a bug; the count is reported.
        say(f"warning: the model's objective {solved:g} differs from the terms counted {objective:g}")
    bound = min(bound, objective)
    changed = units["change"] if problem.minimize_changes or layout_has_published(layout) else None
    return PlanResult(
        status=PlanStatus.OPTIMAL if optimal and abs(objective - bound) < 1e-6 else PlanStatus.FEASIBLE,
        entries=_entries(layout, grid),
        objective=objective,
        best_bound=bound,
        terms=terms,
        changed_blocks=changed,
        changes_proved_minimal=problem.minimize_changes and proved,
        wall_seconds=time.monotonic() - started,
    )


def merged_plan(problem: YearProblem, result: PlanResult) -> tuple[PlanEntry, ...]:
    """The whole plan after writing ``result``: ``program.plan`` without the rows the planner
    replaces (the planned residents' rows starting in blocks from ``from_block`` on that hold no
    locked row, blocks now away included), plus ``result.entries``. What a caller writes, and
    what the compliance engine should judge."""
    layout = build_layout(problem)
    replaced = {row for rows in layout.published for block in rows.values() for row in block}
    kept = tuple(row for row in problem.program.plan if row not in replaced)
    return tuple(sorted((*kept, *result.entries), key=lambda e: (e.person_id, e.start)))


def layout_has_published(layout: Layout) -> bool:
    return any(layout.published[r] for r in range(len(layout.residents)))


def _infeasible(problem: YearProblem, started: float) -> PlanResult:
    left = max(problem.time_limit_seconds - (time.monotonic() - started), 1.0)
    return PlanResult(
        status=PlanStatus.INFEASIBLE,
        explanation=(relaxed_reason(problem, seconds=min(left, 10.0)),),
        wall_seconds=time.monotonic() - started,
    )


__all__ = ["TWO_WORKER_SUBSOLVERS", "merged_plan", "plan_year"]
