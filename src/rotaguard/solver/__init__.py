"""OR-Tools CP-SAT schedule generation.

``solve(ScheduleProblem) -> SolveResult``: one builder per rule reading the same
``RuleParams`` as ``compliance`` (which it never imports); hard Tier 1 rules, weighted soft
goals, warm starts, progress callbacks, a greedy baseline and infeasibility explanations.
Never opens a database session and never imports Prefect.

Soft goals are solved as priorities in order (``levels.LEVELS``: staffing, the plan and rest,
requests, stability, fairness), each level fixed before the next; shortfalls that counting
proves are explained in ``SolveResult.shortfalls`` (``counting.py``).

Duties are (person, day, shift type, service) over the program's own shift types; in plan mode
(``program.has_plan_model``) residents follow their planned rotation's duty pattern
(``patterns.py``), and the greedy baseline refuses (``GreedyCannotFollowPlan``).
"""

from rotaguard.solver.levels import LEVELS, describe_level
from rotaguard.solver.problem import (
    Conflict,
    GreedyCannotFollowPlan,
    LevelResult,
    Progress,
    Request,
    RequestKind,
    ScheduleProblem,
    SolveResult,
    SolverStatus,
    Weights,
)
from rotaguard.solver.search import ALGORITHMS, explain, solve

__all__ = [
    "ALGORITHMS",
    "LEVELS",
    "Conflict",
    "GreedyCannotFollowPlan",
    "LevelResult",
    "Progress",
    "Request",
    "RequestKind",
    "ScheduleProblem",
    "SolveResult",
    "SolverStatus",
    "Weights",
    "describe_level",
    "explain",
    "solve",
]
