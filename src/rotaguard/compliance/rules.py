"""One pure function per rule, in one registry with a stable id, a tier and its citation.

Citations name the ACGME Common Program Requirements (Residency) in the 2023 numbering
(VI.F...) and the 2025 reformatted numbering (6.20-6.28); see ACGME.md.

Person rules read one person's timeline and a ``Scope`` (the days being judged); schedule
rules read the whole ``ScheduleView``. Both return violations and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Protocol, SupportsFloat, SupportsIndex, SupportsInt, TypeVar

import numpy as np

from rotaguard.compliance.model import Severity, Tier, Violation
from rotaguard.compliance.view import (
    FACULTY,
    HOUR,
    PGY1,
    SENIOR,
    DayGrid,
    Flags,
    Ints,
    Periods,
    ProgramTables,
    ScheduleView,
    Timeline,
)
from rotaguard.domain import Program, RuleParams

WEEKEND = (5, 6)


class AppliesTo(StrEnum):
    RESIDENTS = "residents"
    FACULTY = "faculty"
    EVERYONE = "everyone"


@dataclass(frozen=True)
class Scope:
    """The days a check judges (grid indices, inclusive) and everything the rules read."""

    grid: DayGrid
    first: int
    last: int
    params: RuleParams
    program: Program
    tables: ProgramTables

    @classmethod
    def of(cls, view: ScheduleView, params: RuleParams, *, first: int | None = None, last: int | None = None) -> Scope:
        return cls(
            grid=view.grid,
            first=view.range_first if first is None else first,
            last=view.range_last if last is None else last,
            params=params,
            program=view.program,
            tables=view.tables,
        )

    @property
    def window(self) -> int:
        return self.params.averaging_window_days

    def window_starts(self) -> Ints:
        """Every averaging window that contains a judged day, reaching back into history."""
        return np.arange(max(0, self.first - self.window + 1), self.last + 1)

    def window_label(self, start: int) -> tuple[date, date]:
        return self.grid.day(start), self.grid.day(start + self.window - 1)


@dataclass(frozen=True)
class Rule:
    id: str
    tier: Tier
    cites: str
    title: str
    applies_to: AppliesTo | None  # None: a schedule-wide rule
    check: Callable[..., list[Violation]]

    def violation(self, message: str, **fields: Any) -> Violation:
        severity = Severity.ERROR if self.tier is Tier.REGULATORY else Severity.WARNING
        # Built from checked values only: skipping validation keeps large reports fast.
        return Violation.model_construct(rule_id=self.id, tier=self.tier, severity=severity, message=message, **fields)


RULES: dict[str, Rule] = {}

_Check = TypeVar("_Check", bound=Callable[..., list[Violation]])


def rule(
    rule_id: str, *, tier: Tier, cites: str, title: str, applies_to: AppliesTo | None
) -> Callable[[_Check], _Check]:
    def register(check: _Check) -> _Check:
        if rule_id in RULES:
            raise ValueError(f"rule id {rule_id} registered twice")
        RULES[rule_id] = Rule(rule_id, tier, cites, title, applies_to, check)
        return check

    return register


def person_rules(*, tier: Tier | None = None) -> list[Rule]:
    return [r for r in RULES.values() if r.applies_to is not None and (tier is None or r.tier is tier)]


def applies(rule_: Rule, timeline: Timeline) -> bool:
    if rule_.applies_to is AppliesTo.EVERYONE:
        return True
    return timeline.person.is_resident == (rule_.applies_to is AppliesTo.RESIDENTS)


# ---------------------------------------------------------------------------- helpers


def _runs(mask: Flags) -> list[tuple[int, int]]:
    """Inclusive index ranges of consecutive True values."""
    if not mask.any():
        return []
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _window_sums(per_day: Ints, starts: Ints, width: int) -> Ints:
    cumulative: Ints = np.concatenate(([0], np.cumsum(per_day)))
    ends = np.minimum(starts + width, len(per_day))
    sums: Ints = cumulative[ends] - cumulative[starts]
    return sums


def _hours(seconds: SupportsFloat) -> float:
    return round(float(seconds) / HOUR, 2)


def _window_hours(timeline: Timeline, scope: Scope, starts: Ints) -> Ints:
    """Duty seconds inside each window, clipped at the window's edges."""
    periods = Periods.of(timeline)
    midnights = scope.grid.midnights
    ends = np.minimum(starts + scope.window, len(midnights) - 1)
    worked: Ints = periods.worked_before(midnights[ends]) - periods.worked_before(midnights[starts])
    return worked


