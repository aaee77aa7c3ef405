"""Duty-pattern constraints of plan mode: one builder per part of a rotation's pattern.

A resident on a block rotation works what its pattern says (docs/model.md, "Rotations and
duty patterns"). Each plan row that reaches into the solve range is a :class:`PlanSpan`: the
row clipped to the range's end (and to the model's horizon at its start); duties before the
range are history and count as fixed. The builders read the same ``expected_count`` /
``allowed_count`` the compliance engine's ``fill_rate`` reads.

Hard: ``pattern.max_per_block``, ``pattern.runs``, ``pattern.every``,
``pattern.days_off_per_week``. Soft: ``fill`` (work short of a row's expected count), ``clinic``
and ``didactics`` (a weekly clinic or an academic half day missed). The protected clinic and
didactics half days themselves are kept by the candidate duties (model.py): nothing else that
overlaps them is ever a variable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from ortools.sat.python import cp_model

from rotaguard.domain import RuleParams
from rotaguard.domain.plan import BlockRotation, PatternDuty, PlanEntry, allowed_count, expected_count

if TYPE_CHECKING:
    from rotaguard.solver.model import Duty, ScheduleModel
    from rotaguard.solver.problem import ScheduleProblem

DutyLiteral = cp_model.IntVar | int


@dataclass
class PlanSpan:
    """One plan row of one resident, as far as this solve sees it (horizon day indexes)."""

    person: int
    row: PlanEntry
    rotation: BlockRotation
    first: int  # the row's first day, or the horizon's
    last: int  # the row's last day, or the range's last
    absent: frozenset[int]
    block_days: int
    duties: dict[tuple[str, str], dict[int, Duty]] = field(default_factory=dict)
    # Whether the row's work may go on past an edge this solve does not see: the row starts
    # before the horizon, ends after the range, or the person's neighbouring row is the same
    # rotation. A run at a closed edge is judged (the day beyond it is another rotation's).
    open_start: bool = True
    open_end: bool = True

    @property
    def present_days(self) -> int:
        return sum(1 for day in range(self.first, self.last + 1) if day not in self.absent)

    def label(self, model: ScheduleModel, what: str = "") -> str:
        who = model.people[self.person].id
        suffix = f" {what}" if what else ""
        return f"{who} {self.rotation.id} {self.row.start}..{self.row.end}{suffix}"

    def literal(self, duty: PatternDuty, day: int) -> DutyLiteral:
        """1, 0 or the literal of the person working ``duty`` on ``day``."""
        found = self.duties.get((duty.service, duty.shift), {}).get(day)
        return 0 if found is None else found.lit

    def cut(self, day: int) -> bool:
        """Whether ``day`` ends a run without judging it: outside the row as seen, or absent."""
        return (day < self.first and self.open_start) or (day > self.last and self.open_end) or day in self.absent


def plan_spans(model: ScheduleModel) -> list[PlanSpan]:
    """Every resident's plan rows that reach into the solve range, with their pattern duties."""
    if model.spans is not None:
        return model.spans
    program, problem = model.program, model.problem
    spans: list[PlanSpan] = []
    if program.has_plan_model:
        for person_index, person in enumerate(model.people):
            if not person.is_resident:
                continue
            for row in program.plan_by_person.get(person.id, ()):
                rotation = program.block_rotations_by_id.get(row.rotation_id)
                if rotation is None or row.end < problem.start or row.start > problem.end:
                    continue
                first = model.index(max(row.start, model.first_day))
                last = model.index(min(row.end, problem.end))
                absent = frozenset(
                    model.index(day)
                    for day in _days(model.date_of(first), model.date_of(last))
                    if program.absent(person.id, day) is not None
                )
                block_start, block_end = program.block_dates(row.start)
                rows = program.plan_by_person.get(person.id, ())
                same_before = any(
                    r.end == row.start - timedelta(days=1) and r.rotation_id == row.rotation_id for r in rows
                )
                same_after = any(
                    r.start == row.end + timedelta(days=1) and r.rotation_id == row.rotation_id for r in rows
                )
                span = PlanSpan(
                    person_index,
                    row,
                    rotation,
                    first,
                    last,
                    absent,
                    (block_end - block_start).days + 1,
                    open_start=row.start < model.first_day or same_before,
                    open_end=row.end > problem.end or same_after,
                )
                wanted = {(d.service, d.shift) for d in rotation.pattern.duties}
                for duty in model.by_person.get(person_index, []):
                    key = (model.rotations[duty.rotation].id, model.shift_ids[duty.slot])
                    if key in wanted and first <= duty.day <= last:
                        span.duties.setdefault(key, {})[duty.day] = duty
                spans.append(span)
    model.spans = spans
    return spans


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def _reaches_range(model: ScheduleModel, first: int, last: int) -> bool:
    """Constraints only on stretches that hold a day of the range: history is not judged here."""
    return last >= model.range_first and first <= model.range_last


