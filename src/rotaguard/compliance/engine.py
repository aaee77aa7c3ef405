"""``validate``: every rule, the coverage gaps and the metrics for one date range of a schedule."""

from __future__ import annotations

from datetime import date

import numpy as np

from rotaguard.compliance.model import CoverageGap, Metrics, PersonLoad, Report, ResilienceGap, Tier, Violation
from rotaguard.compliance.resilience import Resilience
from rotaguard.compliance.rules import (
    RULES,
    Rule,
    Scope,
    _window_hours,
    call_counts,
    check_person,
    person_rules,
    weekend_counts,
)
from rotaguard.compliance.view import FACULTY, HOUR, PGY1, SENIOR, SLOTS_BY_CODE, ScheduleView
from rotaguard.domain import Program, RuleParams, Schedule


def _range_of(schedule: Schedule, start: date | None, end: date | None) -> tuple[date, date]:
    days = [a.date for a in schedule.assignments]
    if start is None:
        start = min(days) if days else date.today()
    if end is None:
        end = max(days) if days else start
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    return start, end


def check_rule(
    rule_id: str,
    schedule: Schedule,
    program: Program,
    params: RuleParams | None = None,
    *,
    start: date | None = None,
    end: date | None = None,
) -> list[Violation]:
    """One rule on its own: ``(schedule, program, params) -> [Violation]``."""
    rule_ = RULES[rule_id]
    start, end = _range_of(schedule, start, end)
    params = params or program.rules
    view = ScheduleView(schedule, program.model_copy(update={"rules": params}), start, end)
    if rule_.applies_to is None:
        return rule_.check(view, params)
    scope = Scope.of(view, params)
    return check_person_all(view, scope, [rule_])


def check_person_all(view: ScheduleView, scope: Scope, rules: list[Rule]) -> list[Violation]:
    found: list[Violation] = []
    for timeline in view.timelines:
        found += check_person(timeline, scope, rules)
    return found


def _coverage(view: ScheduleView) -> tuple[list[CoverageGap], int, int]:
    """Shortfalls against each rotation's minimum on the slots it runs, and the totals."""
    days = np.arange(view.range_first, view.range_last + 1)
    runs = view.tables.runs[:, view.grid.weekday(days), :]  # [rotation, day, slot]
    counts = view.staffing[:, days, :, :]
    gaps, required_total, filled_total = [], 0, 0
    for role, role_index, assigned in (
        ("residents", 0, counts[..., PGY1] + counts[..., SENIOR]),
        ("faculty", 1, counts[..., FACULTY]),
    ):
        minimum = np.array([(r.residents.min, r.faculty.min)[role_index] for r in view.rotations], dtype=np.int64)
        required = np.where(runs, minimum[:, None, None], 0)
        required_total += int(required.sum())
        filled_total += int(np.minimum(assigned, required).sum())
        for rotation_index, day, slot in np.argwhere(assigned < required):
            rotation, when, slot_ = view.rotations[rotation_index], view.grid.day(days[day]), SLOTS_BY_CODE[slot]
            have, want = int(assigned[rotation_index, day, slot]), int(required[rotation_index, day, slot])
            gaps.append(
                (
                    (int(rotation_index), int(day), int(slot), role_index),
                    CoverageGap(
                        rotation_id=rotation.id,
                        date=when,
                        slot=slot_,
                        role=role,
                        required=want,
                        assigned=have,
                        message=f"{rotation.id} {when} {slot_.value}: {have} of {want} {role}",
                    ),
                )
            )
    gaps.sort(key=lambda keyed: keyed[0])
    return [gap for _, gap in gaps], required_total, filled_total


def _slot_fill_rate(view: ScheduleView) -> float:
    """Assigned person half days (AM/PM) over the half days people are present for."""
    days = (view.end - view.start).days + 1
    absent_days = sum(
        max(0, (min(a.end, view.end) - max(a.start, view.start)).days + 1)
        for a in view.program.absences
        if a.person_id in view.person_index
    )
    available = 2 * (len(view.people) * days - absent_days)
    assigned = int(np.count_nonzero(view.in_range & (view.person >= 0) & (view.slot < 2)))
    return round(assigned / available, 4) if available else 0.0


def _loads(view: ScheduleView, scope: Scope) -> tuple[PersonLoad, ...]:
    loads = []
    starts = scope.window_starts()
    for timeline in view.timelines:
        in_range = view.in_range[timeline.rows]
        hours = float((timeline.ends[in_range] - timeline.starts[in_range]).sum()) / HOUR
        calls = int(np.count_nonzero(in_range & timeline.in_house_call))
        windows = _window_hours(timeline, scope, starts)
        loads.append(
            PersonLoad(
                person_id=timeline.person.id,
                hours=round(hours, 2),
                calls=calls,
                max_window_hours=round(float(windows.max()) / HOUR, 2) if len(windows) else 0.0,
            )
        )
    return tuple(loads)


def validate(
    schedule: Schedule,
    program: Program,
    *,
    start: date | None = None,
    end: date | None = None,
    params: RuleParams | None = None,
    resilience: bool = True,
) -> Report:
    """Judge the assignments of ``start..end`` (history before it counts toward every window)."""
    start, end = _range_of(schedule, start, end)
    params = params or program.rules
    if params != program.rules:
        program = program.model_copy(update={"rules": params})
    view = ScheduleView(schedule, program, start, end)
    scope = Scope.of(view, params)

    violations = check_person_all(view, scope, person_rules())
    for rule_ in RULES.values():
        if rule_.applies_to is None:
            violations += rule_.check(view, params)
    violations.sort(key=lambda v: (v.tier, v.date or start, v.person_id or "", v.rule_id))

    gaps, required, filled = _coverage(view)
    calls = call_counts(view)
    weekends = weekend_counts(view)
    resilience_gaps: list[ResilienceGap] = []
    n1_failures = n2_failures = None
    if resilience:
        checker = Resilience(view, params)
        n1, critical = checker.n1()
        n2 = checker.n2(critical)
        resilience_gaps = n1 + n2
        n1_failures, n2_failures = len(n1), len(n2)

    metrics = Metrics(
        demand_coverage=round(filled / required, 4) if required else 1.0,
        slot_fill_rate=_slot_fill_rate(view),
        tier1_violations=sum(1 for v in violations if v.tier is Tier.REGULATORY),
        tier2_warnings=sum(1 for v in violations if v.tier is Tier.INSTITUTIONAL),
        coverage_gaps=len(gaps),
        n1_compliant=None if n1_failures is None else n1_failures == 0,
        n1_failures=n1_failures,
        n2_compliant=None if n2_failures is None else n2_failures == 0,
        n2_failures=n2_failures,
        call_spread=(max(calls.values()) - min(calls.values())) if calls else None,
        weekend_spread=(max(weekends.values()) - min(weekends.values())) if weekends else None,
        people=_loads(view, scope),
    )
    return Report(
        start=start,
        end=end,
        violations=tuple(violations),
        coverage_gaps=tuple(gaps),
        metrics=metrics,
        resilience=tuple(resilience_gaps),
    )
