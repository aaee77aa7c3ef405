"""What the compliance engine reports: violations, coverage gaps, metrics."""

from __future__ import annotations

import datetime as dt
from enum import IntEnum, StrEnum
from typing import Any

from pydantic import Field

from rotaguard.domain.base import Frozen, Slot


class Tier(IntEnum):
    REGULATORY = 1  # never published
    INSTITUTIONAL = 2  # a warning that needs a coordinator's approval


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Violation(Frozen):
    rule_id: str
    tier: Tier
    severity: Severity
    message: str
    person_id: str | None = None
    rotation_id: str | None = None
    date: dt.date | None = None
    slot: Slot | None = None
    window_start: dt.date | None = None
    window_end: dt.date | None = None
    measured: float | None = None
    limit: float | None = None


class CoverageGap(Frozen):
    """Fewer people than a rotation's minimum on one slot: demand left unmet (not a rule break)."""

    rotation_id: str
    date: dt.date
    slot: Slot
    role: str
    required: int
    assigned: int
    message: str


class PersonLoad(Frozen):
    person_id: str
    hours: float
    calls: int
    max_window_hours: float


class ResilienceGap(Frozen):
    """Losing these people on this day leaves required slots no eligible, rule-abiding person can fill."""

    person_ids: tuple[str, ...]
    date: dt.date
    uncovered: tuple[str, ...]
    message: str


class Metrics(Frozen):
    demand_coverage: float
    slot_fill_rate: float
    tier1_violations: int
    tier2_warnings: int
    coverage_gaps: int
    n1_compliant: bool | None = None
    n1_failures: int | None = None
    n2_compliant: bool | None = None
    n2_failures: int | None = None
    call_spread: int | None = None
    weekend_spread: int | None = None
    people: tuple[PersonLoad, ...] = Field(default=())


class Report(Frozen):
    start: dt.date
    end: dt.date
    violations: tuple[Violation, ...]
    coverage_gaps: tuple[CoverageGap, ...]
    metrics: Metrics
    resilience: tuple[ResilienceGap, ...] = ()

    @property
    def tier1(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.tier is Tier.REGULATORY)

    @property
    def tier2(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.tier is Tier.INSTITUTIONAL)

    @property
    def publishable(self) -> bool:
        return not self.tier1

    def as_json(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "violations": [v.model_dump(mode="json", exclude_none=True) for v in self.tier1],
            "warnings": [v.model_dump(mode="json", exclude_none=True) for v in self.tier2],
            "coverage_gaps": [g.model_dump(mode="json") for g in self.coverage_gaps],
            "resilience_gaps": [g.model_dump(mode="json") for g in self.resilience],
            "metrics": self.metrics.model_dump(mode="json"),
        }
