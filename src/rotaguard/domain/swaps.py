"""Swap requests: one person's duties in a date range traded for another's, or given away."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, Field, model_validator

from rotaguard.domain.base import FREE_TEXT_PATTERN, CalendarDate, Frozen, Identifier
from rotaguard.domain.schedule import Assignment

MAX_SWAP_DAYS = 28
MAX_REASON_LENGTH = 2000


class SwapKind(StrEnum):
    ONE_TO_ONE = "one_to_one"  # A's duties in range A for B's in range B
    ABSORB = "absorb"  # B takes A's duties in range A and gives nothing back


class SwapStatus(StrEnum):
    PENDING = "pending"  # waiting for person B
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    APPROVED = "approved"  # validated: may be executed
    NEEDS_APPROVAL = "needs_approval"  # Tier 2 warnings or lost N-1: a coordinator decides
    REJECTED = "rejected"  # a Tier 1 rule, or a coordinator said no
    EXECUTED = "executed"
    ROLLED_BACK = "rolled_back"


OPEN_STATUSES = frozenset({SwapStatus.PENDING, SwapStatus.ACCEPTED, SwapStatus.APPROVED, SwapStatus.NEEDS_APPROVAL})


class DateRange(Frozen):
    start: CalendarDate
    end: CalendarDate

    @model_validator(mode="after")
    def _ordered_and_bounded(self) -> DateRange:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        if (self.end - self.start).days + 1 > MAX_SWAP_DAYS:
            raise ValueError(f"a swap covers at most {MAX_SWAP_DAYS} days")
        return self

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end

    def __str__(self) -> str:
        return f"{self.start}..{self.end}"


class Move(Frozen):
    """One assignment changing hands: the same rotation, day and slot, another person."""

    before: Assignment
    after: Assignment


class SwapRequest(Frozen):
    id: str = Field(min_length=1, max_length=36)
    requester_id: Identifier
    kind: SwapKind
    person_a: Identifier
    person_b: Identifier | None = None  # None: open to the ranked candidates
    range_a: DateRange
    range_b: DateRange | None = None  # one_to_one only: B's duties that go to A
    reason: str = Field(default="", max_length=MAX_REASON_LENGTH, pattern=FREE_TEXT_PATTERN)
    status: SwapStatus = SwapStatus.PENDING
    created_at: AwareDatetime | None = None
    deadline: AwareDatetime | None = None
    executed_at: AwareDatetime | None = None
    flow_run_id: str | None = Field(default=None, max_length=64)  # the request-swap run waiting on it
    details: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _shape(self) -> SwapRequest:
        if self.person_b is not None and self.person_b == self.person_a:
            raise ValueError("a person cannot swap with themselves")
        if self.kind is SwapKind.ABSORB and self.range_b is not None:
            raise ValueError("an absorb gives nothing back: it has no range B")
        if self.kind is SwapKind.ONE_TO_ONE and self.range_b is None:
            raise ValueError("a one-to-one swap needs range B (the duties that go to A)")
        return self

    def expired_at(self, now: datetime) -> bool:
        return self.status is SwapStatus.PENDING and self.deadline is not None and now >= self.deadline
