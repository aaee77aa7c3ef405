"""Rules of the block layer (docs/model.md): duties against the plan, the plan against the
rotations' capacities, eligibility and vacation, the curriculum, the weekly clinic and the
protected didactics.

Each is a schedule-wide rule ``(view, params) -> [Violation]`` in the one registry. They judge
only programs with a block plan (``program.has_plan_model``); a v1 program has no plan, so
none of them ever fires on it. ``rotation_id`` in their violations is the block rotation for
the plan rules (capacity, eligibility, vacation, curriculum, unplanned) and the service of the
duty for the duty rules. ``PLAN_RULE_IDS`` are the rules that judge the block schedule itself
(not the duties inside it); ``plan_findings`` runs just those over the academic year: the
plan-year flow's validation gate.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from rotaguard.compliance.fill import ExpectedKind, expectations, worked_days
from rotaguard.compliance.model import Tier, Violation
from rotaguard.compliance.rules import RULES, rule
from rotaguard.compliance.view import ScheduleView
from rotaguard.domain import (
    VACATION_KIND,
    Assignment,
    BlockDates,
    Person,
    PlanEntry,
    Program,
    RuleParams,
    Schedule,
    Weekday,
    days_between,
    required_blocks,
)

# A plan row this short is a half-block (14 of 28 days; 15 allows a 29- or 30-day block's half).
HALF_BLOCK_MAX_DAYS = 15


def _resident_duty_rows(view: ScheduleView) -> list[int]:
    """In-range rows of known residents on known services and shifts."""
    rows = view.in_range & (view.person >= 0) & (view.rotation >= 0) & (view.slot >= 0)
    return [int(row) for row in np.flatnonzero(rows) if view.people[view.person[row]].is_resident]


# ---------------------------------------------------------------------------- duties against the plan


def outside_reason(program: Program, person: Person, duty: Assignment) -> str | None:
    """Why ``duty`` is not work the resident's plan gives them that day, or None when it is."""
    entry = program.planned(person.id, duty.date)
    if entry is None:
        return "no plan row puts them on a rotation that day"
    rotation = program.block_rotations_by_id.get(entry.rotation_id)
    if rotation is None:
        return f"their plan names unknown rotation {entry.rotation_id}"
    weekday = Weekday.of(duty.date)
    pattern = rotation.pattern_duty(duty.rotation_id, duty.slot)
    if pattern is not None and weekday in pattern.days:
        return None
    clinic = person.clinic
    if (
        rotation.clinic
        and clinic is not None
        and (clinic.day, clinic.shift) == (weekday, duty.slot)
        and duty.rotation_id == program.clinic_service
    ):
        return None
    if (
        rotation.didactics
        and duty.rotation_id == program.didactics_service
        and any((s.day, s.shift) == (weekday, duty.slot) for s in program.didactics)
    ):
        return None
    return f"not in the duty pattern of their rotation {rotation.id} (nor their clinic or didactics)"


@rule(
    "plan.outside_rotation",
    tier=Tier.REGULATORY,
    cites="Program rule (docs/model.md): a resident works only the duty pattern of the rotation the block plan "
    "puts them on, plus their continuity clinic and the protected didactics",
    title="Resident duty outside their planned rotation",
    applies_to=None,
)
def outside_rotation(view: ScheduleView, params: RuleParams) -> list[Violation]:
    program = view.program
    if not program.has_plan_model:
        return []
    found = []
    for row in _resident_duty_rows(view):
        duty, person = view.assignments[row], view.people[view.person[row]]
        reason = outside_reason(program, person, duty)
        if reason is not None:
            found.append(
                RULES["plan.outside_rotation"].violation(
                    f"{person.id} on {duty.rotation_id} {duty.date} {duty.slot}: {reason}",
                    person_id=person.id,
                    rotation_id=duty.rotation_id,
                    date=duty.date,
                    slot=duty.slot,
                )
            )
    return found


# ---------------------------------------------------------------------------- capacity


def _blocks_of_range(program: Program, start: date, end: date) -> list[tuple[date, date]]:
    blocks = []
    day = start
    while day <= end:
        first, last = program.block_dates(day)
        blocks.append((first, last))
        day = last + timedelta(days=1)
    return blocks


