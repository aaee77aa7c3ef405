"""``plan_year``: lock -> verified backup -> health -> data check (the curriculum counted) -> approval
-> solve the year -> mark writing -> write the plan rows in one transaction -> validate with the
compliance engine -> publish, or restore the plan rows from the pre-op backup and prove it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from pydantic import BaseModel, Field

from rotaguard.academic_year import replan_range, year_mismatch
from rotaguard.domain import Program
from rotaguard.domain.base import VISIBLE_TEXT_PATTERN
from rotaguard.flows.gate import audit, record_run, settle_approval
from rotaguard.flows.generate_schedule import Approval, ask_for_approval
from rotaguard.flows.runs import GatedOutcome, ScheduleRun, gated_run, identify_run
from rotaguard.interchange.plan_view import curriculum_counts, plan_grid_markdown
from rotaguard.planner import PlanResult
from rotaguard.recovery import PLAN_ALGORITHM
from rotaguard.tasks.generation import GateError, check_health, ensure_recent_backup
from rotaguard.tasks.planning import (
    load_program,
    mark_writing_plan,
    restore_plan_range,
    solve_plan,
    validate_written_plan,
    verify_plan_data,
    write_plan,
)

MIN_YEAR, MAX_YEAR = 2000, 2100


class PlanYearParams(BaseModel):
    """Bounded parameters of one year plan."""

    year: int = Field(
        ge=MIN_YEAR, le=MAX_YEAR, description="The academic year by the year it starts in: 2027 for 2027-28"
    )
    from_block: int = Field(default=1, ge=1, le=26, description="Re-plan from this block on; earlier blocks stay")
    timeout_seconds: int = Field(default=60, ge=5, le=3600)
    # Free-running planner workers by default: the proved optimum repeats, the plan may differ.
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


class PlanOutcome(GatedOutcome):
    run_id: str
    backup_id: str | None = None
    flow_run_id: str | None = None
    metrics: dict[str, Any] = Field(default_factory=dict)


def _count(number: int, singular: str, plural: str | None = None) -> str:
    return f"{number} {singular if number == 1 else plural or singular + 's'}"


def approval_description(params: PlanYearParams, backup: dict[str, Any], data: dict[str, Any]) -> str:
    """The form's text: the year, the requirement table and what would be replaced."""
    rows = "\n".join(
        f"| PGY-{r['pgy']} | {r['rotation']} | {r['min_blocks']:g} | {r['max_blocks']:g} | "
        f"{r['max_in_a_row'] or ''} | {r['residents']} |"
        for r in data["requirements"]
    )
    earlier = (
        f"* Blocks 1..{params.from_block - 1} are kept as they are ({_count(data['earlier_rows_kept'], 'row')})\n"
        if params.from_block > 1
        else ""
    )
    return (
        f"## Approve the year plan {data['label']} ({params.year}), blocks {params.from_block}..{data['blocks']}\n\n"
        f"* Backup **{backup['id']}** taken {backup['created_at']}, {backup['size_bytes']:,} bytes, verified\n"
        f"* {_count(data['residents'], 'active resident')}, {data['start']} .. {data['end']}\n"
        f"* {_count(data['plan_rows_replaced'], 'rotation plan row')} from block {params.from_block} on will be "
        f"replaced; {_count(data['locked_rows_kept'], 'locked row')} kept\n"
        f"{earlier}"
        f"* {_count(data['duties_in_range'], 'duty', 'duties')} already in the re-planned blocks (not changed here: "
        "generate those blocks again to follow the new plan)\n"
        f"* Planner time limit {params.timeout_seconds} s\n\n"
        "| PGY | rotation | min blocks | max blocks | max in a row | residents |\n|---|---|---|---|---|---|\n"
        f"{rows}\n\n"
        "Set **approve** and give your staff id to go ahead; anything else rejects."
    )


def request_approval(params: PlanYearParams, backup: dict[str, Any], data: dict[str, Any]) -> Approval | None:
    return ask_for_approval(
        params.auto_approve_as,
        description=approval_description(params, backup, data),
        timeout_seconds=params.approval_timeout_seconds,
        request_id=params.run_id,
    )


def _metrics_row(result: PlanResult, counts: dict[str, int]) -> dict[str, Any]:
    return {
        "planner_status": result.status.value,
        "objective": result.objective,
        "best_bound": result.best_bound,
        "gap": result.gap,
        "changed_blocks": result.changed_blocks,
        "changes_proved_minimal": result.changes_proved_minimal,
        "solve_seconds": round(result.wall_seconds, 3),
        "rows_written": counts.get("created", 0),
        "rows_replaced": counts.get("updated", 0),
        **{f"term_{term.id}": f"{term.units} x {term.weight} = {term.cost}" for term in result.terms},
    }


