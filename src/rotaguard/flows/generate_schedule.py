"""``generate_schedule``: backup -> health -> data -> approval -> solve -> write -> validate -> publish or restore."""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.input import RunInput
from pydantic import BaseModel, Field, model_validator

from rotaguard.compliance import Report
from rotaguard.domain.base import FREE_TEXT_PATTERN, MAX_DATE, MIN_DATE, VISIBLE_TEXT_PATTERN
from rotaguard.flows.gate import audit, record_run, settle_approval
from rotaguard.flows.pauses import pause_for_answer
from rotaguard.flows.runs import GatedOutcome, ScheduleRun, gated_run, identify_run
from rotaguard.interchange.grid import block_grid_markdown
from rotaguard.solver import SolveResult
from rotaguard.tasks.generation import (
    GateError,
    check_health,
    ensure_recent_backup,
    load_program_and_schedule,
    mark_writing,
    restore_range,
    solve_block,
    validate_written_schedule,
    verify_data,
    write_schedule,
)

MAX_RANGE_DAYS = 366


class GenerateParams(BaseModel):
    """Bounded parameters of one generation."""

    start: dt.date = Field(ge=MIN_DATE, le=MAX_DATE)
    end: dt.date = Field(ge=MIN_DATE, le=MAX_DATE)
    algorithm: str = Field(default="cp_sat", pattern="^(cp_sat|greedy)$")
    timeout_seconds: int = Field(default=120, ge=5, le=3600)
    min_coverage: float = Field(default=0.8, ge=0, le=1)
    require_n1: bool = False
    # Free-running solver workers (docs/solver.md): proved levels repeat, the schedule may differ.
    deterministic: bool = False
    auto_approve_as: str | None = Field(
        default=None,
        max_length=200,
        pattern=VISIBLE_TEXT_PATTERN,
        description="Approve without pausing, as this staff id",
    )
    approval_timeout_seconds: int = Field(default=3600, ge=10, le=7 * 24 * 3600)
    lock_wait_seconds: int = Field(default=30, ge=0, le=3600)
    run_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9\-]{1,36}$")

    @model_validator(mode="after")
    def _range(self) -> GenerateParams:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        if (self.end - self.start).days + 1 > MAX_RANGE_DAYS:
            raise ValueError(f"a generation covers at most {MAX_RANGE_DAYS} days")
        return self


class Approval(RunInput):
    approve: bool = False
    # Not blanks: the schema's pattern makes the Prefect UI form refuse "   " too. Whether this id
    # may approve is the authorization matrix's decision, made by the flow.
    approver: str = Field(
        min_length=1,
        max_length=200,
        pattern=VISIBLE_TEXT_PATTERN,
        description="Your staff id: an active coordinator or admin of the program",
    )
    comment: str = Field(default="", max_length=2000, pattern=FREE_TEXT_PATTERN)


class GenerateOutcome(GatedOutcome):
    run_id: str
    backup_id: str | None = None
    flow_run_id: str | None = None
    metrics: dict[str, Any] = Field(default_factory=dict)


def ask_for_approval(
    approver: str | None, *, description: str, timeout_seconds: int, request_id: str | None
) -> Approval | None:
    """The approval given on the command line (``--yes``, as ``approver``), else a person's answer to
    the pause (the Prefect UI form, or the command waiting for it); None when nobody answers in time."""
    if approver:
        return Approval(approve=True, approver=approver, comment="approved on the command line (--yes)")
    return pause_for_answer(Approval, description=description, timeout_seconds=timeout_seconds, request_id=request_id)


def _count(number: int, singular: str, plural: str | None = None) -> str:
    return f"{number} {singular if number == 1 else plural or singular + 's'}"


def _approval_description(params: GenerateParams, backup: dict[str, Any], counts: dict[str, int]) -> str:
    plan_rows = counts.get("plan_rows_in_range", 0)
    plan_line = (
        f"* {_count(plan_rows, 'rotation plan row')} in the range: each resident works their planned rotation\n"
        if plan_rows
        else ""
    )
    return (
        f"## Approve schedule generation {params.start} .. {params.end}\n\n"
        f"* Backup **{backup['id']}** taken {backup['created_at']}, {backup['size_bytes']:,} bytes, verified\n"
        f"* {_count(counts['people'], 'person', 'people')}, {_count(counts['rotations'], 'rotation')}, {_count(counts['absences'], 'absence')}\n"
        f"* {_count(counts['assignments_in_range'], 'assignment')} now in the range (unlocked ones will be replaced)\n"
        f"{plan_line}"
        f"* Algorithm {params.algorithm}, time limit {params.timeout_seconds} s\n\n"
        "Set **approve** and give your staff id to go ahead; anything else rejects."
    )


def request_approval(params: GenerateParams, backup: dict[str, Any], counts: dict[str, int]) -> Approval | None:
    """Pause for a person's decision (the Prefect UI form, or `rotaguard generate`)."""
    return ask_for_approval(
        params.auto_approve_as,
        description=_approval_description(params, backup, counts),
        timeout_seconds=params.approval_timeout_seconds,
        request_id=params.run_id,
    )


def _metrics_row(report: Report, result: SolveResult) -> dict[str, Any]:
    metrics = report.metrics
    return {
        "demand_coverage": metrics.demand_coverage,
        "fill_rate": metrics.fill_rate,
        "expected_duties": metrics.expected_duties,
        "filled_duties": metrics.filled_duties,
        "slot_fill_rate": metrics.slot_fill_rate,
        "tier1_violations": metrics.tier1_violations,
        "tier2_warnings": metrics.tier2_warnings,
        "n1_compliant": metrics.n1_compliant,
        "solver_status": result.status.value,
        "objective": result.objective,
        "best_bound": result.best_bound,
        "solve_seconds": round(result.wall_seconds, 3),
        # Each priority in order: its value, and whether the solver proved it (bound = value).
        **{
            f"level_{level.id}": f"{level.value:g} ({'proved' if level.proved else f'bound {level.bound:g}'})"
            for level in result.levels
        },
        "shortfalls": "; ".join(result.shortfalls) or "none proved by counting",
    }


