"""``clear_assignments`` (CRITICAL): lock -> verified backup -> what will be deleted, per person and
rotation -> approval with the range typed to confirm -> one-transaction delete, audited with the
counts and the backup id."""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import flow
from prefect.artifacts import create_table_artifact
from prefect.input import RunInput
from pydantic import BaseModel, Field, model_validator

from rotaguard.domain.base import FREE_TEXT_PATTERN, MAX_DATE, MIN_DATE, VISIBLE_TEXT_PATTERN, is_identifier
from rotaguard.flows.bulk_assign import WriteOutcome
from rotaguard.flows.gate import record_run, settle_approval
from rotaguard.flows.pauses import pause_for_answer
from rotaguard.flows.runs import ScheduleRun, gated_run, identify_run
from rotaguard.operations import operation
from rotaguard.recovery import CLEAR_ALGORITHM
from rotaguard.tasks.assignments import delete_assignments, preview_clear
from rotaguard.tasks.generation import GateError, ensure_recent_backup, mark_writing

OPERATION = operation("clear_range")
MAX_RANGE_DAYS = 366


class ClearParams(BaseModel):
    """Which assignments to delete: a date range, optionally only some people; locked ones only when asked."""

    start: dt.date = Field(ge=MIN_DATE, le=MAX_DATE)
    end: dt.date = Field(ge=MIN_DATE, le=MAX_DATE)
    people: list[str] | None = Field(default=None, max_length=1000)
    include_locked: bool = Field(default=False, description="Also delete locked assignments")
    confirm_range_as: str | None = Field(
        default=None,
        max_length=200,
        pattern=VISIBLE_TEXT_PATTERN,
        description="Approve without pausing, as this person",
    )
    confirmation: str | None = Field(
        default=None, max_length=40, description="With confirm_range_as: the range typed, START..END"
    )
    approval_timeout_seconds: int = Field(default=3600, ge=10, le=7 * 24 * 3600)
    lock_wait_seconds: int = Field(default=30, ge=0, le=3600)
    run_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9\-]{1,36}$")

    @model_validator(mode="after")
    def _bounded(self) -> ClearParams:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        if (self.end - self.start).days + 1 > MAX_RANGE_DAYS:
            raise ValueError(f"a clearing covers at most {MAX_RANGE_DAYS} days")
        for person in self.people or []:
            if not is_identifier(person):
                raise ValueError(f"{person!r} is not a person id")
        if self.confirm_range_as and self.confirmation != self.range_text:
            raise ValueError(f"confirmation must be the range typed exactly: {self.range_text}")
        return self

    @property
    def range_text(self) -> str:
        return f"{self.start}..{self.end}"


class ClearConfirmation(RunInput):
    approve: bool = False
    approver: str = Field(min_length=1, max_length=200, pattern=VISIBLE_TEXT_PATTERN)
    # The range typed by the approver, START..END: the schema makes the form refuse anything else.
    typed_range: str = Field(
        min_length=1, max_length=40, pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\.\.[0-9]{4}-[0-9]{2}-[0-9]{2}$"
    )
    comment: str = Field(default="", max_length=2000, pattern=FREE_TEXT_PATTERN)


def _confirmation_description(params: ClearParams, preview: dict[str, Any], backup: dict[str, Any]) -> str:
    rows = "\n".join(
        f"| {r['person']} | {r['rotation']} | {r['assignments']:,} |" for r in preview["by_person_rotation"]
    )
    who = ", ".join(params.people) if params.people else "everyone"
    locked = "locked ones included" if params.include_locked else f"{preview['kept_locked']:,} locked ones are kept"
    return (
        f"## CRITICAL: delete {preview['total']:,} assignments, {params.start} .. {params.end}\n\n"
        f"* People: {who}; {locked}\n"
        f"* Backup **{backup['id']}** taken {backup['created_at']}, verified\n\n"
        "| person | rotation | assignments deleted |\n|---|---|---:|\n"
        f"{rows}\n\n"
        f"To delete, set **approve**, give your staff id, and type the range exactly: **{params.range_text}**. "
        "Anything else deletes nothing."
    )


def request_confirmation(
    params: ClearParams, preview: dict[str, Any], backup: dict[str, Any], run_id: str
) -> ClearConfirmation | None:
    """The range confirmed on the command line, else a person's answer to the pause (the Prefect UI
    form, or `rotaguard clear`); None when nobody answers in time."""
    if params.confirm_range_as:
        return ClearConfirmation(
            approve=True,
            approver=params.confirm_range_as,
            # Never empty: the parameters' validator requires the range typed along with confirm_range_as.
            typed_range=params.confirmation or "",
            comment="confirmed on the command line",
        )
    return pause_for_answer(
        ClearConfirmation,
        description=_confirmation_description(params, preview, backup),
        timeout_seconds=params.approval_timeout_seconds,
        request_id=run_id,
    )


def _range_mistyped(params: ClearParams, answer: ClearConfirmation) -> str | None:
    """Why an approving answer deletes nothing after all: the range it typed is not this one."""
    if answer.typed_range.strip() == params.range_text:
        return None
    return f"the range typed ({answer.typed_range!r}) is not {params.range_text}: nothing deleted"


@flow(
    name="clear-assignments",
    description="CRITICAL: delete a range's assignments after a backup and an approval that types the range.",
)
def clear_assignments(params: ClearParams) -> WriteOutcome:
    run = identify_run(params.run_id)
    return gated_run(
        run,
        WriteOutcome(status="failed", run_id=run.run_id, flow_run_id=run.flow_run_id),
        lambda outcome: _clear(params, run.run_id, outcome),
        name=f"clearing {run.run_id}",
        lock_wait_seconds=params.lock_wait_seconds,
        approver=params.confirm_range_as,
        subject=OPERATION.id,
        schedule_run=ScheduleRun(params.start, params.end, CLEAR_ALGORITHM),
    )


def _clear(params: ClearParams, run_id: str, outcome: WriteOutcome) -> WriteOutcome:
    try:
        backup = ensure_recent_backup(run_id, params.start, params.end, operation="clear")
        outcome = outcome.model_copy(update={"backup_id": backup["id"]})
        record_run(run_id, backup_id=backup["id"], status="running")
        preview = preview_clear(params.start, params.end, params.people, params.include_locked)
    except GateError as error:
        return outcome.model_copy(update={"reason": str(error)})
    create_table_artifact(
        key="clear-preview",
        table=preview["by_person_rotation"] or [{"person": "", "rotation": "", "assignments": 0}],
        description=f"To delete: {params.range_text}",
    )
    answer = request_confirmation(params, preview, backup, run_id)
    verdict = settle_approval(
        answer,
        OPERATION.id,
        action="schedule.approval",
        audited_subject=run_id,
        details={"operation": OPERATION.id, "typed_range": answer.typed_range if answer else ""},
        confirm=lambda approving: _range_mistyped(params, approving),
    )
    approver = verdict.approved_by
    if approver is None:
        return outcome.model_copy(update={"status": "rejected", "reason": verdict.reason})
    mark_writing(run_id, params.start, params.end, backup["id"])
    try:
        deleted = delete_assignments(
            run_id,
            params.start,
            params.end,
            params.people,
            params.include_locked,
            approver,
            backup["id"],
            preview["total"],
        )
    except GateError as error:
        return outcome.model_copy(update={"status": "failed", "reason": str(error), "approved_by": approver})
    return outcome.model_copy(
        update={
            "status": "cleared",
            "approved_by": approver,
            "counts": {"deleted": deleted, "kept_locked": preview["kept_locked"]},
        }
    )
