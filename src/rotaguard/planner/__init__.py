"""The year planner: the block schedule (person x block -> rotation) for an academic year, with
OR-Tools CP-SAT, beside the block solver (docs/planner.md).

``plan_year(YearProblem) -> PlanResult``. Hard: curriculum per PGY (prorated for blocks away),
capacity per block and PGY group, eligibility and credentials, runs and order, approved vacations
on rotations that allow them, locked and earlier blocks kept. Soft, weighted and reported term by
term (``objective.TERMS``). An infeasible curriculum is explained in a coordinator's words by
counting (``explain``). Reads domain values only: never a database session, never Prefect.
"""

from rotaguard.planner.explain import explain
from rotaguard.planner.objective import TERMS
from rotaguard.planner.problem import PlanResult, PlanStatus, PlanTerm, PlanWeights, YearProblem
from rotaguard.planner.solve import merged_plan, plan_year

__all__ = [
    "TERMS",
    "PlanResult",
    "PlanStatus",
    "PlanTerm",
    "PlanWeights",
    "YearProblem",
    "explain",
    "merged_plan",
    "plan_year",
]
