"""Swap requests: rows <-> ``SwapRequest``, row locks for execution, and the database's clock."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from datetime import UTC, date, datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from rotaguard.db.repositories import assignment_from_row
from rotaguard.db.tables import AssignmentRow, SwapRequestRow
from rotaguard.domain import Assignment
from rotaguard.domain.swaps import DateRange, SwapKind, SwapRequest, SwapStatus


def database_now(session: Session) -> datetime:
    """The database server's clock, in UTC: every process judges the 24-hour window alike."""
    if session.get_bind().dialect.name == "postgresql":
        return session.execute(text("SELECT clock_timestamp()")).scalar_one().astimezone(UTC)
    value = session.execute(text("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')")).scalar_one()
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _range(start: date | None, end: date | None) -> DateRange | None:
    return DateRange(start=start, end=end) if start is not None and end is not None else None


def _request_from_row(row: SwapRequestRow) -> SwapRequest:
    return SwapRequest(
        id=row.id,
        requester_id=row.requester_id,
        kind=SwapKind(row.kind),
        person_a=row.person_a_id,
        person_b=row.person_b_id,
        range_a=DateRange(start=row.a_start, end=row.a_end),
        range_b=_range(row.b_start, row.b_end),
        reason=row.reason,
        status=SwapStatus(row.status),
        created_at=row.created_at,
        deadline=row.deadline,
        executed_at=row.executed_at,
        flow_run_id=row.flow_run_id,
        details=dict(row.details or {}),
    )


class SwapRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, *, request: SwapRequest) -> SwapRequest:
        row = SwapRequestRow(
            id=request.id,
            requester_id=request.requester_id,
            kind=request.kind.value,
            person_a_id=request.person_a,
            person_b_id=request.person_b,
            a_start=request.range_a.start,
            a_end=request.range_a.end,
            b_start=request.range_b.start if request.range_b else None,
            b_end=request.range_b.end if request.range_b else None,
            reason=request.reason,
            status=request.status.value,
            details=request.details,
            created_at=request.created_at,
            deadline=request.deadline,
            flow_run_id=request.flow_run_id,
        )
        self.session.add(row)
        self.session.flush()
        return _request_from_row(row)

    def get(self, *, swap_id: str, for_update: bool = False) -> SwapRequest | None:
        query = select(SwapRequestRow).where(SwapRequestRow.id == swap_id)
        if for_update:
            query = query.with_for_update()
        row = self.session.scalars(query).first()
        return _request_from_row(row) if row is not None else None

    def update(self, *, swap_id: str, **values) -> SwapRequest:
        """Set columns; ``details`` is merged into what is there."""
        row = self.session.get(SwapRequestRow, swap_id)
        if row is None:
            raise KeyError(swap_id)
        details = values.pop("details", None)
        if details is not None:
            row.details = {**(row.details or {}), **details}
        for name, value in values.items():
            setattr(row, name, value.value if isinstance(value, SwapStatus) else value)
        self.session.flush()
        return _request_from_row(row)

    # Below this method, ``list`` in the class body names it: annotations there say builtins.list.
    def list(
        self, *, person_id: str | None = None, statuses: Iterable[SwapStatus] | None = None, limit: int = 200
    ) -> list[SwapRequest]:
        query = select(SwapRequestRow).order_by(SwapRequestRow.created_at.desc()).limit(limit)
        if person_id is not None:
            query = query.where(
                (SwapRequestRow.person_a_id == person_id)
                | (SwapRequestRow.person_b_id == person_id)
                | (SwapRequestRow.requester_id == person_id)
            )
        if statuses is not None:
            query = query.where(SwapRequestRow.status.in_([s.value for s in statuses]))
        return [_request_from_row(row) for row in self.session.scalars(query)]

    def declines_by_person(self) -> dict[str, int]:
        """How often each person declined a swap offered to them (ranks candidates)."""
        counts: dict[str, int] = {}
        query = select(SwapRequestRow.person_b_id).where(SwapRequestRow.status == SwapStatus.DECLINED.value)
        for person_id in self.session.scalars(query):
            if person_id is not None:
                counts[person_id] = counts.get(person_id, 0) + 1
        return counts

    def lock_assignments(self, *, people_ranges: Iterable[tuple[str, DateRange]]) -> builtins.list[Assignment]:
        """The assignments of each person in each range, locked until the transaction ends
        (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite writers already hold the database)."""
        found: list[Assignment] = []
        for person_id, span in people_ranges:
            query = (
                select(AssignmentRow)
                .where(
                    AssignmentRow.person_id == person_id,
                    AssignmentRow.date >= span.start,
                    AssignmentRow.date <= span.end,
                )
                .order_by(AssignmentRow.date, AssignmentRow.slot)
                .with_for_update()
            )
            found += [assignment_from_row(row) for row in self.session.scalars(query)]
        return found

    def move(self, *, before: Iterable[Assignment], after: Iterable[Assignment]) -> int:
        """Delete the ``before`` rows (each must still be exactly as given), then insert ``after``:
        two people exchanging the same slot never collide on the one-per-slot constraint."""
        before, after = list(before), list(after)
        for held in before:
            row = self.session.scalars(
                select(AssignmentRow).where(
                    AssignmentRow.person_id == held.person_id,
                    AssignmentRow.date == held.date,
                    AssignmentRow.slot == held.slot,
                )
            ).first()
            if row is None or assignment_from_row(row) != held:
                raise LookupError(f"{held.person_id} no longer holds {held.rotation_id} on {held.date} {held.slot}")
            self.session.delete(row)
        self.session.flush()
        self.session.add_all(
            AssignmentRow(
                person_id=a.person_id,
                date=a.date,
                slot=a.slot,
                rotation_id=a.rotation_id,
                source=a.source.value,
                locked=a.locked,
            )
            for a in after
        )
        self.session.flush()
        return len(after)