_Number = float | np.number
"""A measured value: a Python float or a numpy scalar read out of an array."""


class _Sentence(Protocol):
    """How a windowed limit's violation is measured and worded."""

    @property
    def limit(self) -> float: ...
    @property
    def worst_is_max(self) -> bool: ...
    def measured(self, value: _Number) -> float: ...
    def sentence(self, person: str, value: _Number, first: date, last: date) -> str: ...


def _window_limit_violations(
    rule_: Rule,
    timeline: Timeline,
    scope: Scope,
    values: Ints,
    starts: Ints,
    over: Flags,
    describe: _Sentence,
) -> list[Violation]:
    """One violation per run of consecutive offending windows (one overload breaks up to 28
    overlapping windows), reporting the worst window."""
    found = []
    for a, b in _runs(over):
        run = values[a : b + 1]
        extreme = run.max() if describe.worst_is_max else run.min()
        # Among equally bad windows, name the one that lines up best with the judged range.
        candidates = a + np.flatnonzero(run == extreme)
        worst = int(candidates[np.argmin(np.abs(starts[candidates] - scope.first))])
        window_start, window_end = scope.window_label(int(starts[worst]))
        message = describe.sentence(timeline.person.id, values[worst], window_start, window_end)
        found.append(
            rule_.violation(
                message,
                person_id=timeline.person.id,
                window_start=window_start,
                window_end=window_end,
                date=window_start,
                measured=describe.measured(values[worst]),
                limit=describe.limit,
            )
        )
    return found


@dataclass(frozen=True)
class _HoursSentence:
    limit: float
    worst_is_max: bool = True

    def measured(self, value: _Number) -> float:
        return _hours(value)

    def sentence(self, person: str, value: _Number, first: date, last: date) -> str:
        return f"{person} worked {_hours(value):.1f} h in the 28 days {first}..{last}; limit {self.limit:.1f} h"


def _rule(rule_id: str) -> Rule:
    return RULES[rule_id]


# ---------------------------------------------------------------------------- duty hours


@rule(
    "acgme.hours.max_80_per_week",
    tier=Tier.REGULATORY,
    cites="ACGME CPR VI.F.1 (2023) / 6.20 (2025): 80 h per week averaged over four weeks",
    title="At most 80 hours per week over every 28-day window",
    applies_to=AppliesTo.RESIDENTS,
)
def max_80_hours(timeline: Timeline, scope: Scope) -> list[Violation]:
    starts = scope.window_starts()
    worked = _window_hours(timeline, scope, starts)
    limit = scope.params.max_hours_per_window
    over = worked > round(limit * HOUR)
    return _window_limit_violations(
        _rule("acgme.hours.max_80_per_week"), timeline, scope, worked, starts, over, _HoursSentence(limit)
    )


@rule(
    "acgme.hours.approaching_limit",
    tier=Tier.INSTITUTIONAL,
    cites="Institutional early warning below ACGME CPR VI.F.1 / 6.20",
    title="Average weekly hours above the warning threshold",
    applies_to=AppliesTo.RESIDENTS,
)
def approaching_hours_limit(timeline: Timeline, scope: Scope) -> list[Violation]:
    starts = scope.window_starts()
    worked = _window_hours(timeline, scope, starts)
    warning, limit = scope.params.warning_hours_per_window, scope.params.max_hours_per_window
    near = (worked > round(warning * HOUR)) & (worked <= round(limit * HOUR))
    return _window_limit_violations(
        _rule("acgme.hours.approaching_limit"), timeline, scope, worked, starts, near, _HoursSentence(warning)
    )


