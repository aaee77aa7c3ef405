"""What the compliance engine reports: violations, coverage gaps, metrics."""

from __future__ import annotations

import datetime as dt
from enum import IntEnum, StrEnum
from typing import Any

from pydantic import Field

from rotaguard.domain.base import Frozen


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
    # The shift type id (v1: AM, PM, CALL).
    slot: str | None = None
    window_start: dt.date | None = None
    window_end: dt.date | None = None
    measured: float | None = None
    limit: float | None = None


class CoverageGap(Frozen):
    """Fewer people than a service's minimum on one shift: demand left unmet (not a rule break).

    ``role`` is ``residents`` or ``faculty``; ``pgy`` names the PGY group of a v2 service's
    coverage (None for a v1 service, whose one staffing counts every resident)."""

    rotation_id: str
    date: dt.date
    slot: str
    role: str
    required: int
    assigned: int
    message: str
    pgy: tuple[int, ...] | None = None


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
    # Expected work done: see ``rotaguard.compliance.fill`` for what a program expects.
    fill_rate: float = 1.0
    expected_duties: int = 0
    filled_duties: int = 0
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
            # A v1 gap has no PGY group: it is left out, so v1 reports keep their shape.
            "coverage_gaps": [g.model_dump(mode="json", exclude_none=True) for g in self.coverage_gaps],
            "resilience_gaps": [g.model_dump(mode="json") for g in self.resilience],
            "metrics": self.metrics.model_dump(mode="json"),
        }
