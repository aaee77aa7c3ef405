"""``bulk_assign``: parse and check everything -> lock -> verified backup -> checks on the tentative
schedule -> approval -> one-transaction write -> validation -> publish, or restore the range."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow
from prefect.artifacts import create_table_artifact
from pydantic import BaseModel, Field, model_validator

from rotaguard.domain.base import VISIBLE_TEXT_PATTERN
from rotaguard.errors import RotaGuardError
from rotaguard.flows.gate import audit, record_run, settle_approval
from rotaguard.flows.generate_schedule import ask_for_approval
from rotaguard.flows.runs import GatedOutcome, ScheduleRun, gated_run, identify_run
from rotaguard.interchange.assignments import MAX_ROWS, AssignmentEntry, parse_assignment_rows, read_assignment_file
from rotaguard.operations import operation
from rotaguard.tasks.assignments import check_bulk_assignments, write_bulk_assignments
from rotaguard.tasks.generation import (
    GateError,
    ensure_recent_backup,
    mark_writing,
    restore_range,
    validate_written_schedule,
)

OPERATION = operation("bulk_assign")


class AssignmentItem(BaseModel):
    """One assignment as the UI form or the API sends it."""

    person: str = Field(min_length=1, max_length=64)
    date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    slot: str = Field(pattern="^(AM|PM|CALL)$")
    rotation: str = Field(min_length=1, max_length=64)
    locked: bool = False


class BulkAssignParams(BaseModel):
    """The assignments to load (inline, or a JSON/CSV file on the machine running the flow) and how long to wait."""

    assignments: list[AssignmentItem] | None = Field(default=None, max_length=MAX_ROWS)
    path: str | None = Field(
        default=None, max_length=4096, description="A JSON or CSV file readable where the flow runs"
    )
    actor: str = Field(
        default="rotaguard",
        min_length=1,
        max_length=200,
        pattern=VISIBLE_TEXT_PATTERN,
        description="Who asks for the load (audited with the approval)",
    )
    auto_approve_as: str | None = Field(
        default=None,
        max_length=200,
        pattern=VISIBLE_TEXT_PATTERN,
        description="Approve without pausing, as this person",
    )
    approval_timeout_seconds: int = Field(default=3600, ge=10, le=7 * 24 * 3600)
    lock_wait_seconds: int = Field(default=30, ge=0, le=3600)
    run_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9\-]{1,36}$")

    @model_validator(mode="after")
    def _one_source(self) -> BulkAssignParams:
        if (self.assignments is None) == (self.path is None):
            raise ValueError("give either assignments or path")
        if self.assignments is not None and not self.assignments:
            raise ValueError("assignments is empty")
        return self


class WriteOutcome(GatedOutcome):
    """The outcome of a bulk load or a clearing: status published (cleared), rejected, failed or rolled_back."""

    run_id: str
    backup_id: str | None = None
    approved_by: str | None = None
    counts: dict[str, Any] = Field(default_factory=dict)
    flow_run_id: str | None = None

    def run_columns(self) -> dict[str, Any]:
        return {**super().run_columns(), "approved_by": self.approved_by, "metrics": self.counts}


def load_entries(params: BulkAssignParams) -> list[AssignmentEntry]:
    """Parse every row (a problem anywhere refuses them all, naming each place)."""
    if params.path is not None:
        return read_assignment_file(Path(params.path))
    return parse_assignment_rows([item.model_dump() for item in params.assignments or []])


def _approval_description(check: dict[str, Any], backup: dict[str, Any]) -> str:
    warnings = "".join(f"  * {w}\n" for w in check["tier2_warnings"])
    return (
        f"## Approve loading {check['rows']:,} assignments, {check['start']} .. {check['end']}\n\n"
        f"* {check['created']:,} new, {check['changed']:,} changed, {check['unchanged']:,} already so\n"
        f"* No new Tier 1 violation on the tentative schedule; {check['tier2_after']} Tier 2 warnings\n{warnings}"
        f"* Backup **{backup['id']}** taken {backup['created_at']}, verified\n\n"
        "Set **approve** and give your staff id to write them in one transaction; anything else changes nothing."
    )


@flow(
    name="bulk-assign",
    description="Load assignments prepared elsewhere: checks, backup, approval, one-transaction write, validation, restore on failure.",
)
def bulk_assign(params: BulkAssignParams) -> WriteOutcome:
    run = identify_run(params.run_id)
    failed = WriteOutcome(status="failed", run_id=run.run_id, flow_run_id=run.flow_run_id)
    try:
        entries = load_entries(params)
    except RotaGuardError as error:
        return failed.model_copy(
            update={
                "reason": f"{error}: " + "; ".join(f"{p.path}: {p.message}" for p in getattr(error, "problems", [])[:5])
            }
        )
    start, end = min(e.date for e in entries), max(e.date for e in entries)
    return gated_run(
        run,
        failed,
        lambda outcome: _load(params, run.run_id, entries, outcome),
        name=f"bulk assignment {run.run_id}",
        lock_wait_seconds=params.lock_wait_seconds,
        approver=params.auto_approve_as,
        subject=OPERATION.id,
        schedule_run=ScheduleRun(start, end, "bulk_assign"),
    )


def _load(params: BulkAssignParams, run_id: str, entries: list[AssignmentEntry], outcome: WriteOutcome) -> WriteOutcome:
    start, end = min(e.date for e in entries), max(e.date for e in entries)
    try:
        # Checked against the program and on the tentative schedule before anything is touched (under
        # the lock, so nothing changes between the check and the write), then the backup.
        check = check_bulk_assignments(entries)
        backup = ensure_recent_backup(run_id, start, end, operation="bulk")
        outcome = outcome.model_copy(update={"backup_id": backup["id"]})
        record_run(run_id, backup_id=backup["id"], status="running")
    except GateError as error:
        return outcome.model_copy(update={"reason": str(error)})
    approval = ask_for_approval(
        params.auto_approve_as,
        description=_approval_description(check, backup),
        timeout_seconds=params.approval_timeout_seconds,
        request_id=run_id,
    )
    verdict = settle_approval(
        approval,
        OPERATION.id,
        action="schedule.approval",
        audited_subject=run_id,
        details={"operation": OPERATION.id, "requested_by": params.actor},
    )
    approver = verdict.approved_by
    if approver is None:
        return outcome.model_copy(update={"status": "rejected", "reason": verdict.reason})
    outcome = outcome.model_copy(update={"approved_by": approver})
    pre_digest = mark_writing(run_id, start, end, backup["id"])
    try:
        counts = write_bulk_assignments(run_id, entries, approver)
        report = validate_written_schedule(start, end, False)
        failed_gate = None
        if len(report.tier1) > check["tier1_before"]:
            failed_gate = f"{len(report.tier1)} Tier 1 violations after the write: {report.tier1[0].message}"
    except Exception as error:
        counts, failed_gate = {}, f"{type(error).__name__}: {error}"
    if failed_gate is None:
        create_table_artifact(
            key="bulk-assign",
            table=[{"count": k, "value": v} for k, v in {**check, **counts}.items() if not isinstance(v, list)],
            description="Bulk assignment",
        )
        audit("schedule.publish", run_id, {"operation": OPERATION.id, **counts})
        return outcome.model_copy(update={"status": "published", "counts": counts})
    restore_range(backup["id"], start, end, pre_digest, run_id)
    return outcome.model_copy(update={"status": "rolled_back", "reason": failed_gate, "counts": counts})