def _second_half(first: date, last: date) -> date:
    # As BlockDates.halves: on an odd length the first half is the shorter.
    return first + timedelta(days=((last - first).days + 1) // 2)


@rule(
    "plan.capacity",
    tier=Tier.INSTITUTIONAL,
    cites="Program rule (docs/model.md): each rotation's capacity per block by PGY group, min and max",
    title="Residents on a rotation in a block below its minimum or above its maximum",
    applies_to=None,
)
def capacity(view: ScheduleView, params: RuleParams) -> list[Violation]:
    """Head counts at the block's start and at its second half's start (a half-block row counts in
    its half; a whole-block row in both). Only where the plan reaches: a point no plan row covers
    is a block not planned yet, not an empty one."""
    program = view.program
    if not program.has_plan_model:
        return []
    found = []
    for first, last in _blocks_of_range(program, view.start, view.end):
        middle = _second_half(first, last)
        points = ((first, (first, middle - timedelta(days=1))), (middle, (middle, last)))
        on_at = {point: [e for e in program.plan if e.covers(point)] for point, _ in points}
        for rotation in program.block_rotations:
            for group in rotation.capacity:
                counts = {}
                for point, _ in points:
                    if on_at[point]:
                        counts[point] = sum(
                            1
                            for e in on_at[point]
                            if e.rotation_id == rotation.id
                            and (p := program.people_by_id.get(e.person_id)) is not None
                            and p.pgy in group.pgy
                        )
                halves = [(point, span) for point, span in points if point in counts]
                # A count that holds the whole block is one finding, not two.
                if len(halves) == 2 and counts[first] == counts[middle]:
                    halves = [(first, (first, last))]
                for point, (window_start, window_end) in halves:
                    count = counts[point]
                    if group.min <= count <= group.max:
                        continue
                    bound, word = (group.min, "at least") if count < group.min else (group.max, "at most")
                    levels = "/".join(str(level) for level in group.pgy)
                    found.append(
                        RULES["plan.capacity"].violation(
                            f"{rotation.id} {window_start}..{window_end}: {count} PGY-{levels} residents; "
                            f"{word} {bound}",
                            rotation_id=rotation.id,
                            date=point,
                            window_start=window_start,
                            window_end=window_end,
                            measured=float(count),
                            limit=float(bound),
                        )
                    )
    return found


# ---------------------------------------------------------------------------- curriculum


def _year_span(program: Program) -> tuple[date, date] | None:
    if program.year is not None:
        return min(b.start for b in program.year.blocks), max(b.end for b in program.year.blocks)
    if program.plan:
        return min(e.start for e in program.plan), max(e.end for e in program.plan)
    return None


def _covers(rows: tuple[PlanEntry, ...], first: date, last: date) -> bool:
    """Whether the (sorted, non-overlapping) rows cover every day of ``first..last``."""
    cursor = first
    for row in rows:
        if row.end < cursor:
            continue
        if row.start > cursor:
            return False
        cursor = row.end + timedelta(days=1)
        if cursor > last:
            return True
    return cursor > last


def block_value(row: PlanEntry) -> float:
    """A plan row's blocks: a half-block (<= 15 days) counts a half."""
    return 0.5 if row.days <= HALF_BLOCK_MAX_DAYS else 1.0


def _runs(rows: list[PlanEntry]) -> list[tuple[str, date, float]]:
    """(rotation, first day, blocks) of each stretch of back-to-back rows on one rotation."""
    runs: list[tuple[str, date, float]] = []
    previous: PlanEntry | None = None
    for row in rows:
        adjacent = previous is not None and row.start == previous.end + timedelta(days=1)
        if adjacent and previous is not None and previous.rotation_id == row.rotation_id:
            rotation, began, blocks = runs[-1]
            runs[-1] = (rotation, began, blocks + block_value(row))
        else:
            runs.append((row.rotation_id, row.start, block_value(row)))
        previous = row
    return runs


def _fmt(blocks: float) -> str:
    return f"{blocks:g}"


def _year_blocks(program: Program) -> tuple[BlockDates, ...]:
    """The academic year's blocks; without a dated year, one span over the plan's rows."""
    if program.year is not None:
        return program.year_blocks()
    span = _year_span(program)
    # Constructed, not validated: the span may be longer than a block may be (42 days) in a document.
    return () if span is None else (BlockDates.model_construct(number=1, start=span[0], end=span[1]),)


def _planned_blocks(program: Program, blocks: tuple[BlockDates, ...]) -> set[int]:
    """The numbers of the blocks some plan row reaches into: the blocks already planned (a block no
    row reaches is not planned yet, as ``plan.capacity`` reads it)."""
    return {b.number for b in blocks if any(e.start <= b.end and e.end >= b.start for e in program.plan)}


@rule(
    "curriculum.requirements",
    tier=Tier.INSTITUTIONAL,
    cites="Program curriculum (docs/model.md): per PGY class, blocks of each rotation over the year (min/max; "
    "the minimum prorated over the blocks present, rounded down), the most in a row and what comes before what",
    title="A resident's year plan against the curriculum",
    applies_to=None,
)
def curriculum(view: ScheduleView, params: RuleParams) -> list[Violation]:
    """Judged per resident over the academic year (``program.year``, else the span of the plan's
    rows) when the year overlaps the range, and only when every block of the year is either planned
    for them (their rows cover it) or a block they are away for (``Program.away_blocks``): a partial
    plan cannot be short, and what comes first is unknown. The minimum is ``required_blocks`` over
    the blocks present (the planner reads the same); the maximum is as written."""
    program = view.program
    span = _year_span(program)
    if not program.has_plan_model or not program.curriculum or span is None:
        return []
    year_first, year_last = span
    if year_last < view.start or year_first > view.end:
        return []
    blocks = _year_blocks(program)
    violation = RULES["curriculum.requirements"].violation
    found = []
    for person in program.people:
        all_rows = program.plan_by_person.get(person.id, ())
        if not person.is_resident:
            continue
        away = program.away_blocks(person.id) if program.year is not None else frozenset()
        if not all(b.number in away or _covers(all_rows, b.start, b.end) for b in blocks):
            continue
        present = sum(1 for b in blocks if b.number not in away)
        rows = [r for r in all_rows if year_first <= r.start <= year_last]
        blocks_of: dict[str, float] = {}
        first_start: dict[str, date] = {}
        for row in rows:
            blocks_of[row.rotation_id] = blocks_of.get(row.rotation_id, 0.0) + block_value(row)
            first_start.setdefault(row.rotation_id, row.start)
        runs = _runs(rows)
        year = {"window_start": year_first, "window_end": year_last}
        for need in (n for n in program.curriculum if n.pgy == person.pgy):
            had = blocks_of.get(need.rotation, 0.0)
            least, _ = required_blocks(need, present, len(blocks))
            where = f"{person.id} (PGY-{person.pgy}) {year_first}..{year_last}"
            prorated = f" (prorated: {present} of {len(blocks)} blocks present)" if present < len(blocks) else ""
            if had < least or had > need.max_blocks:
                if had < least:
                    bound, word, note = float(least), "at least", prorated
                else:
                    bound, word, note = need.max_blocks, "at most", ""
                found.append(
                    violation(
                        f"{where}: {_fmt(had)} blocks of {need.rotation}; {word} {_fmt(bound)}{note}",
                        person_id=person.id,
                        rotation_id=need.rotation,
                        date=year_first,
                        measured=float(had),
                        limit=float(bound),
                        **year,
                    )
                )
            if need.max_consecutive is not None:
                for rotation, began, length in runs:
                    if rotation == need.rotation and length > need.max_consecutive:
                        found.append(
                            violation(
                                f"{where}: {_fmt(length)} blocks of {need.rotation} in a row from {began}; "
                                f"at most {need.max_consecutive}",
                                person_id=person.id,
                                rotation_id=need.rotation,
                                date=began,
                                measured=float(length),
                                limit=float(need.max_consecutive),
                                **year,
                            )
                        )
            mine = first_start.get(need.rotation)
            for later in need.before:
                theirs = first_start.get(later)
                if mine is not None and theirs is not None and theirs < mine:
                    found.append(
                        violation(
                            f"{where}: {later} from {theirs} comes before {need.rotation} from {mine}; "
                            f"{need.rotation} must come first",
                            person_id=person.id,
                            rotation_id=later,
                            date=theirs,
                            **year,
                        )
                    )
    return found


# ---------------------------------------------------------------------------- the plan's rows


def _rows_in_range(view: ScheduleView) -> list[tuple[PlanEntry, Person]]:
    """Plan rows of known residents that reach into the range."""
    people = view.program.people_by_id
    return [
        (entry, person)
        for entry in view.program.plan
        if entry.start <= view.end
        and entry.end >= view.start
        and (person := people.get(entry.person_id)) is not None
        and person.is_resident
    ]


@rule(
    "plan.eligibility",
    tier=Tier.INSTITUTIONAL,
    cites="Program rule (docs/model.md): a rotation's eligibility, the PGY levels it takes and the credentials "
    "its residents hold (unexpired at the plan row's start)",
    title="A resident planned on a rotation they may not be on",
    applies_to=None,
)
def eligibility(view: ScheduleView, params: RuleParams) -> list[Violation]:
    program = view.program
    if not program.has_plan_model:
        return []
    violation = RULES["plan.eligibility"].violation
    found = []
    for entry, person in _rows_in_range(view):
        rotation = program.block_rotations_by_id.get(entry.rotation_id)
        if rotation is None:
            continue  # the program's own checks refuse an unknown rotation
        where = f"{person.id} (PGY-{person.pgy}) on {rotation.id} {entry.start}..{entry.end}"
        fields = {
            "person_id": person.id,
            "rotation_id": rotation.id,
            "date": entry.start,
            "window_start": entry.start,
            "window_end": entry.end,
        }
        if person.pgy not in rotation.pgy:
            levels = "/".join(str(level) for level in rotation.pgy)
            found.append(violation(f"{where}: the rotation takes PGY-{levels}", **fields))
        if missing := person.missing_credentials(rotation.credentials, entry.start):
            found.append(violation(f"{where}: does not hold {', '.join(missing)} (valid on {entry.start})", **fields))
    return found


@rule(
    "plan.vacation",
    tier=Tier.INSTITUTIONAL,
    cites="Program rule (docs/model.md): approved vacation only on rotations that allow vacation",
    title="An approved vacation on a rotation that does not allow vacation",
    applies_to=None,
)
def vacation(view: ScheduleView, params: RuleParams) -> list[Violation]:
    program = view.program
    if not program.has_plan_model:
        return []
    violation = RULES["plan.vacation"].violation
    found = []
    for absence in program.absences:
        if absence.kind != VACATION_KIND or absence.end < view.start or absence.start > view.end:
            continue
        for entry in program.plan_by_person.get(absence.person_id, ()):
            rotation = program.block_rotations_by_id.get(entry.rotation_id)
            if rotation is None or rotation.vacation or entry.end < absence.start or entry.start > absence.end:
                continue
            first, last = max(entry.start, absence.start), min(entry.end, absence.end)
            found.append(
                violation(
                    f"{absence.person_id} has vacation {first}..{last} on {rotation.id} "
                    f"({entry.start}..{entry.end}), which does not allow vacation",
                    person_id=absence.person_id,
                    rotation_id=rotation.id,
                    date=first,
                    window_start=first,
                    window_end=last,
                )
            )
    return found


def _present_unplanned(program: Program, person: Person, block: BlockDates) -> list[date]:
    """Days of ``block`` the resident is present (no absence but a vacation covers them) and no
    plan row of theirs covers."""
    rows = program.plan_by_person.get(person.id, ())
    away = [a for a in program.absences if a.person_id == person.id and a.kind != VACATION_KIND]
    return [
        day
        for day in days_between(block.start, block.end)
        if not any(r.covers(day) for r in rows) and not any(a.covers(day) for a in away)
    ]


@rule(
    "plan.unplanned",
    tier=Tier.INSTITUTIONAL,
    cites="Program rule (docs/model.md): in a planned block every resident present is on a rotation; only a "
    "block they are away for entirely has no plan row",
    title="A resident present in a planned block but on no rotation",
    applies_to=None,
)
def unplanned(view: ScheduleView, params: RuleParams) -> list[Violation]:
    """Only in the year's blocks some plan row reaches (a block no row reaches is not planned yet)
    that overlap the range; one finding per resident and block, from the first day uncovered."""
    program = view.program
    if not program.has_plan_model:
        return []
    blocks = tuple(b for b in _year_blocks(program) if b.start <= view.end and b.end >= view.start)
    planned = _planned_blocks(program, blocks)
    violation = RULES["plan.unplanned"].violation
    found = []
    for person in program.people:
        if not person.is_resident or not person.active:
            continue
        for block in blocks:
            if block.number not in planned:
                continue
            days = _present_unplanned(program, person, block)
            if days:
                found.append(
                    violation(
                        f"{person.id} (PGY-{person.pgy}) is present but on no rotation on {len(days)} days of "
                        f"block {block.number} ({block.start}..{block.end}), from {days[0]}",
                        person_id=person.id,
                        date=days[0],
                        window_start=block.start,
                        window_end=block.end,
                        measured=float(len(days)),
                        limit=0.0,
                    )
                )
    return found


# The rules that judge the block schedule itself: the plan-year flow's validation gate refuses a
# plan with any of their findings.
PLAN_RULE_IDS: tuple[str, ...] = (
    "plan.capacity",
    "curriculum.requirements",
    "plan.eligibility",
    "plan.vacation",
    "plan.unplanned",
)


def plan_findings(program: Program) -> list[Violation]:
    """Every finding of ``PLAN_RULE_IDS`` over the academic year (``program.year``, else the span
    of the plan's rows), in date, person and rule order; none without a plan model or a year."""
    span = _year_span(program)
    if not program.has_plan_model or span is None:
        return []
    view = ScheduleView(Schedule(assignments=()), program, span[0], span[1])
    found: list[Violation] = []
    for rule_id in PLAN_RULE_IDS:
        found += RULES[rule_id].check(view, program.rules)
    found.sort(key=lambda v: (v.date or span[0], v.person_id or "", v.rule_id))
    return found


# ---------------------------------------------------------------------------- clinic and didactics


@rule(
    "clinic.missed",
    tier=Tier.INSTITUTIONAL,
    cites="Program rule (docs/model.md): the weekly continuity clinic is worked every week the resident is present "
    "on a rotation that has clinic",
    title="A week's continuity clinic not scheduled",
    applies_to=None,
)
def clinic_missed(view: ScheduleView, params: RuleParams) -> list[Violation]:
    if not view.program.has_plan_model:
        return []
    found = []
    for item in expectations(view):
        if item.kind is not ExpectedKind.CLINIC:
            continue
        worked = set(worked_days(view, item))
        for day in item.days:
            if day not in worked:
                found.append(
                    RULES["clinic.missed"].violation(
                        f"{item.person_id} has no {item.shift} clinic on {item.service} on {day} "
                        f"(on {item.row.rotation_id}, which has clinic)",
                        person_id=item.person_id,
                        rotation_id=item.service,
                        date=day,
                        slot=item.shift,
                    )
                )
    return found


@rule(
    "didactics.conflict",
    tier=Tier.INSTITUTIONAL,
    cites="Program rule (docs/model.md): protected didactics half days for residents on rotations with didactics",
    title="Another duty during a resident's protected didactics",
    applies_to=None,
)
def didactics_conflict(view: ScheduleView, params: RuleParams) -> list[Violation]:
    program = view.program
    service = program.didactics_service
    if not program.has_plan_model or service is None or not program.didactics:
        return []
    service_code = view.rotation_index.get(service, -1)
    found = []
    for timeline in view.timelines:
        person = timeline.person
        if not person.is_resident:
            continue
        for day in days_between(view.start, view.end):
            rotation = program.planned_rotation(person.id, day)
            if rotation is None or not rotation.didactics:
                continue
            for session in program.didactics:
                if Weekday.of(day) != session.day or session.shift not in view.shift_index:
                    continue
                began, ended = program.interval_bounds(day, session.shift, program.hours_for(service, session.shift))
                start, end = int(began.timestamp()), int(ended.timestamp())
                code = view.shift_index[session.shift]
                itself = (
                    (timeline.rotations == service_code)
                    & (timeline.slots == code)
                    & (timeline.days == view.grid.index(day))
                )
                clashes = (timeline.starts < end) & (timeline.ends > start) & ~itself
                for i in np.flatnonzero(clashes):
                    other = view.assignments[timeline.rows[i]]
                    found.append(
                        RULES["didactics.conflict"].violation(
                            f"{person.id} on {other.rotation_id} {other.date} {other.slot} overlaps the "
                            f"{session.shift} didactics of {day} (on {rotation.id}, which protects it)",
                            person_id=person.id,
                            rotation_id=other.rotation_id,
                            date=day,
                            slot=other.slot,
                        )
                    )
    return found