def _terms(span: PlanSpan, duty: PatternDuty, days: range) -> list[tuple[int, Duty]]:
    found = span.duties.get((duty.service, duty.shift), {})
    return [(1, found[day]) for day in days if day in found]


def _at_most(model: ScheduleModel, terms: list[tuple[int, Duty]], bound: int, rule_id: str, subject: str) -> None:
    """``model.at_most``, but history that already exceeds the bound only forbids adding more: a
    solve cannot undo the past, and refusing to schedule at all would help no one. Locked duties
    inside the range are judged in full."""
    history = sum(1 for _, duty in terms if not duty.in_range)
    model.at_most(terms, max(bound, history), rule_id, subject)


# ====================================================================== hard rules


def add_pattern_max(model: ScheduleModel, problem: ScheduleProblem, params: RuleParams) -> None:
    """A pattern duty's count in a row stays within ``allowed_count(per_block.max, ...)``."""
    for span in plan_spans(model):
        for duty in span.rotation.pattern.duties:
            bound = allowed_count(duty.per_block.max, span.present_days, span.block_days)
            terms = _terms(span, duty, range(span.first, span.last + 1))
            _at_most(model, terms, bound, "pattern.max_per_block", span.label(model, f"{duty.service}/{duty.shift}"))


def add_pattern_runs(model: ScheduleModel, problem: ScheduleProblem, params: RuleParams) -> None:
    """Consecutive days of a pattern duty come in runs of ``runs.min``..``runs.max``; a run cut by
    an open edge of the row (see ``PlanSpan.open_start``) or by an absence is not judged."""
    for span in plan_spans(model):
        for duty in span.rotation.pattern.duties:
            if duty.runs is None:
                continue
            subject = span.label(model, f"{duty.service}/{duty.shift}")
            longest = duty.runs.max
            for begin in range(span.first, span.last - longest + 1):
                days = range(begin, begin + longest + 1)
                if _reaches_range(model, days[0], days[-1]):
                    _at_most(model, _terms(span, duty, days), longest, "pattern.runs", subject)
            for begin in range(span.first + (1 if span.open_start else 0), span.last + 1):
                for length in range(1, duty.runs.min):
                    after = begin + length
                    if span.cut(begin - 1) or span.cut(after) or not _reaches_range(model, begin - 1, after):
                        continue
                    # Not (free before, worked begin..after-1, free after): a run too short.
                    _forbid_run(model, span, duty, begin, after, subject)


def _forbid_run(model: ScheduleModel, span: PlanSpan, duty: PatternDuty, begin: int, after: int, subject: str) -> None:
    clause: list[cp_model.LiteralT] = []
    for day, worked in [(begin - 1, True), *((d, False) for d in range(begin, after)), (after, True)]:
        literal = span.literal(duty, day)
        if isinstance(literal, int):
            if bool(literal) == worked:
                return  # the clause already holds
            continue
        clause.append(literal if worked else literal.Not())
    if not clause and begin < model.range_first and after - 1 < model.range_first:
        return  # a short run wholly in history: not this solve's to judge
    model.require(model.model.add_bool_or(clause), "pattern.runs", subject)


def add_pattern_every(model: ScheduleModel, problem: ScheduleProblem, params: RuleParams) -> None:
    """At most one such duty in any ``every`` consecutive days of the row (q4 call)."""
    for span in plan_spans(model):
        for duty in span.rotation.pattern.duties:
            if duty.every is None:
                continue
            subject = span.label(model, f"{duty.service}/{duty.shift}")
            # Full windows inside the row, or the whole row when it is shorter than one.
            for begin in range(span.first, max(span.first, span.last - duty.every + 1) + 1):
                days = range(begin, min(begin + duty.every, span.last + 1))
                if len(days) > 1 and _reaches_range(model, days[0], days[-1]):
                    _at_most(model, _terms(span, duty, days), 1, "pattern.every", subject)


