"""What the year planner is asked and what it answers, as frozen domain values (docs/planner.md)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from rotaguard.domain import PlanEntry, Program
from rotaguard.domain.base import Frozen, Identifier


class PlanStatus(StrEnum):
    OPTIMAL = "optimal"  # the objective equals the proved bound
    FEASIBLE = "feasible"  # a plan, its gap to the bound reported
    INFEASIBLE = "infeasible"  # no plan can meet the hard rules: ``explanation`` says why
    UNKNOWN = "unknown"  # no plan found within the time limit


class PlanWeights(Frozen):
    """Penalty per unit of each soft term of the year plan; the terms themselves, their titles and
    what one unit is, are ``objective.TERMS``: the one place they are listed and documented."""

    vacation_request: int = Field(default=20, ge=0)  # per request (weeks) not on a rotation allowing vacation
    # Per week of requests beyond the yearly allowance: a constant, reported; 0 prices it out.
    vacation_beyond_allowance: int = Field(default=0, ge=0)
    rotation_request: int = Field(default=10, ge=0)  # per requested block not on the rotation asked for
    heavy_run: int = Field(default=8, ge=0)  # per heavy block beyond the most allowed in a row
    heavy_fairness: int = Field(default=4, ge=0)  # per heavy block of spread within a class
    holiday_fairness: int = Field(default=4, ge=0)  # per heavy holiday block of spread within a class
    continuity: int = Field(default=2, ge=0)  # per block continuing last year's rotation or heavy run
    change: int = Field(default=1, ge=0)  # per block changed against the published plan (a re-plan)


class YearProblem(Frozen):
    """Plan ``program.year`` from block ``from_block`` on.

    ``program.plan`` is the published plan: its rows in blocks before ``from_block``, locked rows
    and rows of past years stay as they are (history: last year's final blocks count in runs and
    continuity); its unlocked rows from ``from_block`` on are what a re-plan changes as little as
    it must (``minimize_changes``)."""

    program: Program
    from_block: int = Field(default=1, ge=1, le=26)
    # Re-plan: the number of changed blocks against the published plan is the first priority,
    # proved minimal before the other terms are optimized with it held.
    minimize_changes: bool = False
    weights: PlanWeights = PlanWeights()
    time_limit_seconds: float = Field(default=60, gt=0, le=3600)
    workers: int = Field(default=2, ge=1, le=64)
    deterministic: bool = False
    seed: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _has_year(self) -> YearProblem:
        if self.program.year is None:
            raise ValueError("the program has no academic year to plan")
        if self.from_block > len(self.program.year.blocks):
            raise ValueError(f"the year has {len(self.program.year.blocks)} blocks, not {self.from_block}")
        return self


class PlanTerm(Frozen):
    """One soft term of the objective in the plan found: units, weight and cost."""

    id: Identifier
    title: str
    units: int
    weight: int

    @property
    def cost(self) -> int:
        return self.units * self.weight


class PlanResult(Frozen):
    status: PlanStatus
    # The planned rows from ``from_block`` on (one per resident and block present); rows kept
    # (earlier blocks, locked) are not repeated here.
    entries: tuple[PlanEntry, ...] = ()
    objective: float | None = None
    best_bound: float | None = None
    terms: tuple[PlanTerm, ...] = ()
    # A re-plan: blocks changed against the published plan, and whether that count is proved minimal.
    changed_blocks: int | None = None
    changes_proved_minimal: bool = False
    # Why no plan exists, in a coordinator's words with the numbers, one sentence each.
    explanation: tuple[str, ...] = ()
    wall_seconds: float = 0.0

    @property
    def gap(self) -> float | None:
        """(objective - bound) / objective; 0 when both are 0; None without a plan."""
        if self.objective is None or self.best_bound is None:
            return None
        if self.objective == 0:
            return 0.0
        return max(0.0, (self.objective - self.best_bound) / abs(self.objective))


__all__ = ["PlanResult", "PlanStatus", "PlanTerm", "PlanWeights", "YearProblem"]