@rule(
    "institution.faculty_hours",
    tier=Tier.INSTITUTIONAL,
    cites="Institutional faculty workload limit (faculty are outside ACGME duty-hour rules)",
    title="Faculty weekly maximum over every 28-day window",
    applies_to=AppliesTo.FACULTY,
)
def faculty_hours(timeline: Timeline, scope: Scope) -> list[Violation]:
    starts = scope.window_starts()
    worked = _window_hours(timeline, scope, starts)
    limit = scope.params.faculty_max_hours_per_window
    over = worked > round(limit * HOUR)
    return _window_limit_violations(
        _rule("institution.faculty_hours"), timeline, scope, worked, starts, over, _HoursSentence(limit)
    )


# ---------------------------------------------------------------------------- days off


@dataclass(frozen=True)
class _FreeDaysSentence:
    limit: float
    worst_is_max: bool = False

    def measured(self, value: _Number) -> float:
        return float(value)

    def sentence(self, person: str, value: _Number, first: date, last: date) -> str:
        return (
            f"{person} had {int(value)} free days in the 28 days {first}..{last}; at least {int(self.limit)} required"
        )


@rule(
    "acgme.days_off.one_in_seven",
    tier=Tier.REGULATORY,
    cites="ACGME CPR VI.F.2.c (2023) / 6.21.b (2025): one day in seven free, averaged over four weeks",
    title="At least 4 duty-free calendar days in every 28-day window",
    applies_to=AppliesTo.RESIDENTS,
)
def one_day_in_seven(timeline: Timeline, scope: Scope) -> list[Violation]:
    free = ~Periods.of(timeline).touched_days(scope.grid)
    starts = scope.window_starts()
    free_days = _window_sums(free.astype(np.int64), starts, scope.window)
    needed = scope.params.min_free_days_per_window
    return _window_limit_violations(
        _rule("acgme.days_off.one_in_seven"),
        timeline,
        scope,
        free_days,
        starts,
        free_days < needed,
        _FreeDaysSentence(needed),
    )


@rule(
    "acgme.days_off.seven_consecutive",
    tier=Tier.REGULATORY,
    cites="ACGME CPR VI.F.2.c (2023) / 6.21.b (2025), program option strict_one_in_seven",
    title="No 7 consecutive duty days (only with strict_one_in_seven)",
    applies_to=AppliesTo.RESIDENTS,
)
def seven_consecutive_days(timeline: Timeline, scope: Scope) -> list[Violation]:
    if not scope.params.strict_one_in_seven:
        return []
    limit = scope.params.max_consecutive_duty_days
    found = []
    for a, b in _runs(Periods.of(timeline).touched_days(scope.grid)):
        length = b - a + 1
        if length > limit and a <= scope.last and b >= scope.first:
            first, last = scope.grid.day(a), scope.grid.day(b)
            found.append(
                _rule("acgme.days_off.seven_consecutive").violation(
                    f"{timeline.person.id} was on duty {length} consecutive days {first}..{last}; at most {limit}",
                    person_id=timeline.person.id,
                    date=first,
                    window_start=first,
                    window_end=last,
                    measured=float(length),
                    limit=float(limit),
                )
            )
    return found


# ---------------------------------------------------------------------------- continuous duty and rest


def _periods_in_scope(periods: Periods, scope: Scope) -> Flags:
    """Periods that touch a judged day."""
    grid = scope.grid
    return (grid.day_of(periods.starts) <= scope.last) & (grid.day_of(periods.ends - 1) >= scope.first)


def _moment(scope: Scope, seconds: SupportsInt) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(int(seconds), tz=UTC).astimezone(scope.program.zone).strftime("%Y-%m-%d %H:%M")


@rule(
    "acgme.duty.max_continuous",
    tier=Tier.REGULATORY,
    cites="ACGME CPR VI.F.3.a (2023) / 6.22 (2025): at most 24 h of continuous scheduled clinical assignments; "
    "the 4 h of VI.F.3.a.(1) / 6.22.a are for transitions and may not be scheduled",
    title="Scheduled continuous duty at most 24 hours",
    applies_to=AppliesTo.RESIDENTS,
)
def max_continuous_duty(timeline: Timeline, scope: Scope) -> list[Violation]:
    periods = Periods.of(timeline)
    limit = scope.params.max_continuous_duty_hours
    too_long = (periods.lengths > round(limit * HOUR)) & _periods_in_scope(periods, scope)
    return [
        _rule("acgme.duty.max_continuous").violation(
            f"{timeline.person.id} is scheduled {_hours(periods.lengths[i]):.1f} h continuously from "
            f"{_moment(scope, periods.starts[i])} to {_moment(scope, periods.ends[i])}; limit {limit:.1f} h",
            person_id=timeline.person.id,
            date=scope.grid.day(scope.grid.day_of(periods.starts[i : i + 1])[0]),
            measured=_hours(periods.lengths[i]),
            limit=float(limit),
        )
        for i in np.flatnonzero(too_long)
    ]


