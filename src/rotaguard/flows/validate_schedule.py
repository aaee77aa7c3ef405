"""``validate_schedule``: read-only. Judge the stored schedule of a range; publish the metrics and
the violations. No backup, no lock, no approval: it writes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact
from pydantic import BaseModel, Field, model_validator

from rotaguard.compliance import Report
from rotaguard.domain.base import MAX_DATE, MIN_DATE
from rotaguard.tasks.generation import GateError, validate_written_schedule

MAX_RANGE_DAYS = 366
# An artifact is a page in the UI, not an export: past this many rows, one row says how many more.
MAX_TABLE_ROWS = 500


class ValidateParams(BaseModel):
    """Bounded parameters of one validation."""

    start: dt.date = Field(ge=MIN_DATE, le=MAX_DATE, description="First day")
    end: dt.date = Field(ge=MIN_DATE, le=MAX_DATE, description="Last day, inclusive")
    require_n1: bool = Field(default=False, description="Also compute N-1/N-2 resilience, and require N-1")

    @model_validator(mode="after")
    def _range(self) -> ValidateParams:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        if (self.end - self.start).days + 1 > MAX_RANGE_DAYS:
            raise ValueError(f"a validation covers at most {MAX_RANGE_DAYS} days")
        return self


class ValidateOutcome(BaseModel):
    status: str  # compliant, non_compliant, or failed (nothing could be judged)
    reason: str = ""
    start: dt.date
    end: dt.date
    metrics: dict[str, Any] = Field(default_factory=dict)
    tier1: list[str] = Field(default_factory=list, description="The first Tier 1 messages")


def _metrics(report: Report) -> dict[str, Any]:
    metrics: dict[str, Any] = report.metrics.model_dump(mode="json", exclude={"people"})
    return metrics


def _verdict(params: ValidateParams, report: Report) -> str | None:
    if report.metrics.tier1_violations:
        return f"{report.metrics.tier1_violations} Tier 1 violations: {report.tier1[0].message}"
    if params.require_n1 and not report.metrics.n1_compliant:
        return f"not N-1 compliant ({report.metrics.n1_failures} failures)"
    return None


def _bounded(rows: list[dict[str, Any]], empty: dict[str, Any]) -> list[dict[str, Any]]:
    if not rows:
        return [empty]
    if len(rows) <= MAX_TABLE_ROWS:
        return rows
    more = dict.fromkeys(rows[0], "") | {
        "message": f"... and {len(rows) - MAX_TABLE_ROWS} more (rotaguard validate --json lists them all)"
    }
    return rows[:MAX_TABLE_ROWS] + [more]


def _publish(params: ValidateParams, metrics: dict[str, Any], report: Report) -> None:
    span = f"{params.start} .. {params.end}"
    create_table_artifact(
        key="validation-metrics",
        table=[{"metric": k, "value": str(v)} for k, v in metrics.items()],
        description=f"Validation metrics, {span}",
    )
    violations = [
        {
            "rule": v.rule_id,
            "tier": int(v.tier),
            "person": v.person_id or "",
            "date": str(v.date or ""),
            "message": v.message,
        }
        for v in report.violations
    ]
    gaps = [
        {"rule": "coverage_gap", "tier": 0, "person": "", "date": str(g.date), "message": g.message}
        for g in report.coverage_gaps
    ]
    create_table_artifact(
        key="validation-violations",
        table=_bounded(violations + gaps, {"rule": "none", "tier": 0, "person": "", "date": "", "message": ""}),
        description=f"Violations, warnings and coverage gaps, {span}",
    )


@flow(
    name="validate-schedule",
    description="Judge the stored schedule of a date range against every rule; read-only: no backup, no lock, writes nothing.",
)
def validate_schedule(params: ValidateParams) -> ValidateOutcome:
    logger = get_run_logger()
    outcome = ValidateOutcome(status="failed", start=params.start, end=params.end)
    try:
        report = validate_written_schedule(params.start, params.end, params.require_n1)
    except GateError as error:
        logger.warning("nothing to validate: %s", error)
        return outcome.model_copy(update={"reason": str(error)})
    metrics = _metrics(report)
    _publish(params, metrics, report)
    reason = _verdict(params, report)
    status = "non_compliant" if reason else "compliant"
    logger.info("validation %s .. %s: %s %s", params.start, params.end, status, reason or "")
    return outcome.model_copy(
        update={
            "status": status,
            "reason": reason or "",
            "metrics": metrics,
            "tier1": [v.message for v in report.tier1[:20]],
        }
    )
