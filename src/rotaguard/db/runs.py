"""Schedule runs: one row per generation, whose status is the write-in-progress marker."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from rotaguard.db.tables import ScheduleRunRow, utcnow

# A run is "writing" from just before its write transaction until it is published or restored:
# finding one in that state later means its process died and its range must be checked.
IN_FLIGHT = ("running", "writing", "validating")
# "cleared": a clear-assignments run that deleted its range.
FINISHED = ("published", "cleared", "rolled_back", "rejected", "failed", "recovered")


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