def _publish_artifacts(metrics: dict[str, Any], result: PlanResult) -> None:
    program = load_program()
    create_markdown_artifact(
        key="plan-grid",
        markdown=plan_grid_markdown(program),
        description="The year plan: each resident's rotation in each block",
    )
    create_table_artifact(
        key="curriculum-have-need",
        table=[
            {"person": person_id, "rotation": rotation, "have": c.have, "need": c.need_min, "max": c.need_max}
            for person_id, mine in curriculum_counts(program).items()
            for rotation, c in mine.items()
        ],
        description="Each resident's blocks of each curriculum rotation (have) against the minimum (need)",
    )
    create_table_artifact(
        key="plan-objective",
        table=[
            {"term": t.id, "what": t.title, "units": t.units, "weight": t.weight, "cost": t.cost} for t in result.terms
        ]
        or [{"term": "none", "what": "", "units": 0, "weight": 0, "cost": 0}],
        description="The planner's soft terms in the plan found: units, weight and cost",
    )
    create_table_artifact(
        key="plan-metrics",
        table=[{"metric": k, "value": str(v)} for k, v in metrics.items()],
        description="Status, objective, proved bound, gap and changed blocks",
    )


@flow(
    name="plan-year",
    description="Plan the academic year's rotations safely: backup, approval, solve, atomic write, validation, restore on failure.",
)
def plan_year(params: PlanYearParams) -> PlanOutcome:
    run = identify_run(params.run_id)
    failed = PlanOutcome(status="failed", run_id=run.run_id, flow_run_id=run.flow_run_id)
    program = load_program_or_none()
    mismatch = year_mismatch(program, params.year, params.from_block)
    if mismatch or program is None:
        # Nothing to lock or record: the year asked for is not this program's.
        get_run_logger().info("plan-year refused: %s", mismatch)
        return failed.model_copy(update={"reason": mismatch or "no program is stored"})
    start, end = replan_range(program, params.from_block)
    return gated_run(
        run,
        failed,
        lambda outcome: _plan(params, run.run_id, outcome, start, end),
        name=f"plan {run.run_id}",
        lock_wait_seconds=params.lock_wait_seconds,
        approver=params.auto_approve_as,
        subject="plan_year",
        schedule_run=ScheduleRun(start, end, PLAN_ALGORITHM, steps_record_outcome=True),
    )


def load_program_or_none() -> Program | None:
    try:
        return load_program()
    except GateError:
        return None


def _plan(params: PlanYearParams, run_id: str, outcome: PlanOutcome, start: dt.date, end: dt.date) -> PlanOutcome:
    try:
        backup = ensure_recent_backup(run_id, start, end, operation="plan")
        outcome = outcome.model_copy(update={"backup_id": backup["id"]})
        record_run(run_id, backup_id=backup["id"])
        check_health()
        data = verify_plan_data(params.year, params.from_block, params.timeout_seconds)
        if (data["start"], data["end"]) != (start.isoformat(), end.isoformat()):
            raise GateError(
                f"the year's blocks changed while the run waited: {data['start']}..{data['end']}, not {start}..{end}"
            )
    except GateError as error:
        record_run(run_id, status="failed", error=str(error))
        return outcome.model_copy(update={"status": "failed", "reason": str(error)})
    record_run(run_id, status="running", metrics={"awaiting_approval": True})
    try:
        approval = request_approval(params, backup, data)
    except Exception as error:  # a pause that times out is a rejection
        approval = None
        get_run_logger().info("approval not given: %s", type(error).__name__)
    verdict = settle_approval(approval, "plan_year", action="plan.approval", audited_subject=run_id, details={})
    approved_by = verdict.answered_by if verdict.refused is None else None
    record_run(run_id, approved_by=approved_by, metrics={"awaiting_approval": False})
    if not verdict.approved:
        record_run(run_id, status="rejected", error=verdict.reason)
        return outcome.model_copy(update={"status": "rejected", "reason": verdict.reason})
    try:
        result = solve_plan(run_id, params.year, params.from_block, params.timeout_seconds, params.deterministic)
    except GateError as error:
        record_run(run_id, status="failed", error=str(error))
        return outcome.model_copy(update={"status": "failed", "reason": str(error)})
    pre_digest = mark_writing_plan(run_id, start, end, backup["id"])
    try:
        counts = write_plan(run_id, start, end, result, params.from_block)
        record_run(run_id, status="validating")
        findings = validate_written_plan()
        metrics = _metrics_row(result, counts)
        metrics["findings"] = len(findings)
        _publish_artifacts(metrics, result)
        failed_gate = f"{len(findings)} plan findings: {findings[0].message}" if findings else None
    except Exception as error:
        failed_gate, metrics = f"{type(error).__name__}: {error}", {}
    if failed_gate is None:
        record_run(run_id, status="published", error=None, metrics=metrics)
        audit("plan.publish", run_id, metrics)
        return outcome.model_copy(update={"status": "published", "metrics": metrics})
    restore_plan_range(backup["id"], start, end, pre_digest, run_id)
    record_run(run_id, status="rolled_back", error=failed_gate, metrics=metrics)
    return outcome.model_copy(update={"status": "rolled_back", "reason": failed_gate, "metrics": metrics})