def add_pattern_days_off(model: ScheduleModel, problem: ScheduleProblem, params: RuleParams) -> None:
    """In each 7-day week of the row from its start, ``days_off_per_week`` calendar days no duty
    touches; a week cut short (by the row, the range or the horizon) needs that many prorated down."""
    flags = model.touched_flags()
    for span in plan_spans(model):
        wanted = span.rotation.pattern.days_off_per_week
        if not wanted:
            continue
        person_flags = flags.get(span.person, {})
        row_start = model.index(span.row.start)
        for week_start in range(row_start, span.last + 1, 7):
            days = range(max(week_start, span.first), min(week_start + 7, span.last + 1))
            if not days or not _reaches_range(model, days[0], days[-1]):
                continue
            free = wanted * len(days) // 7
            variable = [f for f in (person_flags.get(d) for d in days) if f is not None and not isinstance(f, int)]
            constant = sum(1 for d in days if isinstance(person_flags.get(d), int))
            history = sum(1 for d in days if d < model.range_first and isinstance(person_flags.get(d), int))
            subject = span.label(model, f"week of {model.date_of(week_start)}")
            allowed = max(len(days) - free, history)  # as in _at_most: history only forbids more
            model.at_most_literals(variable, constant, allowed, "pattern.days_off_per_week", subject)


# ====================================================================== soft goals


def add_pattern_fill(model: ScheduleModel, problem: ScheduleProblem, params: RuleParams) -> None:
    """Each pattern duty short of its row's ``expected_count(per_block.min, ...)`` costs ``fill``."""
    weight = problem.weights.fill
    for span in plan_spans(model):
        for duty in span.rotation.pattern.duties:
            expected = expected_count(duty.per_block.min, span.present_days, span.block_days)
            terms = _terms(span, duty, range(span.first, span.last + 1))
            fixed = sum(1 for _, d in terms if not d.is_variable)
            variable = [d.lit for _, d in terms if d.is_variable]
            if expected <= fixed or not variable:
                if expected > fixed:
                    model.penalize("fill", weight, expected - fixed)
                continue
            short = model.model.new_int_var(0, expected - fixed, f"fill_{span.person}_{span.first}_{duty.shift}")
            model.model.add_max_equality(short, [0, expected - fixed - sum(variable)])  # exact
            model.penalize("fill", weight, short)


def add_sessions(model: ScheduleModel, problem: ScheduleProblem, params: RuleParams) -> None:
    """Each weekly clinic (``clinic``) or academic half day (``didactics``) a resident's rotation
    keeps but the schedule misses costs its weight; days absent or outside the plan cost nothing."""
    weights = {"clinic": problem.weights.clinic, "didactics": problem.weights.didactics}
    for span in plan_spans(model):
        person = model.people[span.person]
        on_day = {
            (d.day, model.rotations[d.rotation].id, model.shift_ids[d.slot]): d for d in model.by_person[span.person]
        }
        for day in range(max(span.first, model.range_first), span.last + 1):
            if day in span.absent:
                continue
            for kind, service, shift in model.protected_sessions(person, model.date_of(day)):
                duty = on_day.get((day, service, shift))
                if duty is None:
                    continue  # never possible (a credential, a service that does not run it)
                if duty.is_variable:
                    model.penalize(kind, weights[kind], 1 - duty.lit)


@dataclass(frozen=True)
class PatternRule:
    id: str
    title: str
    builder: Callable[[ScheduleModel, ScheduleProblem, RuleParams], None]


PATTERN_RULES = (
    PatternRule("pattern.max_per_block", "a pattern duty's most per block", add_pattern_max),
    PatternRule("pattern.runs", "a pattern duty's run lengths", add_pattern_runs),
    PatternRule("pattern.every", "at most one such duty in every few days", add_pattern_every),
    PatternRule("pattern.days_off_per_week", "a rotation's days off per week", add_pattern_days_off),
)
PATTERN_GOALS = (
    PatternRule("fill", "a plan row's expected work", add_pattern_fill),
    PatternRule("sessions", "weekly clinic and didactics attended", add_sessions),
)
PATTERN_TITLES = {rule.id: rule.title for rule in PATTERN_RULES}

__all__ = ["PATTERN_GOALS", "PATTERN_RULES", "PATTERN_TITLES", "PatternRule", "PlanSpan", "plan_spans"]
