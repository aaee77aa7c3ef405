"""``nightly_backup``: create and verify a backup, copy what is not off-site yet, then apply
retention, where deleting anything pauses for a person's confirmation (no answer deletes nothing)."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact
from prefect.input import RunInput
from pydantic import BaseModel, Field

from rotaguard.domain.base import FREE_TEXT_PATTERN, VISIBLE_TEXT_PATTERN
from rotaguard.flows.gate import Verdict, audit, judge_approval
from rotaguard.flows.pauses import pause_for_answer
from rotaguard.flows.runs import current_flow_run_id
from rotaguard.tasks.backups import copy_backups_offsite, create_verified_backup, delete_backups, plan_retention

REQUEST_ID = r"^[A-Za-z0-9\-]{1,36}$"


class NightlyBackupParams(BaseModel):
    """How the nightly backup runs; every field has a default, so the schedule needs none."""

    apply_retention: bool = Field(default=True, description="Offer to delete backups older than the retention period")
    confirmation_timeout_seconds: int = Field(
        default=12 * 3600,
        ge=10,
        le=7 * 24 * 3600,
        description="How long the deletion waits for a person; no answer deletes nothing",
    )
    request_id: str | None = Field(default=None, pattern=REQUEST_ID)


class DeletionConfirmation(RunInput):
    delete: bool = False
    # Not blanks: the schema's pattern makes the Prefect UI form refuse "   " too. Only an admin's
    # confirmation deletes (the authorization matrix).
    confirmed_by: str = Field(
        min_length=1,
        max_length=200,
        pattern=VISIBLE_TEXT_PATTERN,
        description="Your staff id: an active admin of the program",
    )
    comment: str = Field(default="", max_length=2000, pattern=FREE_TEXT_PATTERN)


class NightlyOutcome(BaseModel):
    backup_id: str
    offsite: str  # of the new backup: none (S3 not configured), pending or copied
    deleted: list[str] = Field(default_factory=list)
    kept: list[str] = Field(default_factory=list)
    not_deleted: list[str] = Field(default_factory=list)  # old enough to go, but not confirmed
    pending_offsite: list[str] = Field(default_factory=list)
    deletion_decision: str = "nothing to delete"
    flow_run_id: str | None = None


def _deletion_description(plan: dict[str, list[dict[str, Any]]]) -> str:
    rows = "\n".join(
        f"| {b['id']} | {b['created_at']} | {b['size_bytes']:,} | {b['offsite']} | {b['reason']} |"
        for b in plan["delete"]
    )
    return (
        f"## Confirm deleting {len(plan['delete'])} old backup{'s' if len(plan['delete']) != 1 else ''}\n\n"
        "Retention would delete these files (the backup and its manifest each). The sacred baseline, the newest "
        "verified backups and any backup whose off-site copy is missing are kept.\n\n"
        "| backup | created (UTC) | bytes | off-site | why |\n|---|---|---:|---|---|\n"
        f"{rows}\n\n"
        f"{len(plan['keep'])} backups stay. Set **delete** and give your staff id to delete them; anything else, or no "
        "answer in time, deletes nothing."
    )


def request_deletion_confirmation(
    plan: dict[str, list[dict[str, Any]]], params: NightlyBackupParams, request_id: str
) -> DeletionConfirmation | None:
    """Pause for a person to confirm the deletions (the Prefect UI form)."""
    return pause_for_answer(
        DeletionConfirmation,
        description=_deletion_description(plan),
        timeout_seconds=params.confirmation_timeout_seconds,
        request_id=request_id,
    )


def _audit_decision(
    confirmation: DeletionConfirmation | None, plan: dict[str, list[dict[str, Any]]], verdict: Verdict
) -> None:
    # Not settle_approval's event: this one says "confirmed" and names the backups, as it always has.
    details = {
        "confirmed": verdict.approved,
        **({"refused": verdict.refused} if verdict.refused else {}),
        "backups": [b["id"] for b in plan["delete"]],
        "comment": confirmation.comment if confirmation else "timed out",
    }
    audit("backup.prune_decision", "", details, actor=confirmation.confirmed_by if confirmation else "nobody")


def _deletion_decision(verdict: Verdict) -> str:
    """What became of the deletion, in a few words (``verdict`` approved: nothing to say)."""
    if verdict.refused:
        return "deletion refused: " + verdict.refused
    if verdict.answered_by is not None:
        return "deletion rejected by " + verdict.answered_by
    return "deletion not confirmed in time"


def _publish_table(
    outcome: NightlyOutcome, plan: dict[str, list[dict[str, Any]]], copies: list[dict[str, str]]
) -> None:
    reasons = {b["id"]: b["reason"] for b in plan["keep"] + plan["delete"]}
    offsite = {c["id"]: c["offsite"] for c in copies}
    rows = []
    for action, ids in (("deleted", outcome.deleted), ("not deleted", outcome.not_deleted), ("kept", outcome.kept)):
        rows += [
            {"backup": i, "action": action, "why": reasons.get(i, ""), "off-site": offsite.get(i, "")} for i in ids
        ]
    rows += [
        {"backup": i, "action": "pending off-site", "why": "the copy to S3 did not succeed yet", "off-site": "pending"}
        for i in outcome.pending_offsite
    ]
    create_table_artifact(
        key="nightly-backup", table=rows, description=f"Nightly backup {outcome.backup_id}: {outcome.deletion_decision}"
    )


@flow(
    name="nightly-backup",
    description="Create and verify a backup, copy backups off-site, and delete old ones after a person confirms.",
)
def nightly_backup(params: NightlyBackupParams = NightlyBackupParams()) -> NightlyOutcome:
    logger = get_run_logger()
    this_flow_run = current_flow_run_id()
    request_id = params.request_id or this_flow_run or ""
    backup = create_verified_backup("regular")
    copies = copy_backups_offsite()
    offsite = next((c["offsite"] for c in copies if c["id"] == backup["id"]), backup["offsite"])
    plan = plan_retention() if params.apply_retention else {"delete": [], "keep": []}
    outcome = NightlyOutcome(
        backup_id=backup["id"],
        offsite=offsite,
        kept=[b["id"] for b in plan["keep"]],
        pending_offsite=[c["id"] for c in copies if c["offsite"] != "copied"],
        flow_run_id=this_flow_run,
    )
    if plan["delete"]:
        confirmation = request_deletion_confirmation(plan, params, request_id)
        verdict = judge_approval(
            confirmation.confirmed_by if confirmation else None,
            bool(confirmation and confirmation.delete),
            "nightly-backup",
        )
        _audit_decision(confirmation, plan, verdict)
        candidates = [b["id"] for b in plan["delete"]]
        confirmed_by = verdict.approved_by
        if confirmed_by is not None:
            deleted = delete_backups(candidates, confirmed_by)
            decision = f"{len(deleted)} deleted, confirmed by {confirmed_by}"
        else:
            deleted, decision = [], _deletion_decision(verdict)
        outcome = outcome.model_copy(
            update={
                "deleted": deleted,
                "not_deleted": [i for i in candidates if i not in deleted],
                "deletion_decision": decision,
            }
        )
    _publish_table(outcome, plan, copies)
    logger.info("nightly backup %s (off-site %s): %s", outcome.backup_id, outcome.offsite, outcome.deletion_decision)
    return outcome
