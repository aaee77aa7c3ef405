"""What the solver is asked and what it answers, as frozen domain values."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import Field, model_validator

from rotaguard.domain import Program, Schedule
from rotaguard.domain.base import Frozen, Identifier

MAX_RANGE_DAYS = 366


class RequestKind(StrEnum):
    OFF = "off"
    WORK = "work"


class Request(Frozen):
    """A person's wish for a day (or one slot of it): granted when it costs nothing more important."""

    person_id: Identifier
    date: dt.date
    # A shift type id (v1: AM, PM or CALL); none means the whole day.
    slot: Identifier | None = None
    kind: RequestKind = RequestKind.OFF
    weight: int = Field(default=1, ge=1, le=100)


class Weights(Frozen):
    """Penalty per unit of each soft goal. Which goals come first is ``levels.LEVELS`` (staffing,
    the plan, requests, stability, fairness), solved in turn: a weight only orders the goals of
    one level (and every goal in the weighted mode, ``solve(lexicographic=False)``)."""

    unmet_staffing: int = Field(default=1000, ge=0)
    # Plan mode: each pattern duty short of its row's expected count, each clinic or didactics missed.
    fill: int = Field(default=100, ge=0)
    clinic: int = Field(default=100, ge=0)
    didactics: int = Field(default=50, ge=0)
    # Per call or weekend day by which the spread among peers exceeds the rule's limit (what
    # ``validate`` warns of), and per call off a resident's proportional share (a preference).
    call_fairness: int = Field(default=20, ge=0)
    weekend_fairness: int = Field(default=10, ge=0)
    call_share: int = Field(default=1, ge=0)
    continuity: int = Field(default=2, ge=0)
    short_rest: int = Field(default=2, ge=0)
    request: int = Field(default=5, ge=0)
    change: int = Field(default=3, ge=0)


class GreedyCannotFollowPlan(ValueError):
    """The greedy baseline was asked to solve a program whose residents follow a rotation plan."""


class ScheduleProblem(Frozen):
    """Fill ``start..end``. ``existing`` holds history, locked and current assignments: those before
    or after the range and the locked ones inside it stay; unlocked ones inside it are the current
    plan, used as a warm start and for minimal change."""

    program: Program
    start: dt.date
    end: dt.date
    existing: Schedule = Schedule()
    requests: tuple[Request, ...] = ()
    weights: Weights = Weights()

    @model_validator(mode="after")
    def _range_is_sane(self) -> ScheduleProblem:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        if (self.end - self.start).days + 1 > MAX_RANGE_DAYS:
            raise ValueError(f"a range is at most {MAX_RANGE_DAYS} days")
        return self


class SolverStatus(StrEnum):
    OPTIMAL = "OPTIMAL"
    FEASIBLE = "FEASIBLE"
    INFEASIBLE = "INFEASIBLE"
    UNKNOWN = "UNKNOWN"


class Conflict(Frozen):
    """One rule group in a set that cannot all hold."""

    rule_id: str
    subject: str
    message: str


def relative_gap(objective: float, bound: float) -> float:
    """How far the objective may still be from optimal, as a fraction of the objective."""
    if objective == bound:
        return 0.0
    return abs(objective - bound) / max(abs(objective), 1e-9)


class Progress(Frozen):
    objective: float
    best_bound: float
    elapsed_seconds: float
    # The priority being solved (``levels.LEVELS``); objective and bound are that level's.
    level: str | None = None

    @property
    def gap(self) -> float:
        return relative_gap(self.objective, self.best_bound)


class LevelResult(Frozen):
    """What one level's solve found: its value (weighted penalty units), the bound proved for it
    given the levels above at their values, and how long it took."""

    id: str
    title: str
    status: str  # OPTIMAL (proved), FEASIBLE (best found when time ran out), or UNKNOWN
    value: float
    bound: float
    seconds: float
    penalties: dict[str, float] = Field(default_factory=dict)

    @property
    def proved(self) -> bool:
        return self.value == self.bound

    @property
    def gap(self) -> float:
        return relative_gap(self.value, self.bound)


class SolveResult(Frozen):
    schedule: Schedule
    status: SolverStatus
    algorithm: str
    objective: float | None = None
    best_bound: float | None = None
    gap: float | None = None
    wall_seconds: float = 0.0
    solver_seconds: float | None = None
    first_feasible_seconds: float | None = None
    penalties: dict[str, float] = Field(default_factory=dict)
    variables: int = 0
    constraints: int = 0
    conflicts: tuple[Conflict, ...] = ()
    # The priorities in order (``levels.LEVELS``), each with its value and bound; and where the
    # staffing shortfall is, explained by counting (who could take it, how much they may take).
    levels: tuple[LevelResult, ...] = ()
    shortfalls: tuple[str, ...] = ()

    @property
    def explanation(self) -> str:
        return "; ".join(conflict.message for conflict in self.conflicts)
