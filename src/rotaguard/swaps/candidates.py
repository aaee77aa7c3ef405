"""Who could take a swap: eligible people ranked by a score that explains itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from rotaguard.domain import Assignment, Person, Program, Schedule
from rotaguard.domain.swaps import Move, SwapKind, SwapRequest
from rotaguard.swaps.tentative import SwapConflict, judge, moves_for, window

MAX_CANDIDATES = 10
# How the parts weigh in the score; they sum to 1, so the score stays in [0, 1].
WEIGHTS = {"proximity": 0.25, "same_rotation": 0.25, "workload": 0.35, "history": 0.15}
PROXIMITY_DAYS = 14
REFUSALS_TO_ZERO = 5


@dataclass(frozen=True)
class Candidate:
    person_id: str
    name: str
    score: float
    parts: dict[str, float]
    moves: tuple[Move, ...]

    def as_dict(self) -> dict:
        return {"person_id": self.person_id, "name": self.name, "score": self.score, "parts": self.parts}


def _free_and_eligible(program: Program, person: Person, duties: list[Assignment], busy: set) -> bool:
    """Could ``person`` hold each duty at all: role and PGY, credentials that day, present, slot free."""
    for duty in duties:
        rotation = program.rotation(duty.rotation_id)
        if not rotation.accepts(person) or person.missing_credentials(rotation.credentials, duty.date):
            return False
        if program.absent(person.id, duty.date) or (person.id, duty.date, duty.slot) in busy:
            return False
    return True


def _proximity(own: list[Assignment], duties: list[Assignment]) -> float:
    """1 when the person already works the same rotation right beside the duties, 0 when 14+ days away."""
    distances = [
        abs((mine.date - duty.date).days)
        for duty in duties
        for mine in own
        if mine.rotation_id == duty.rotation_id and mine.date != duty.date
    ]
    if not distances:
        return 0.0
    return max(0.0, 1 - (min(distances) - 1) / PROXIMITY_DAYS)


def _same_rotation(own: list[Assignment], duties: list[Assignment]) -> float:
    """The share of the duties whose rotation the person works in the surrounding weeks."""
    rotations = {a.rotation_id for a in own}
    return sum(1 for d in duties if d.rotation_id in rotations) / len(duties)


def rank_candidates(
    program: Program,
    schedule: Schedule,
    request: SwapRequest,
    *,
    declines: dict[str, int] | None = None,
    limit: int = MAX_CANDIDATES,
) -> list[Candidate]:
    """Up to ``limit`` people who could take the request, best first. Each passed every Tier 1
    rule on the tentative schedule for both sides; ``schedule`` must hold the 28 days around."""
    declines = declines or {}
    giver = program.person(request.person_a)
    duties = [a for a in schedule.assignments if a.person_id == giver.id and request.range_a.covers(a.date)]
    if not duties:
        raise SwapConflict(f"{giver.id} has no assignments {request.range_a}")
    busy = {a.key for a in schedule.assignments}
    first, last = window(request, program.rules.averaging_window_days)
    own: dict[str, list[Assignment]] = {}
    hours: dict[str, float] = {}
    for a in schedule.assignments:
        if first <= a.date <= last:
            own.setdefault(a.person_id, []).append(a)
            hours[a.person_id] = hours.get(a.person_id, 0.0) + program.hours_of(a)
    pool = [
        p
        for p in program.people
        if p.active and p.id != giver.id and p.role is giver.role and _free_and_eligible(program, p, duties, busy)
    ]
    if request.kind is SwapKind.ONE_TO_ONE:
        pool = [p for p in pool if _gives_back(program, giver, p, schedule, request, busy)]
    peer_hours = [hours.get(p.id, 0.0) for p in program.people if p.role is giver.role and p.active]
    low, high = min(peer_hours, default=0.0), max(peer_hours, default=0.0)

    scored = []
    for person in pool:
        mine = own.get(person.id, [])
        parts = {
            "proximity": round(_proximity(mine, duties), 4),
            "same_rotation": round(_same_rotation(mine, duties), 4),
            "workload": round(1.0 if high == low else (high - hours.get(person.id, 0.0)) / (high - low), 4),
            "history": round(max(0.0, 1 - declines.get(person.id, 0) / REFUSALS_TO_ZERO), 4),
        }
        score = round(sum(WEIGHTS[name] * value for name, value in parts.items()), 4)
        scored.append((score, person, parts))
    scored.sort(key=lambda item: (-item[0], item[1].id))

    ranked: list[Candidate] = []
    for score, person, parts in scored:
        try:
            moves = moves_for(request, schedule, person_b=person.id)
            local = _local_schedule(schedule, {giver.id, person.id}, moves, first, last)
            verdict = judge(_local_program(program, local), local, moves, check_n1=False)
        except SwapConflict:
            continue
        if verdict.rejected:
            continue
        ranked.append(Candidate(person.id, person.name, score, parts, moves))
        if len(ranked) == limit:
            break
    return ranked


def _gives_back(
    program: Program, giver: Person, person: Person, schedule: Schedule, request: SwapRequest, busy: set
) -> bool:
    assert request.range_b is not None  # only one-to-one requests give back, and they have range B
    back = [a for a in schedule.assignments if a.person_id == person.id and request.range_b.covers(a.date)]
    leaving = {
        (giver.id, a.date, a.slot)
        for a in schedule.assignments
        if a.person_id == giver.id and request.range_a.covers(a.date)
    }
    return bool(back) and _free_and_eligible(program, giver, back, busy - leaving)


def _local_schedule(schedule: Schedule, people: set[str], moves: tuple[Move, ...], first: date, last: date) -> Schedule:
    """What the Tier 1 rules of this swap can see: both people's duties around it, and everyone
    on the rotation slots that change hands (supervision and staffing maxima count them)."""
    cells = {(m.before.date, m.before.slot, m.before.rotation_id) for m in moves}
    return Schedule(
        assignments=tuple(
            a
            for a in schedule.assignments
            if (a.person_id in people and first <= a.date <= last) or (a.date, a.slot, a.rotation_id) in cells
        )
    )


def _local_program(program: Program, local: Schedule) -> Program:
    """The program narrowed to the people the local schedule holds: the person rules then judge
    a handful of timelines instead of everyone's (nobody else's duties change)."""
    present = {a.person_id for a in local.assignments}
    return program.model_copy(
        update={
            "people": tuple(p for p in program.people if p.id in present),
            "absences": tuple(a for a in program.absences if a.person_id in present),
        }
    )