def _short_rests(periods: Periods, scope: Scope, *, after_long: bool) -> list[tuple[int, int]]:
    """(period, gap seconds) where the rest after ``period`` is shorter than its rule allows."""
    if len(periods.starts) < 2:
        return []
    gaps = periods.starts[1:] - periods.ends[:-1]
    long_duty = periods.lengths[:-1] >= round(scope.params.long_duty_threshold_hours * HOUR)
    if after_long:
        short = long_duty & (gaps < round(scope.params.min_rest_after_long_duty_hours * HOUR))
    else:
        short = ~long_duty & (gaps < round(scope.params.min_rest_between_duties_hours * HOUR))
    in_scope = _periods_in_scope(periods, scope)
    touched = in_scope[:-1] | in_scope[1:]
    return [(int(i), int(gaps[i])) for i in np.flatnonzero(short & touched)]


@rule(
    "acgme.rest.after_24h",
    tier=Tier.REGULATORY,
    cites="ACGME CPR VI.F.2.b (2023) / 6.21.a (2025): at least 14 h free after 24 h of in-house call",
    title="At least 14 hours free after a duty period of 24 hours or more",
    applies_to=AppliesTo.RESIDENTS,
)
def rest_after_long_duty(timeline: Timeline, scope: Scope) -> list[Violation]:
    needed = scope.params.min_rest_after_long_duty_hours
    return _rest_violations(
        "acgme.rest.after_24h",
        timeline,
        scope,
        needed,
        lambda periods, i, gap: (
            f"{timeline.person.id} had {_hours(gap):.1f} h off after {_hours(periods.lengths[i]):.1f} h "
            f"on duty ending {_moment(scope, periods.ends[i])}; at least {needed:.1f} h required"
        ),
    )


def _rest_violations(
    rule_id: str, timeline: Timeline, scope: Scope, needed: float, sentence: Callable[[Periods, int, int], str]
) -> list[Violation]:
    periods = Periods.of(timeline)
    return [
        _rule(rule_id).violation(
            sentence(periods, i, gap),
            person_id=timeline.person.id,
            date=scope.grid.day(scope.grid.day_of(periods.starts[i + 1 : i + 2])[0]),
            measured=_hours(gap),
            limit=float(needed),
        )
        for i, gap in _short_rests(periods, scope, after_long=rule_id == "acgme.rest.after_24h")
    ]


@rule(
    "acgme.rest.between_duties",
    tier=Tier.INSTITUTIONAL,
    cites="ACGME CPR VI.F.2.a (2023) / 6.21 (2025), a Detail requirement: 8 h off between duty periods",
    title="At least 8 hours off between duty periods",
    applies_to=AppliesTo.RESIDENTS,
)
def rest_between_duties(timeline: Timeline, scope: Scope) -> list[Violation]:
    needed = scope.params.min_rest_between_duties_hours
    return _rest_violations(
        "acgme.rest.between_duties",
        timeline,
        scope,
        needed,
        lambda periods, i, gap: (
            f"{timeline.person.id} had {_hours(gap):.1f} h off before duty at "
            f"{_moment(scope, periods.starts[i + 1])}; {needed:.1f} h expected"
        ),
    )


# ---------------------------------------------------------------------------- call


@dataclass(frozen=True)
class _CallsSentence:
    limit: float
    worst_is_max: bool = True

    def measured(self, value: _Number) -> float:
        return float(value)

    def sentence(self, person: str, value: _Number, first: date, last: date) -> str:
        return f"{person} took {int(value)} in-house calls in the 28 days {first}..{last}; at most {int(self.limit)}"


