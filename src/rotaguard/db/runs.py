"""Schedule runs: one row per generation, whose status is the write-in-progress marker."""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from rotaguard.db import processes
from rotaguard.db.tables import ScheduleRunRow, utcnow

# A run is "writing" from just before its write transaction until it is published or restored:
# finding one in that state later means its process died and its range must be checked.
IN_FLIGHT = ("running", "writing", "validating")
# "cleared": a clear-assignments run that deleted its range.
FINISHED = ("published", "cleared", "rolled_back", "rejected", "failed", "recovered")
# A run's metrics while it waits for the schedule-writes slot and lock: it holds neither, so the
# writer ahead of it must not take it for a run that died (issue 26, item 9). ``WAITING`` is True
# until the run holds them; ``PROCESS`` names the waiting process (rotaguard.db.processes) and
# ``WAITING_UNTIL`` is when it gives up waiting at the latest (then it records its refusal itself).
WAITING, PROCESS, WAITING_UNTIL = "waiting_for_lock", "process", "waiting_until"
# Beyond the run's own waits: the time to start and to record the refusal, and clocks a little apart.
WAITING_SLACK = timedelta(minutes=5)


def waiting_marker(wait_seconds: float, *, now: datetime | None = None) -> dict:
    """The metrics of a run of this process about to wait ``wait_seconds`` for the slot and as long
    again for the lock."""
    until = (now or utcnow()) + 2 * timedelta(seconds=wait_seconds) + WAITING_SLACK
    return {
        WAITING: True,
        PROCESS: {"host": processes.host_key(), "pid": os.getpid()},
        WAITING_UNTIL: until.isoformat(),
    }


def still_waiting(metrics: dict | None, *, now: datetime | None = None) -> bool:
    """Whether a run with these metrics may still be alive, waiting for the schedule writes: it said so,
    its waiting time has not run out, and its process is not provably gone. A record written before
    runs said so (no marker) is not waiting."""
    metrics = metrics or {}
    if metrics.get(WAITING) is not True:
        return False
    process = metrics.get(PROCESS) or {}
    if processes.is_gone(process.get("host"), process.get("pid")):
        return False
    try:
        until = datetime.fromisoformat(str(metrics.get(WAITING_UNTIL)))
    except ValueError:
        return False
    return (now or utcnow()) < until


class ScheduleRunRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create(
        self, *, run_id: str, start: date, end: date, algorithm: str, flow_run_id: str | None = None
    ) -> ScheduleRunRow:
        row = self.session.get(ScheduleRunRow, run_id)
        if row is None:
            row = ScheduleRunRow(
                id=run_id, start_date=start, end_date=end, algorithm=algorithm, status="running", metrics={}
            )
            self.session.add(row)
        if flow_run_id:
            row.flow_run_id = flow_run_id
        self.session.flush()
        return row

    def get(self, *, run_id: str) -> ScheduleRunRow | None:
        return self.session.get(ScheduleRunRow, run_id)

    def update(self, *, run_id: str, **values) -> ScheduleRunRow:
        row = self.session.get(ScheduleRunRow, run_id)
        if row is None:
            raise KeyError(run_id)
        metrics = values.pop("metrics", None)
        if metrics is not None:
            row.metrics = {**(row.metrics or {}), **metrics}
        for name, value in values.items():
            setattr(row, name, value)
        if values.get("status") in FINISHED:
            row.finished_at = utcnow()
        self.session.flush()
        return row

    def in_flight(self) -> list[ScheduleRunRow]:
        return list(
            self.session.scalars(
                select(ScheduleRunRow).where(ScheduleRunRow.status.in_(IN_FLIGHT)).order_by(ScheduleRunRow.created_at)
            )
        )
