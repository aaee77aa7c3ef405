"""``validate``: every rule, the coverage gaps and the metrics for one date range of a schedule."""

from __future__ import annotations

from datetime import date

import numpy as np

from rotaguard.compliance import plan_rules  # noqa: F401  (registers the block-layer rules)
from rotaguard.compliance.fill import fill
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
from rotaguard.compliance.view import HOUR, ScheduleView
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
    """Shortfalls against each group's minimum (a service's residents of a PGY group, its faculty)
    on the shifts it runs, and the totals: required head count and the part of it filled."""
    weekdays = view.range_weekdays
    keyed: list[tuple[tuple[int, int, int, int], CoverageGap]] = []
    required_total = filled_total = 0
    for rotation_index, rotation in enumerate(view.rotations):
        runs = view.tables.runs[rotation_index][weekdays]  # [range day, slot]
        for table in view.tables.group_tables[rotation_index]:
            required = np.where(runs & table.present[weekdays], table.minimum[weekdays], 0)
            assigned = view.range_group_counts(rotation_index, table)
            required_total += int(required.sum())
            filled_total += int(np.minimum(assigned, required).sum())
            group = table.group
            for at, slot in np.argwhere(assigned < required):
                when, shift = view.grid.day(view.range_first + at), view.shift_ids[slot]
                have, want = int(assigned[at, slot]), int(required[at, slot])
                keyed.append(
                    (
                        (rotation_index, int(at), int(slot), int(table.position[weekdays[at], slot])),
                        CoverageGap(
                            rotation_id=rotation.id,
                            date=when,
                            slot=shift,
                            role=group.role,
                            pgy=group.pgy,
                            required=want,
                            assigned=have,
                            message=f"{rotation.id} {when} {shift}: {have} of {want} {group.label()}",
                        ),
                    )
                )
    keyed.sort(key=lambda item: item[0])
    return [gap for _, gap in keyed], required_total, filled_total


def _slot_fill_rate(view: ScheduleView) -> float:
    """Assigned person half days (session shifts: v1's AM and PM) over the half days people are
    present for (two a day)."""
    days = (view.end - view.start).days + 1
    absent_days = sum(
        max(0, (min(a.end, view.end) - max(a.start, view.start)).days + 1)
        for a in view.program.absences
        if a.person_id in view.person_index
    )
    available = 2 * (len(view.people) * days - absent_days)
    assigned = int(np.count_nonzero(view.in_range & (view.person >= 0) & view.tables.session[view.slot]))
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
    expected_duties, filled_duties = fill(view)
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
        fill_rate=round(filled_duties / expected_duties, 4) if expected_duties else 1.0,
        expected_duties=expected_duties,
        filled_duties=filled_duties,
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
