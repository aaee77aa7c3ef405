"""A swap applied to a copy of the schedule, and the compliance engine's verdict on it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from rotaguard.compliance import Report, Violation, validate
from rotaguard.domain import Assignment, AssignmentSource, Program, Schedule
from rotaguard.domain.swaps import DateRange, Move, SwapKind, SwapRequest


class SwapConflict(ValueError):
    """The swap cannot even be applied (nothing to swap, or a slot already taken)."""


def moves_for(request: SwapRequest, schedule: Schedule, *, person_b: str | None = None) -> tuple[Move, ...]:
    """What changes hands: A's duties in range A go to B; in a one-to-one, B's in range B go to A."""
    taker = person_b or request.person_b
    if taker is None:
        raise SwapConflict("nobody has taken the request yet")
    given = _held(schedule, request.person_a, request.range_a)
    if not given:
        raise SwapConflict(f"{request.person_a} has no assignments {request.range_a}")
    moves = [_hand(a, taker) for a in given]
    if request.kind is SwapKind.ONE_TO_ONE:
        assert request.range_b is not None  # SwapRequest requires range B of a one-to-one
        taken = _held(schedule, taker, request.range_b)
        if not taken:
            raise SwapConflict(f"{taker} has no assignments {request.range_b} to give back")
        moves += [_hand(a, request.person_a) for a in taken]
    return tuple(moves)


def _held(schedule: Schedule, person_id: str, span: DateRange) -> list[Assignment]:
    return [a for a in schedule.assignments if a.person_id == person_id and span.covers(a.date)]


def _hand(assignment: Assignment, to: str) -> Move:
    return Move(
        before=assignment, after=assignment.model_copy(update={"person_id": to, "source": AssignmentSource.SWAP})
    )


def apply_moves(schedule: Schedule, moves: tuple[Move, ...]) -> Schedule:
    """The schedule after the moves; a slot already held by the receiver is a conflict."""
    leaving = {m.before.key for m in moves}
    kept = [a for a in schedule.assignments if a.key not in leaving]
    taken = {a.key for a in kept}
    for move in moves:
        if move.after.key in taken:
            person, day, slot = move.after.key
            raise SwapConflict(f"{person} already works {day} {slot}")
        taken.add(move.after.key)
    return Schedule(assignments=tuple(kept) + tuple(m.after for m in moves)).sorted()


def _key(violation: Violation) -> tuple:
    return (
        violation.rule_id,
        violation.person_id,
        violation.rotation_id,
        violation.date,
        violation.slot,
        violation.window_start,
    )


@dataclass(frozen=True)
class Verdict:
    """New Tier 1 violations reject the swap; new Tier 2 warnings or a lost N-1 need a coordinator."""

    tier1: tuple[Violation, ...]
    tier2: tuple[Violation, ...]
    lost_n1: bool
    before: Report | None = field(default=None, repr=False)
    after: Report | None = field(default=None, repr=False)

    @property
    def rejected(self) -> bool:
        return bool(self.tier1)

    @property
    def needs_approval(self) -> bool:
        return not self.tier1 and (bool(self.tier2) or self.lost_n1)

    def reason(self) -> str:
        if self.tier1:
            first = self.tier1[0]
            return f"breaks Tier 1 rule {first.rule_id}: {first.message}"
        if self.tier2:
            first = self.tier2[0]
            return f"Tier 2 warning {first.rule_id}: {first.message}"
        if self.lost_n1:
            return "the schedule would lose N-1 compliance"
        return "passes every rule"

    def as_dict(self) -> dict:
        return {
            "tier1": [v.model_dump(mode="json", exclude_none=True) for v in self.tier1],
            "tier2": [v.model_dump(mode="json", exclude_none=True) for v in self.tier2],
            "lost_n1": self.lost_n1,
            "reason": self.reason(),
        }


def judge(program: Program, schedule: Schedule, moves: tuple[Move, ...], *, check_n1: bool = True) -> Verdict:
    """Judge the swapped schedule against the current one over the days that change hands;
    the 28-day windows reach as far as ``schedule`` holds history."""
    after_schedule = apply_moves(schedule, moves)
    days = [m.before.date for m in moves]
    start, end = min(days), max(days)
    before = validate(schedule, program, start=start, end=end, resilience=check_n1)
    after = validate(after_schedule, program, start=start, end=end, resilience=check_n1)
    existing = {_key(v) for v in before.violations}
    new = [v for v in after.violations if _key(v) not in existing]
    lost_n1 = bool(check_n1 and before.metrics.n1_compliant and not after.metrics.n1_compliant)
    return Verdict(
        tier1=tuple(v for v in new if v.tier == 1),
        tier2=tuple(v for v in new if v.tier == 2),
        lost_n1=lost_n1,
        before=before,
        after=after,
    )


def window(request: SwapRequest, reach_days: int) -> tuple[date, date]:
    """The dates whose assignments a judgement needs: the ranges and 28 days either side."""
    spans = [request.range_a] + ([request.range_b] if request.range_b else [])
    reach = timedelta(days=reach_days)
    return min(s.start for s in spans) - reach, max(s.end for s in spans) + reach
