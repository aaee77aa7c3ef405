"""One run of a flow that writes the schedule tables, set up in one place: its ids, its row in
``schedule_runs``, the schedule-writes gate (recovering interrupted runs first), the rejection when
the gate is refused, and the line that says how the run ended."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from prefect import get_run_logger
from prefect.runtime import flow_run
from pydantic import BaseModel

from rotaguard.flows.gate import create_run, holding_schedule_writes, mark_gate_held, record_run


def current_flow_run_id() -> str | None:
    """The id of the flow run this code runs in; None outside one."""
    return str(flow_run.id) if flow_run.id else None


@dataclass(frozen=True)
class RunIds:
    """The run's own id (its schedule_runs row, its pause, its lock) and its flow run's."""

    run_id: str
    flow_run_id: str | None


def identify_run(requested: str | None) -> RunIds:
    """The run's id: the one asked for (a command line that must find the run's pause), else the
    flow run's, else a new one."""
    this_flow_run = current_flow_run_id()
    # A re-run of the same flow run is the same run: same row, cached backup and solve.
    return RunIds(run_id=requested or this_flow_run or str(uuid.uuid4()), flow_run_id=this_flow_run)


class GatedOutcome(BaseModel):
    """What every gated flow's outcome starts with: how the run ended, and why."""

    status: str
    reason: str = ""

    def run_columns(self) -> dict[str, Any]:
        """What of this outcome the run's ``schedule_runs`` row keeps."""
        return {"status": self.status, "error": self.reason or None}


@dataclass(frozen=True)
class ScheduleRun:
    """The ``schedule_runs`` row a gated run keeps (a restore keeps none): the range and how it is
    written. With ``steps_record_outcome`` the steps write the row as they go (generation), and only
    a refused gate is written here; without, the outcome is written once, when the run ends."""

    start: dt.date
    end: dt.date
    algorithm: str
    steps_record_outcome: bool = False


Outcome = TypeVar("Outcome", bound=GatedOutcome)


def gated_run(
    run: RunIds,
    failed: Outcome,
    step: Callable[[Outcome], Outcome],
    *,
    name: str,
    lock_wait_seconds: int,
    approver: str | None,
    subject: str,
    schedule_run: ScheduleRun | None = None,
    holder: str | None = None,
) -> Outcome:
    """Run ``step`` holding the schedule writes, from ``failed`` (the outcome when nothing better
    happens), and return what it ends with.

    ``schedule_run``'s row is created first. The gate is held as ``holder`` (the run id unless
    given) and recovers interrupted runs before anything else; an ``approver`` given in advance who
    may not approve ``subject`` is refused at once. A refused gate ends the run "rejected" with the
    refusal. The last line logged says how ``name`` ended."""
    if schedule_run is not None:
        create_run(
            run.run_id,
            start=schedule_run.start,
            end=schedule_run.end,
            algorithm=schedule_run.algorithm,
            flow_run_id=run.flow_run_id,
            wait_seconds=lock_wait_seconds,
        )
    with holding_schedule_writes(
        holder or run.run_id, lock_wait_seconds, recover=True, approver=approver, subject=subject
    ) as held:
        if held:
            if schedule_run is not None:
                mark_gate_held(run.run_id)
            outcome = step(failed)
        else:
            outcome = failed.model_copy(update={"status": "rejected", "reason": held.refusal})
            if schedule_run is not None and schedule_run.steps_record_outcome:
                record_run(run.run_id, **outcome.run_columns())
    if schedule_run is not None and not schedule_run.steps_record_outcome:
        record_run(run.run_id, **outcome.run_columns())
    get_run_logger().info("%s ended %s %s", name, outcome.status, outcome.reason)
    return outcome