def _call_days(timeline: Timeline, grid: DayGrid) -> Ints:
    per_day = np.zeros(grid.size, dtype=np.int64)
    np.add.at(per_day, timeline.days[timeline.in_house_call], 1)
    return per_day


@rule(
    "acgme.call.every_third_night",
    tier=Tier.REGULATORY,
    cites="ACGME CPR VI.F.7 (2023) / 6.27 (2025): in-house call no more often than every third night, averaged",
    title="At most 9 in-house calls in every 28-day window",
    applies_to=AppliesTo.RESIDENTS,
)
def every_third_night(timeline: Timeline, scope: Scope) -> list[Violation]:
    starts = scope.window_starts()
    calls = _window_sums(_call_days(timeline, scope.grid), starts, scope.window)
    limit = scope.params.max_calls_per_window
    return _window_limit_violations(
        _rule("acgme.call.every_third_night"), timeline, scope, calls, starts, calls > limit, _CallsSentence(limit)
    )


@rule(
    "acgme.call.consecutive_nights",
    tier=Tier.REGULATORY,
    cites="ACGME CPR VI.F.7 (2023) / 6.27 (2025): in-house call no more often than every third night",
    title="No in-house call on consecutive nights",
    applies_to=AppliesTo.RESIDENTS,
)
def consecutive_calls(timeline: Timeline, scope: Scope) -> list[Violation]:
    if not scope.params.forbid_consecutive_calls:
        return []
    on_call = _call_days(timeline, scope.grid) > 0
    second_nights = np.flatnonzero(on_call[1:] & on_call[:-1]) + 1
    return [
        _rule("acgme.call.consecutive_nights").violation(
            f"{timeline.person.id} is on in-house call on consecutive nights {scope.grid.day(d - 1)} and {scope.grid.day(d)}",
            person_id=timeline.person.id,
            date=scope.grid.day(d),
            measured=2.0,
            limit=1.0,
        )
        for d in second_nights
        if scope.first <= d <= scope.last + 1 and d - 1 <= scope.last
    ]


# ---------------------------------------------------------------------------- who may work where


def _in_scope_rows(timeline: Timeline, scope: Scope) -> Flags:
    return (timeline.days >= scope.first) & (timeline.days <= scope.last)


def _assignment_violation(rule_id: str, timeline: Timeline, scope: Scope, i: SupportsIndex, message: str) -> Violation:
    rotation = scope.program.rotations[timeline.rotations[i]]
    return _rule(rule_id).violation(
        message,
        person_id=timeline.person.id,
        rotation_id=rotation.id,
        date=scope.grid.day(timeline.days[i]),
        slot=scope.tables.shifts[timeline.slots[i]],
    )


def _describe(timeline: Timeline, scope: Scope, i: SupportsIndex) -> str:
    rotation = scope.program.rotations[timeline.rotations[i]]
    return f"{timeline.person.id} on {rotation.id} {scope.grid.day(timeline.days[i])} {scope.tables.shifts[timeline.slots[i]]}"


@rule(
    "acgme.moonlighting.pgy1",
    tier=Tier.REGULATORY,
    cites="ACGME CPR VI.F.5.c (2023) / 6.25.b (2025): PGY-1 residents are not permitted to moonlight",
    title="No moonlighting for PGY-1 residents",
    applies_to=AppliesTo.RESIDENTS,
)
def pgy1_moonlighting(timeline: Timeline, scope: Scope) -> list[Violation]:
    if timeline.person.pgy != 1:
        return []
    rows = np.flatnonzero(_in_scope_rows(timeline, scope) & scope.tables.moonlighting[timeline.rotations])
    return [
        _assignment_violation(
            "acgme.moonlighting.pgy1", timeline, scope, i, f"{_describe(timeline, scope, i)}: PGY-1 may not moonlight"
        )
        for i in rows
    ]