def _gates(params: GenerateParams, report: Report) -> str | None:
    if report.metrics.tier1_violations:
        return f"{report.metrics.tier1_violations} Tier 1 violations: {report.tier1[0].message}"
    if report.metrics.demand_coverage < params.min_coverage:
        return f"demand coverage {report.metrics.demand_coverage:.1%} is below {params.min_coverage:.0%}"
    if params.require_n1 and not report.metrics.n1_compliant:
        return f"not N-1 compliant ({report.metrics.n1_failures} failures)"
    return None


def _publish_artifacts(params: GenerateParams, metrics: dict[str, Any], report: Report, result: SolveResult) -> None:
    schedule = result.schedule
    program, _ = load_program_and_schedule(params.start, params.start)
    if result.levels:
        create_table_artifact(
            key="solver-priorities",
            table=[
                {
                    "priority": level.id,
                    "what": level.title,
                    "value": level.value,
                    "bound": level.bound,
                    "proved": level.proved,
                    "seconds": round(level.seconds, 2),
                }
                for level in result.levels
            ]
            + [
                {"priority": "shortfall", "what": sentence, "value": "", "bound": "", "proved": True, "seconds": ""}
                for sentence in result.shortfalls
            ],
            description="The solver's priorities in order, each with its value and the bound it proved; "
            "then each staffing shortfall that counting proves",
        )
    create_markdown_artifact(
        key="schedule-grid",
        markdown=block_grid_markdown(program, schedule, params.start, params.end),
        description="The block: each person's rotation and what they work each day",
    )
    create_table_artifact(
        key="metrics",
        table=[{"metric": k, "value": str(v)} for k, v in metrics.items()],
        description="Generation metrics",
    )
    create_table_artifact(
        key="violations",
        table=[{"rule": v.rule_id, "tier": int(v.tier), "message": v.message} for v in report.violations]
        or [{"rule": "none", "tier": 0, "message": ""}],
        description="Violations and warnings",
    )


@flow(
    name="generate-schedule",
    description="Generate a block schedule safely: backup, approval, solve, atomic write, validation, restore on failure.",
)
def generate_schedule(params: GenerateParams) -> GenerateOutcome:
    run = identify_run(params.run_id)
    return gated_run(
        run,
        GenerateOutcome(status="failed", run_id=run.run_id, flow_run_id=run.flow_run_id),
        lambda failed: _generate(params, run.run_id, failed),
        name=f"generation {run.run_id}",
        lock_wait_seconds=params.lock_wait_seconds,
        approver=params.auto_approve_as,
        subject="generate",
        schedule_run=ScheduleRun(params.start, params.end, params.algorithm, steps_record_outcome=True),
    )


def _generate(params: GenerateParams, run_id: str, outcome: GenerateOutcome) -> GenerateOutcome:
    try:
        backup = ensure_recent_backup(run_id, params.start, params.end)
        outcome = outcome.model_copy(update={"backup_id": backup["id"]})
        record_run(run_id, backup_id=backup["id"])
        check_health()
        counts = verify_data(params.start, params.end)
    except GateError as error:
        record_run(run_id, status="failed", error=str(error))
        return outcome.model_copy(update={"status": "failed", "reason": str(error)})
    record_run(run_id, status="running", metrics={"awaiting_approval": True})
    try:
        approval = request_approval(params, backup, counts)
    except Exception as error:  # a pause that times out is a rejection
        approval = None
        get_run_logger().info("approval not given: %s", type(error).__name__)
    verdict = settle_approval(approval, "generate", action="schedule.approval", audited_subject=run_id, details={})
    # Who answered, unless the matrix refused them: a rejection is theirs too.
    approved_by = verdict.answered_by if verdict.refused is None else None
    record_run(run_id, approved_by=approved_by, metrics={"awaiting_approval": False})
    if not verdict.approved:
        record_run(run_id, status="rejected", error=verdict.reason)
        return outcome.model_copy(update={"status": "rejected", "reason": verdict.reason})
    try:
        result = solve_block(
            run_id, params.start, params.end, params.algorithm, params.timeout_seconds, params.deterministic
        )
    except GateError as error:
        record_run(run_id, status="failed", error=str(error))
        return outcome.model_copy(update={"status": "failed", "reason": str(error)})
    pre_digest = mark_writing(run_id, params.start, params.end, backup["id"])
    try:
        write_schedule(run_id, params.start, params.end, result.schedule)
        record_run(run_id, status="validating")
        report = validate_written_schedule(params.start, params.end, params.require_n1)
        metrics = _metrics_row(report, result)
        _publish_artifacts(params, metrics, report, result)
        failed_gate = _gates(params, report)
    except Exception as error:
        failed_gate, metrics = f"{type(error).__name__}: {error}", {}
    if failed_gate is None:
        record_run(run_id, status="published", error=None, metrics=metrics)
        audit("schedule.publish", run_id, metrics)
        return outcome.model_copy(update={"status": "published", "metrics": metrics})
    restore_range(backup["id"], params.start, params.end, pre_digest, run_id)
    record_run(run_id, status="rolled_back", error=failed_gate, metrics=metrics)
    return outcome.model_copy(update={"status": "rolled_back", "reason": failed_gate, "metrics": metrics})
