"""``restore_backup``: lock -> verify the chosen backup -> fresh pre-restore backup -> approval
showing what changes -> restore -> prove it -> audit; undo from the pre-restore backup on failure."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact
from pydantic import BaseModel, Field, model_validator

from rotaguard.backups.store import BACKUP_ID
from rotaguard.domain.base import MAX_DATE, MIN_DATE, VISIBLE_TEXT_PATTERN
from rotaguard.flows.gate import settle_approval
from rotaguard.flows.generate_schedule import Approval, ask_for_approval
from rotaguard.flows.runs import GatedOutcome, gated_run, identify_run
from rotaguard.tasks.backups import (
    check_restore_source,
    create_verified_backup,
    preview_restore,
    restore_from_backup,
    undo_restore,
    verify_restore,
)
from rotaguard.tasks.generation import GateError

MAX_RANGE_DAYS = 366
REQUEST_ID = r"^[A-Za-z0-9\-]{1,36}$"


class RestoreParams(BaseModel):
    """Which backup, what of it (everything, or the assignments of one date range) and how long to wait."""

    backup_id: str = Field(
        pattern=BACKUP_ID.pattern, max_length=64, description="The backup's id (rotaguard backup list)"
    )
    scope: Literal["full", "assignments"] = Field(
        default="full", description="full: the whole database; assignments: start..end only"
    )
    start: dt.date | None = Field(ge=MIN_DATE, le=MAX_DATE, default=None, description="First day (assignments scope)")
    end: dt.date | None = Field(
        ge=MIN_DATE, le=MAX_DATE, default=None, description="Last day, inclusive (assignments scope)"
    )
    auto_approve_as: str | None = Field(
        default=None,
        max_length=200,
        pattern=VISIBLE_TEXT_PATTERN,
        description="Approve without pausing, as this person",
    )
    approval_timeout_seconds: int = Field(default=3600, ge=10, le=7 * 24 * 3600)
    lock_wait_seconds: int = Field(default=120, ge=0, le=3600)
    request_id: str | None = Field(default=None, pattern=REQUEST_ID)

    @model_validator(mode="after")
    def _range(self) -> RestoreParams:
        if self.scope == "full":
            if self.start is not None or self.end is not None:
                raise ValueError("a full restore takes no start or end (use scope assignments for a range)")
            return self
        if self.start is None or self.end is None:
            raise ValueError("an assignments restore needs start and end")
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        if (self.end - self.start).days + 1 > MAX_RANGE_DAYS:
            raise ValueError(f"a range restore covers at most {MAX_RANGE_DAYS} days")
        return self

    @property
    def what(self) -> str:
        return "the whole database" if self.scope == "full" else f"the assignments of {self.start}..{self.end}"


class RestoreOutcome(GatedOutcome):
    """The outcome of a restore: status restored, rejected, failed or rolled_back."""

    backup_id: str
    scope: str
    pre_restore_backup_id: str | None = None
    approved_by: str | None = None
    changes: list[dict[str, Any]] = Field(default_factory=list)
    flow_run_id: str | None = None


def _approval_description(
    params: RestoreParams, source: dict[str, Any], pre_restore: dict[str, Any], changes: list[dict[str, Any]]
) -> str:
    rows = "\n".join(
        f"| {c['table']} | {c['now']:,} | {c['in_backup']:,} | {c['change']:+,} | {c['note']} |" for c in changes
    )
    return (
        f"## Approve restoring {params.what}\n\n"
        f"* From backup **{source['id']}** taken {source['created_at']} ({source['size_bytes']:,} bytes), verified just now\n"
        f"* The state now is saved first as backup **{pre_restore['id']}** (verified): this restore can itself be undone\n\n"
        "| table | rows now | rows in the backup | change | note |\n|---|---:|---:|---:|---|\n"
        f"{rows}\n\n"
        "Set **approve** and give your staff id to restore; anything else changes nothing."
    )


def request_restore_approval(
    params: RestoreParams,
    request_id: str,
    source: dict[str, Any],
    pre_restore: dict[str, Any],
    changes: list[dict[str, Any]],
) -> Approval | None:
    """Pause for a person's decision (the Prefect UI form, or `rotaguard backup restore`)."""
    return ask_for_approval(
        params.auto_approve_as,
        description=_approval_description(params, source, pre_restore, changes),
        timeout_seconds=params.approval_timeout_seconds,
        request_id=request_id,
    )


@flow(
    name="restore-backup",
    description="Restore a verified backup (whole, or one range of assignments) after a fresh backup and a person's approval.",
)
def restore_backup(params: RestoreParams) -> RestoreOutcome:
    run = identify_run(params.request_id)
    # The gate recovers first: an interrupted restore (or generation) is finished before this one
    # captures the audit log.
    return gated_run(
        run,
        RestoreOutcome(status="failed", backup_id=params.backup_id, scope=params.scope, flow_run_id=run.flow_run_id),
        lambda outcome: _restore(params, run.run_id, outcome),
        name=f"restore of {params.what} from {params.backup_id}",
        lock_wait_seconds=params.lock_wait_seconds,
        approver=params.auto_approve_as,
        subject="restore",
        holder=f"restore-{run.run_id}",
    )


def _restore(params: RestoreParams, request_id: str, outcome: RestoreOutcome) -> RestoreOutcome:
    try:
        source = check_restore_source(params.backup_id)
        pre_restore = create_verified_backup("pre-op:restore")
        changes = preview_restore(params.backup_id, params.scope, params.start, params.end)
    except GateError as error:
        return outcome.model_copy(update={"status": "failed", "reason": str(error)})
    outcome = outcome.model_copy(update={"pre_restore_backup_id": pre_restore["id"], "changes": changes})
    create_table_artifact(
        key="restore-changes",
        table=changes,
        description=f"Restoring {params.what} from {params.backup_id}: rows now and in the backup",
    )
    approval = request_restore_approval(params, request_id, source, pre_restore, changes)
    verdict = settle_approval(
        approval,
        "restore",
        action="backup.restore_approval",
        audited_subject=params.backup_id,
        details={"scope": params.scope, "pre_restore_backup": pre_restore["id"]},
    )
    approver = verdict.approved_by
    if approver is None:
        return outcome.model_copy(update={"status": "rejected", "reason": verdict.reason, "approved_by": None})
    outcome = outcome.model_copy(update={"approved_by": approver})
    try:
        restore_from_backup(params.backup_id, params.scope, params.start, params.end, approver, pre_restore["id"])
        verify_restore(params.backup_id, params.scope, params.start, params.end)
    except Exception as error:
        get_run_logger().error("restore failed, putting back %s: %s", pre_restore["id"], error)
        undo_restore(pre_restore["id"], params.scope, params.start, params.end)
        return outcome.model_copy(update={"status": "rolled_back", "reason": f"{type(error).__name__}: {error}"})
    return outcome.model_copy(update={"status": "restored"})