@rule(
    "schedule.double_booked",
    tier=Tier.REGULATORY,
    cites="Program rule: one assignment per person per slot (no overlapping duties)",
    title="No overlapping duties for one person",
    applies_to=AppliesTo.EVERYONE,
)
def double_booked(timeline: Timeline, scope: Scope) -> list[Violation]:
    if len(timeline.starts) < 2:
        return []
    running_end = np.maximum.accumulate(timeline.ends)
    overlapping = np.zeros(len(timeline.starts), dtype=bool)
    overlapping[1:] = timeline.starts[1:] < running_end[:-1]
    rows = np.flatnonzero(overlapping & _in_scope_rows(timeline, scope))
    return [
        _assignment_violation(
            "schedule.double_booked",
            timeline,
            scope,
            i,
            f"{_describe(timeline, scope, i)} overlaps another duty of theirs",
        )
        for i in rows
    ]


@rule(
    "schedule.absence",
    tier=Tier.REGULATORY,
    cites="Program rule: no assignment during an absence",
    title="No assignment during an absence",
    applies_to=AppliesTo.EVERYONE,
)
def during_absence(timeline: Timeline, scope: Scope) -> list[Violation]:
    found = []
    in_scope = _in_scope_rows(timeline, scope)
    for absence in scope.program.absences:
        if absence.person_id != timeline.person.id:
            continue
        first, last = scope.grid.index(absence.start), scope.grid.index(absence.end)
        for i in np.flatnonzero(in_scope & (timeline.days >= first) & (timeline.days <= last)):
            found.append(
                _assignment_violation(
                    "schedule.absence",
                    timeline,
                    scope,
                    i,
                    f"{_describe(timeline, scope, i)} during an absence ({absence.kind} {absence.start}..{absence.end})",
                )
            )
    return found


@rule(
    "schedule.credentials",
    tier=Tier.REGULATORY,
    cites="Program rule: a person on a rotation holds its credentials, unexpired that day",
    title="Required credentials held and unexpired",
    applies_to=AppliesTo.EVERYONE,
)
def credentials(timeline: Timeline, scope: Scope) -> list[Violation]:
    valid_until = scope.tables.valid_until[timeline.index, timeline.rotations]
    found = []
    for i in np.flatnonzero(_in_scope_rows(timeline, scope) & (timeline.days > valid_until)):
        rotation = scope.program.rotations[timeline.rotations[i]]
        missing = timeline.person.missing_credentials(rotation.credentials, scope.grid.day(timeline.days[i]))
        found.append(
            _assignment_violation(
                "schedule.credentials",
                timeline,
                scope,
                i,
                f"{_describe(timeline, scope, i)} without {', '.join(missing)}",
            )
        )
    return found


@rule(
    "schedule.eligibility",
    tier=Tier.REGULATORY,
    cites="Program rule: the rotation admits the person's role and PGY level",
    title="Role and PGY eligibility",
    applies_to=AppliesTo.EVERYONE,
)
def eligibility(timeline: Timeline, scope: Scope) -> list[Violation]:
    tables = scope.tables
    accepts = tables.accepts[timeline.index, timeline.rotations]
    weekdays = scope.grid.weekday(timeline.days)
    on_shift = tables.cell_takes[timeline.rotations, weekdays, timeline.slots, tables.level[timeline.index]]
    in_scope = _in_scope_rows(timeline, scope)
    person = timeline.person
    level = f"PGY-{person.pgy}" if person.is_resident else "faculty"
    found = [
        _assignment_violation(
            "schedule.eligibility",
            timeline,
            scope,
            i,
            f"{_describe(timeline, scope, i)}: the rotation does not take {level}",
        )
        for i in np.flatnonzero(in_scope & ~accepts)
    ]
    # A v2 service may take a PGY level on some shifts only (its coverage groups per shift).
    found += [
        _assignment_violation(
            "schedule.eligibility",
            timeline,
            scope,
            i,
            f"{_describe(timeline, scope, i)}: the service does not take {level} on this shift",
        )
        for i in np.flatnonzero(in_scope & accepts & ~on_shift)
    ]
    return found


@rule(
    "schedule.rotation_calendar",
    tier=Tier.INSTITUTIONAL,
    cites="Program rule: a rotation is staffed only on its days and slots",
    title="Assignment on a day or slot the rotation does not run",
    applies_to=AppliesTo.EVERYONE,
)
def rotation_calendar(timeline: Timeline, scope: Scope) -> list[Violation]:
    weekdays = scope.grid.weekday(timeline.days)
    staffed = scope.tables.runs[timeline.rotations, weekdays, timeline.slots]
    return [
        _assignment_violation(
            "schedule.rotation_calendar",
            timeline,
            scope,
            i,
            f"{_describe(timeline, scope, i)}: {scope.program.rotations[timeline.rotations[i]].id} does not run then",
        )
        for i in np.flatnonzero(_in_scope_rows(timeline, scope) & ~staffed)
    ]


def check_person(timeline: Timeline, scope: Scope, rules: list[Rule]) -> list[Violation]:
    found: list[Violation] = []
    for rule_ in rules:
        if applies(rule_, timeline):
            found += rule_.check(timeline, scope)
    return found


# ---------------------------------------------------------------------------- schedule-wide rules


def faculty_needed(params: RuleParams, pgy1: Ints, seniors: Ints) -> Ints:
    """``RuleParams.faculty_needed`` for whole arrays: one ceiling, in integers."""
    per_pgy1, per_senior = params.pgy1_per_faculty, params.senior_residents_per_faculty
    denominator = per_pgy1 * per_senior
    needed: Ints = (pgy1 * per_senior + seniors * per_pgy1 + denominator - 1) // denominator
    return needed


@rule(
    "program.supervision",
    tier=Tier.REGULATORY,
    cites="Program supervision ratio under ACGME CPR VI.A.2 (supervision): 1 faculty per 2 PGY-1, per 4 seniors",
    title="Faculty on every supervised slot >= ceil((2*PGY1 + others) / 4)",
    applies_to=None,
)
def supervision(view: ScheduleView, params: RuleParams) -> list[Violation]:
    counts = view.staffing
    pgy1, seniors, faculty = counts[..., PGY1], counts[..., SENIOR], counts[..., FACULTY]
    needed = faculty_needed(params, pgy1, seniors)
    supervised = np.array([r.supervised for r in view.rotations], dtype=bool)[:, None, None]
    found = []
    for rotation_index, day, slot in np.argwhere(supervised & (faculty < needed)):
        rotation, when, shift = view.rotations[rotation_index], view.grid.day(day), view.shift_ids[slot]
        have, want = int(faculty[rotation_index, day, slot]), int(needed[rotation_index, day, slot])
        found.append(
            RULES["program.supervision"].violation(
                f"{rotation.id} {when} {shift}: {have} faculty for {int(pgy1[rotation_index, day, slot])} "
                f"PGY-1 and {int(seniors[rotation_index, day, slot])} senior residents; at least {want} required",
                rotation_id=rotation.id,
                date=when,
                slot=shift,
                measured=float(have),
                limit=float(want),
            )
        )
    return found


@rule(
    "staffing.above_max",
    tier=Tier.INSTITUTIONAL,
    cites="Program rule: staffing maximum per rotation slot",
    title="More people on a slot than the rotation's maximum",
    applies_to=None,
)
def above_max(view: ScheduleView, params: RuleParams) -> list[Violation]:
    keyed = []
    weekdays = view.range_weekdays
    for rotation_index, rotation in enumerate(view.rotations):
        for table in view.tables.group_tables[rotation_index]:
            assigned = view.range_group_counts(rotation_index, table)  # [range day, slot]
            over = table.present[weekdays] & (assigned > table.maximum[weekdays])
            for at, slot in np.argwhere(over):
                when, count, maximum = (
                    view.grid.day(view.range_first + at),
                    int(assigned[at, slot]),
                    int(table.maximum[weekdays[at], slot]),
                )
                shift = view.shift_ids[slot]
                violation = RULES["staffing.above_max"].violation(
                    f"{rotation.id} {when} {shift}: {count} {table.group.label()}; at most {maximum}",
                    rotation_id=rotation.id,
                    date=when,
                    slot=shift,
                    measured=float(count),
                    limit=float(maximum),
                )
                # By day, service and shift; in a cell, its resident groups before its faculty.
                keyed.append(((when, rotation.id, int(slot), int(table.position[weekdays[at], slot])), violation))
    keyed.sort(key=lambda item: item[0])
    return [violation for _, violation in keyed]


def call_counts(view: ScheduleView) -> dict[str, int]:
    """In-house calls in the range per call-eligible resident (zero included)."""
    eligible = [p for p in view.people if view.program.call_eligible(p, view.start, view.end)]
    counts = {p.id: 0 for p in eligible}
    for row in np.flatnonzero(view.in_range & view.in_house_call & (view.person >= 0)):
        person_id = view.people[view.person[row]].id
        if person_id in counts:
            counts[person_id] += 1
    return counts


def weekend_counts(view: ScheduleView) -> dict[str, int]:
    """Weekend days (Saturday, Sunday) with any duty in the range, per resident."""
    counts = {p.id: 0 for p in view.people if p.is_resident}
    on_weekend = np.isin(view.grid.weekday(view.day), WEEKEND) & view.in_range & (view.person >= 0)
    for person, _day in {(int(p), int(d)) for p, d in zip(view.person[on_weekend], view.day[on_weekend], strict=True)}:
        person_id = view.people[person].id
        if person_id in counts:
            counts[person_id] += 1
    return counts


def _fairness_groups(view: ScheduleView, counts: dict[str, int]) -> list[tuple[str, dict[str, int]]]:
    """Who is compared with whom: everyone in a v1 program; in a plan program, the residents on
    the same rotation at the range's start (an ICU resident's calls are not a ward resident's)."""
    groups: dict[str, dict[str, int]] = {}
    for person_id, count in counts.items():
        peers = view.program.fairness_peers(person_id, view.start, view.end)
        if peers is not None:
            groups.setdefault(peers, {})[person_id] = count
    return sorted(groups.items())


def _spread_violation(
    rule_id: str, counts: dict[str, int], limit: int, what: str, view: ScheduleView | None = None
) -> list[Violation]:
    found = []
    for rotation, group in _fairness_groups(view, counts) if view is not None else [("", counts)]:
        if len(group) < 2:
            continue
        most, least = max(group, key=group.__getitem__), min(group, key=group.__getitem__)
        spread = group[most] - group[least]
        if spread <= limit:
            continue
        among = f" on {rotation}" if rotation else ""
        found.append(
            RULES[rule_id].violation(
                f"{what}{among} range from {group[least]} ({least}) to {group[most]} ({most}); "
                f"spread {spread}, at most {limit}",
                measured=float(spread),
                limit=float(limit),
            )
        )
    return found


@rule(
    "fairness.call_spread",
    tier=Tier.INSTITUTIONAL,
    cites="Institutional fairness bound",
    title="Calls spread evenly among call-eligible residents",
    applies_to=None,
)
def call_spread(view: ScheduleView, params: RuleParams) -> list[Violation]:
    return _spread_violation("fairness.call_spread", call_counts(view), params.max_call_spread, "In-house calls", view)


@rule(
    "fairness.weekend_spread",
    tier=Tier.INSTITUTIONAL,
    cites="Institutional fairness bound",
    title="Weekend duty spread evenly among residents",
    applies_to=None,
)
def weekend_spread(view: ScheduleView, params: RuleParams) -> list[Violation]:
    return _spread_violation(
        "fairness.weekend_spread", weekend_counts(view), params.max_weekend_spread, "Weekend duty days", view
    )


@rule(
    "schedule.unknown_reference",
    tier=Tier.REGULATORY,
    cites="Data integrity: every assignment names a known person, service (rotation) and shift",
    title="Assignment of an unknown person, rotation or shift",
    applies_to=None,
)
def unknown_reference(view: ScheduleView, params: RuleParams) -> list[Violation]:
    found = []
    for row in view.unknown:
        assignment = view.assignments[row]
        if view.start <= assignment.date <= view.end:
            unknown = "unknown person or rotation" if assignment.slot in view.shift_index else "unknown shift"
            found.append(
                RULES["schedule.unknown_reference"].violation(
                    f"{assignment.person_id} on {assignment.rotation_id} {assignment.date} {assignment.slot}: {unknown}",
                    person_id=assignment.person_id,
                    rotation_id=assignment.rotation_id,
                    date=assignment.date,
                    slot=assignment.slot,
                )
            )
    return found
