"""The CP-SAT model: variables only where a person may work, one builder per rule.

Every builder has the signature ``add_<rule>(model, problem, params)`` where ``model`` is
the ``ScheduleModel`` (the CP-SAT model plus the duties and their literals). Hard rules
are the Tier 1 rules of ``compliance`` (same ids, same ``RuleParams``); soft goals add
named, weighted penalties. Times are whole minutes, so touching shifts meet exactly.

A duty is (person, day, slot, service) where ``slot`` indexes ``program.shift_ids`` (v1: AM,
PM, CALL). Staffing comes from ``Rotation.coverage_on`` (per service, shift and weekday, one
minimum and maximum per PGY group). In plan mode (``program.has_plan_model``) a resident's
candidates come from their planned rotation (``_planned_candidates``) and the duty-pattern
builders of ``patterns.py`` join the tables below.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from ortools.sat.python import cp_model

from rotaguard.domain import Assignment, AssignmentSource, Person, Program, RotationKind, RuleParams, Schedule, Weekday
from rotaguard.domain.plan import RequestKind as PlanRequestKind
from rotaguard.domain.rotations import Coverage, Rotation, Staffing
from rotaguard.solver.counting import CountedShortfall, add_counted_bounds
from rotaguard.solver.patterns import PATTERN_GOALS, PATTERN_RULES, PATTERN_TITLES, PlanSpan
from rotaguard.solver.problem import Request, RequestKind, ScheduleProblem

WEEKEND = (Weekday.SAT, Weekday.SUN)

RULE_TITLES = {
    "acgme.hours.max_80_per_week": "80 hours per week averaged over 28 days",
    "institution.faculty_hours": "faculty weekly maximum",
    "acgme.days_off.one_in_seven": "4 free days in every 28",
    "acgme.days_off.seven_consecutive": "no 7 consecutive duty days",
    "acgme.duty.max_continuous": "at most 24 h of continuous duty",
    "acgme.rest.after_24h": "14 h off after 24 h on duty",
    "acgme.call.every_third_night": "at most 9 in-house calls in 28 days",
    "acgme.call.consecutive_nights": "no call on consecutive nights",
    "program.supervision": "faculty supervision ratio",
    "staffing.above_max": "staffing maximum",
    "schedule.double_booked": "one duty at a time",
    "lock": "locked assignment",
    **PATTERN_TITLES,
}


def _minutes(moment: datetime) -> int:
    return int(moment.timestamp()) // 60


@dataclass
class Duty:
    """One possible (or fixed) duty: person, day, slot, rotation, and when it runs."""

    person: int
    day: int
    slot: int
    rotation: int
    start: int
    end: int
    lit: cp_model.IntVar | int
    in_range: bool
    locked: bool = False

    @property
    def is_variable(self) -> bool:
        return not isinstance(self.lit, int)


@dataclass(frozen=True)
class ShortfallCell:
    """How many people a staffing group of one (service, day, shift) is short of its minimum."""

    rotation: int
    day: int
    slot: int
    minimum: int
    variable: cp_model.IntVar
    pgy: frozenset[int] | None  # the resident group's PGY levels; None for the faculty


@dataclass
class ScheduleModel:
    problem: ScheduleProblem
    explain: bool = False
    model: cp_model.CpModel = field(default_factory=cp_model.CpModel)
    duties: list[Duty] = field(default_factory=list)
    by_person: dict[int, list[Duty]] = field(default_factory=lambda: defaultdict(list))
    penalties: dict[str, list[tuple[int, cp_model.LinearExprT]]] = field(default_factory=lambda: defaultdict(list))
    assumptions: dict[int, tuple[str, str]] = field(default_factory=dict)
    touched: dict[int, dict[int, cp_model.IntVar | int]] | None = None
    spans: list[PlanSpan] | None = None
    # Each staffing group's shortfall below its minimum (``add_min_staffing``), and what counting
    # proves about them (``counting.add_counted_bounds``).
    shortfall_cells: list[ShortfallCell] = field(default_factory=list)
    counted_shortfalls: list[CountedShortfall] = field(default_factory=list)
    # The warm start is partial (it breaks a hard rule): the first search repairs it.
    repair: bool = False
    _assumption_literals: dict[tuple[str, str], cp_model.IntVar] = field(default_factory=dict)

    def __post_init__(self) -> None:
        program = self.problem.program
        self.program: Program = program
        self.params: RuleParams = program.rules
        window = self.params.averaging_window_days
        self.first_day = self.problem.start - timedelta(days=window)
        self.last_day = self.problem.end + timedelta(days=window)
        self.days = (self.last_day - self.first_day).days + 1
        zone = program.zone
        self.midnights = [
            _minutes(datetime.combine(self.first_day + timedelta(days=i), time(0), tzinfo=zone))
            for i in range(self.days + 1)
        ]
        self.range_first = self.index(self.problem.start)
        self.range_last = self.index(self.problem.end)
        self.people = program.people
        self.person_index = {p.id: i for i, p in enumerate(self.people)}
        self.rotations = program.rotations
        self.rotation_index = {r.id: i for i, r in enumerate(self.rotations)}
        # A duty's slot is the index of its shift type here (v1: AM, PM, CALL).
        self.shift_ids: tuple[str, ...] = program.shift_ids
        self.slot_index = {shift: i for i, shift in enumerate(self.shift_ids)}
        self._create_duties()

    # ------------------------------------------------------------------ time

    def index(self, day: date) -> int:
        return (day - self.first_day).days

    def date_of(self, index: int) -> date:
        return self.first_day + timedelta(days=index)

    def day_of_minute(self, minute: int) -> int:
        """The horizon day an instant falls in (days outside the horizon clip to its edges)."""
        low, high = 0, self.days
        while low < high:
            middle = (low + high) // 2
            if self.midnights[middle + 1] <= minute:
                low = middle + 1
            else:
                high = middle
        return min(low, self.days - 1)

    def touched_days(self, duty: Duty) -> range:
        return range(self.day_of_minute(duty.start), self.day_of_minute(duty.end - 1) + 1)

    def window_starts(self) -> range:
        window = self.params.averaging_window_days
        return range(max(0, self.range_first - window + 1), self.range_last + 1)

    # ------------------------------------------------------------------ duties

    def _bounds(self, day: date, slot: str, rotation_id: str) -> tuple[int, int]:
        start, end = self.program.interval_bounds(day, slot, self.program.hours_for(rotation_id, slot))
        return _minutes(start), _minutes(end)

    def _create_duties(self) -> None:
        problem, program = self.problem, self.program
        taken: set[tuple[int, int, int]] = set()
        for assignment in problem.existing.assignments:
            fixed_person = self.person_index.get(assignment.person_id)
            fixed_rotation = self.rotation_index.get(assignment.rotation_id)
            fixed_slot = self.slot_index.get(assignment.slot)
            in_range = problem.start <= assignment.date <= problem.end
            inside_horizon = self.first_day - timedelta(days=1) <= assignment.date <= self.last_day
            if (
                fixed_person is None
                or fixed_rotation is None
                or fixed_slot is None
                or not inside_horizon
                or (in_range and not assignment.locked)
            ):
                continue
            start, end = self._bounds(assignment.date, assignment.slot, assignment.rotation_id)
            fixed_day = self.index(assignment.date)
            lit: cp_model.IntVar | int = 1
            if in_range and self.explain:
                lit = self.model.new_bool_var(f"locked_{assignment.person_id}_{assignment.date}_{fixed_slot}")
                label = f"{assignment.person_id} {assignment.date} {assignment.slot} on {assignment.rotation_id}"
                self.require(self.model.add(lit == 1), "lock", label)
            duty = Duty(fixed_person, fixed_day, fixed_slot, fixed_rotation, start, end, lit, in_range, locked=in_range)
            self._add_duty(duty)
            taken.add((fixed_person, fixed_day, fixed_slot))
        for person_index, person in enumerate(self.people):
            if not person.active:
                continue
            absent = {d for a in program.absences if a.person_id == person.id for d in _days(a.start, a.end)}
            for day in _days(problem.start, problem.end):
                if day in absent:
                    continue
                for rotation_index, slot_index in self._candidates(person, day):
                    if (person_index, self.index(day), slot_index) in taken:
                        continue
                    rotation, slot = self.rotations[rotation_index], self.shift_ids[slot_index]
                    start, end = self._bounds(day, slot, rotation.id)
                    lit = self.model.new_bool_var(f"x_{person.id}_{day}_{slot}_{rotation.id}")
                    self._add_duty(
                        Duty(person_index, self.index(day), slot_index, rotation_index, start, end, lit, True)
                    )

    def _may_staff(self, person: Person, rotation: Rotation, day: date, slot: str) -> bool:
        """Whether the service runs ``slot`` on ``day`` and takes this person then: a staffing group
        for their role (and PGY) with room, its credentials held that day, no PGY-1 moonlighting."""
        coverage = rotation.coverage_on(day, slot)
        if coverage is None or not _takes(coverage, person):
            return False
        if person.missing_credentials(rotation.credentials, day):
            return False
        return not (rotation.moonlighting and person.pgy == 1)

    def _candidates(self, person: Person, day: date) -> list[tuple[int, int]]:
        """(service, shift) index pairs the person may work on ``day``.

        v1 (and faculty without attending rows): every service that takes them. Plan mode: a
        resident only their planned rotation's pattern duties, their weekly clinic and the
        didactics; a faculty member with attending rows only their attending service's shifts.
        """
        program = self.program
        pool = [(r, s) for s in range(len(self.shift_ids)) for r in range(len(self.rotations))]
        if not person.is_resident:
            if program.attending:
                service = program.attending_service(person.id, day)
                pool = [(r, s) for r, s in pool if self.rotations[r].id == service]
            return [(r, s) for r, s in pool if self._may_staff(person, self.rotations[r], day, self.shift_ids[s])]
        if not program.has_plan_model:
            return [(r, s) for r, s in pool if self._may_staff(person, self.rotations[r], day, self.shift_ids[s])]
        return self._planned_candidates(person, day)

    def _planned_candidates(self, person: Person, day: date) -> list[tuple[int, int]]:
        program = self.program
        rotation = program.planned_rotation(person.id, day)
        if rotation is None:
            return []
        weekday = Weekday.of(day)
        protected = [(service, shift) for _, service, shift in self.protected_sessions(person, day)]
        pairs: list[tuple[str, str]] = []
        # The rotation's own credentials gate its pattern duties, not the clinic or the didactics.
        if not person.missing_credentials(rotation.credentials, day):
            pairs = [(duty.service, duty.shift) for duty in rotation.pattern.duties if weekday in duty.days]
        pairs += protected
        found: list[tuple[int, int]] = []
        for service_id, shift_id in dict.fromkeys(pairs):
            r, s = self.rotation_index.get(service_id), self.slot_index.get(shift_id)
            if r is None or s is None or not self._may_staff(person, self.rotations[r], day, shift_id):
                continue
            if (service_id, shift_id) not in protected and any(
                self._overlaps(day, shift_id, service_id, session) for session in protected
            ):
                continue  # the clinic and didactics half days are protected: nothing else then
            found.append((r, s))
        return found

    def protected_sessions(self, person: Person, day: date) -> list[tuple[str, str, str]]:
        """("clinic" or "didactics", service, shift) of the resident's weekly clinic and the
        didactics on ``day``, when their planned rotation keeps them (its ``clinic`` / ``didactics``)."""
        program = self.program
        rotation = program.planned_rotation(person.id, day)
        if rotation is None:
            return []
        weekday = Weekday.of(day)
        sessions: list[tuple[str, str, str]] = []
        if rotation.clinic and person.clinic and person.clinic.day is weekday and program.clinic_service:
            sessions.append(("clinic", program.clinic_service, person.clinic.shift))
        if rotation.didactics and program.didactics_service:
            service = program.didactics_service
            sessions += [("didactics", service, s.shift) for s in program.didactics if s.day is weekday]
        return sessions

    def _overlaps(self, day: date, shift_id: str, service_id: str, session: tuple[str, str]) -> bool:
        start, end = self._bounds(day, shift_id, service_id)
        session_start, session_end = self._bounds(day, session[1], session[0])
        return start < session_end and session_start < end

    def _add_duty(self, duty: Duty) -> None:
        self.duties.append(duty)
        self.by_person[duty.person].append(duty)

    def variables(self) -> list[Duty]:
        return [d for d in self.duties if d.is_variable and not d.locked]

    def is_in_house_call(self, duty: Duty) -> bool:
        return self.program.is_in_house_call(self.rotations[duty.rotation].id, self.shift_ids[duty.slot])

    # ------------------------------------------------------------------ constraints

    def require(self, constraint: cp_model.Constraint, rule_id: str, subject: str) -> None:
        """A hard rule; when explaining, switched by one assumption literal per rule and subject."""
        if not self.explain:
            return
        key = (rule_id, subject)
        literal = self._assumption_literals.get(key)
        if literal is None:
            literal = self._assumption_literals[key] = self.model.new_bool_var(f"assume_{rule_id}_{subject}")
            self.assumptions[literal.index] = key
        constraint.only_enforce_if(literal)

    def at_most(self, terms: list[tuple[int, Duty]], bound: int, rule_id: str, subject: str) -> None:
        """sum(coefficient * duty) <= bound, with fixed duties folded into the bound."""
        variable = [(c, d.lit) for c, d in terms if d.is_variable and c]
        constant = sum(c for c, d in terms if not d.is_variable)
        if not variable:
            if constant > bound:
                self.require(self.model.add_bool_or([]), rule_id, subject)
            return
        if sum(max(c, 0) for c, _ in variable) + constant <= bound:
            return  # cannot be broken
        # weighted_sum builds the expression in C++: a Python sum of products is most of a build.
        expression = cp_model.LinearExpr.weighted_sum([lit for _, lit in variable], [c for c, _ in variable])
        self.require(self.model.add(expression <= bound - constant), rule_id, subject)

    def at_most_literals(
        self, variable: Sequence[cp_model.LinearExprT], constant: int, bound: int, rule_id: str, subject: str
    ) -> None:
        """sum(variable) + constant <= bound (for day flags rather than duties)."""
        _bound(self, variable, constant, bound, rule_id, subject)

    def touched_flags(self) -> dict[int, dict[int, cp_model.IntVar | int]]:
        """Per resident and horizon day: 1 when a duty touches the day (a literal if it depends)."""
        return _touched(self)

    def penalize(self, name: str, weight: int, expression: cp_model.LinearExprT) -> None:
        if weight:
            self.penalties[name].append((weight, expression))

    def objective_terms(self) -> dict[str, cp_model.LinearExprT]:
        return {name: sum(w * e for w, e in terms) for name, terms in self.penalties.items()}


def _takes(coverage: Coverage, person: Person) -> bool:
    if not person.is_resident:
        return coverage.faculty.max > 0
    return any(group.max > 0 and person.pgy in group.pgy for group in coverage.residents)


def _days(first: date, last: date) -> Iterator[date]:
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset)


def _person_label(model: ScheduleModel, person: int) -> str:
    return model.people[person].id


# ====================================================================== hard rules


def add_one_duty_per_slot(model: ScheduleModel, problem: ScheduleProblem, params: RuleParams) -> None:
    """At most one rotation per person, day and slot."""
    groups: dict[tuple[int, int, int], list[Duty]] = defaultdict(list)
    for duty in model.variables():
        groups[(duty.person, duty.day, duty.slot)].append(duty)
    for (person, _, _), duties in groups.items():
        if len(duties) > 1:
            model.require(
                model.model.add_at_most_one(d.lit for d in duties),
                "schedule.double_booked",
                _person_label(model, person),
            )


def add_no_overlap(model: ScheduleModel, problem: ScheduleProblem, params: RuleParams) -> None:
    """Duties of one person in different slots never overlap in time."""
    for person, duties in model.by_person.items():
        ordered = sorted(duties, key=lambda d: d.start)
        for i, first in enumerate(ordered):
            for second in ordered[i + 1 :]:
                if second.start >= first.end:
                    break
                if (first.day, first.slot) != (second.day, second.slot):
                    model.at_most([(1, first), (1, second)], 1, "schedule.double_booked", _person_label(model, person))


def _clipped_minutes(duty: Duty, window_start: int, window_end: int) -> int:
    return max(0, min(duty.end, window_end) - max(duty.start, window_start))


def _add_window_hours(model: ScheduleModel, residents: bool, limit_hours: float, rule_id: str) -> None:
    width = model.params.averaging_window_days
    limit = round(limit_hours * 60)
    for person, duties in model.by_person.items():
        if model.people[person].is_resident != residents:
            continue
        # Duties by start: a window's duties are a slice of them, beginning no earlier than the
        # longest duty before the window does.
        ordered = sorted(duties, key=lambda d: d.start)
        starts = [d.start for d in ordered]
        longest = max((d.end - d.start for d in ordered), default=0)
        for window in model.window_starts():
            window_start, window_end = model.midnights[window], model.midnights[min(window + width, model.days)]
            first, last = bisect_left(starts, window_start - longest), bisect_left(starts, window_end)
            terms = [
                (_clipped_minutes(d, window_start, window_end), d)
                for d in ordered[first:last]
                if d.start < window_end and d.end > window_start
            ]
            model.at_most(terms, limit, rule_id, _person_label(model, person))


def add_max_hours(model: ScheduleModel, problem: ScheduleProblem, params: RuleParams) -> None:
    """VI.F.1 / 6.20: duty minutes in every 28-day window, clipped at its edges, history included."""
    _add_window_hours(model, True, params.max_hours_per_window, "acgme.hours.max_80_per_week")


def add_faculty_hours(model: ScheduleModel, problem: ScheduleProblem, params: RuleParams) -> None:
    """The institutional faculty maximum, kept hard so a published schedule carries no such warning."""
    _add_window_hours(model, False, params.faculty_max_hours_per_window, "institution.faculty_hours")


def _touched(model: ScheduleModel) -> dict[int, dict[int, cp_model.IntVar | int]]:
    """Per resident and day: 1 when any duty touches the day (a literal when it depends on the solve)."""
    if model.touched is not None:
        return model.touched
    touched: dict[int, dict[int, cp_model.IntVar | int]] = {}
    for person, duties in model.by_person.items():
        if not model.people[person].is_resident:
            continue
        days: dict[int, list[Duty]] = defaultdict(list)
        for duty in duties:
            for day in model.touched_days(duty):
                days[day].append(duty)
        flags: dict[int, cp_model.IntVar | int] = {}
        for day, on_day in days.items():
            if any(not d.is_variable for d in on_day):
                flags[day] = 1
                continue
            flag = model.model.new_bool_var(f"touched_{person}_{day}")
            for duty in on_day:
                model.model.add_implication(duty.lit, flag)
            flags[day] = flag
        touched[person] = flags
    model.touched = touched
    return touched


def _flag_terms(flags: dict[int, cp_model.IntVar | int], days: range) -> tuple[list[cp_model.IntVar], int]:
    variable = [flag for flag in (flags[d] for d in days if d in flags) if not isinstance(flag, int)]
    constant = sum(1 for d in days if isinstance(flags.get(d), int))
    return variable, constant


def add_days_off(model: ScheduleModel, problem: ScheduleProblem, params: RuleParams) -> None:
    """VI.F.2.c / 6.21.b: at least 4 calendar days untouched by duty in every 28-day window."""
    width = params.averaging_window_days
    allowed = width - params.min_free_days_per_window
    for person, flags in _touched(model).items():
        for window in model.window_starts():
            variable, constant = _flag_terms(flags, range(window, window + width))
            _bound(model, variable, constant, allowed, "acgme.days_off.one_in_seven", _person_label(model, person))


def add_strict_one_in_seven(model: ScheduleModel, problem: ScheduleProblem, params: RuleParams) -> None:
    """With ``strict_one_in_seven``: no 7 consecutive duty days."""
    if not params.strict_one_in_seven:
        return
    run = params.max_consecutive_duty_days + 1
    for person, flags in _touched(model).items():
        for first in range(max(0, model.range_first - run + 1), model.range_last + 1):
            variable, constant = _flag_terms(flags, range(first, first + run))
            _bound(model, variable, constant, run - 1, "acgme.days_off.seven_consecutive", _person_label(model, person))


def _bound(
    model: ScheduleModel,
    variable: Sequence[cp_model.LinearExprT],
    constant: int,
    bound: int,
    rule_id: str,
    subject: str,
) -> None:
    if len(variable) + constant <= bound:
        return
    if not variable:
        model.require(model.model.add_bool_or([]), rule_id, subject)
        return
    model.require(model.model.add(cp_model.LinearExpr.sum(list(variable)) <= bound - constant), rule_id, subject)


def _positions(duties: list[Duty]) -> list[tuple[int, int, list[Duty]]]:
    """(start, latest end, duties) per person-slot, in time order."""
    groups: dict[tuple[int, int], list[Duty]] = defaultdict(list)
    for duty in duties:
        groups[(duty.day, duty.slot)].append(duty)
    positions = [(min(d.start for d in g), max(d.end for d in g), g) for g in groups.values()]
    return sorted(positions, key=lambda p: p[0])


def _occupied(position: list[Duty]) -> cp_model.LinearExprT:
    """1 when the person works this slot (any rotation); fixed duties are the constant 1."""
    if any(not d.is_variable for d in position):
        return 1
    return sum(d.lit for d in position)


def add_continuous_duty_and_rest(model: ScheduleModel, problem: ScheduleProblem, params: RuleParams) -> None:
    """VI.F.3.a / 6.22 and VI.F.2.b / 6.21.a over chains of touching duties.

    A chain of slots worked back to back is one duty period. No chain may last more than 24 h;
    after one of 24 h or more, nothing may start within 14 h of its end. Adjacency uses the
    longest rotation a slot could hold, which is exact with the usual slot times and only
    stricter with unusual ones.
    """
    longest = round(params.max_continuous_duty_hours * 60)
    long_duty = round(params.long_duty_threshold_hours * 60)
    rest = round(params.min_rest_after_long_duty_hours * 60)
    first_minute, last_minute = model.midnights[model.range_first], model.midnights[model.range_last + 1]

    def outside_range(begin: int, finish: int) -> bool:
        return finish <= first_minute or begin >= last_minute

    for person, duties in model.by_person.items():
        if not model.people[person].is_resident:
            continue
        label = _person_label(model, person)
        positions = _positions(duties)
        for i, (chain_start, _, _) in enumerate(positions):
            stack = [(i, [i])]
            while stack:
                j, chain = stack.pop()
                _, latest_end, group = positions[j]
                before = [_occupied(positions[k][2]) for k in chain[:-1]]
                fixed_before = sum(1 for term in before if isinstance(term, int))
                variable_before = [term for term in before if not isinstance(term, int)]
                for duty in group:
                    length = duty.end - chain_start
                    if length > longest:
                        if not outside_range(chain_start, duty.end):
                            _chain_at_most(
                                model,
                                variable_before,
                                fixed_before,
                                duty,
                                len(chain) - 1,
                                "acgme.duty.max_continuous",
                                label,
                            )
                        continue
                    if length < long_duty:
                        continue
                    for later_start, _, later_group in positions[j + 1 :]:
                        if later_start >= duty.end + rest:
                            break
                        if later_start <= duty.end:
                            continue  # touching: the same period, bounded by the 24-hour chain limit
                        for later in later_group:
                            if outside_range(chain_start, later.end):
                                continue
                            _chain_at_most(
                                model,
                                variable_before + ([later.lit] if later.is_variable else []),
                                fixed_before + (0 if later.is_variable else 1),
                                duty,
                                len(chain),
                                "acgme.rest.after_24h",
                                label,
                            )
                if all(duty.end - chain_start > longest for duty in group):
                    continue  # every longer chain already breaks the limit
                for k in range(j + 1, len(positions)):
                    if positions[k][0] > latest_end:
                        break
                    stack.append((k, chain + [k]))


def _chain_at_most(
    model: ScheduleModel,
    variable: Sequence[cp_model.LinearExprT],
    fixed: int,
    last: Duty,
    bound: int,
    rule_id: str,
    subject: str,
) -> None:
    """Not every member of the chain (earlier slots, then ``last``) may be worked."""
    terms = list(variable) + ([last.lit] if last.is_variable else [])
    constant = fixed + (0 if last.is_variable else 1)
    _bound(model, terms, constant, bound, rule_id, subject)


def add_call_limits(model: ScheduleModel, problem: ScheduleProblem, params: RuleParams) -> None:
    """VI.F.7 / 6.27: at most 9 in-house calls per 28-day window and none on consecutive nights."""
    width = params.averaging_window_days
    for person, duties in model.by_person.items():
        if not model.people[person].is_resident:
            continue
        label = _person_label(model, person)
        calls: dict[int, list[Duty]] = defaultdict(list)
        for duty in duties:
            if model.is_in_house_call(duty):
                calls[duty.day].append(duty)
        if not calls:
            continue
        for window in model.window_starts():
            terms = [(1, d) for day in range(window, window + width) for d in calls.get(day, [])]
            model.at_most(terms, params.max_calls_per_window, "acgme.call.every_third_night", label)
        if params.forbid_consecutive_calls:
            for day in range(model.range_first - 1, model.range_last + 1):
                terms = [(1, d) for d in calls.get(day, []) + calls.get(day + 1, [])]
                model.at_most(terms, 1, "acgme.call.consecutive_nights", label)


def _slot_groups(model: ScheduleModel) -> dict[tuple[int, int, int], list[Duty]]:
    groups: dict[tuple[int, int, int], list[Duty]] = defaultdict(list)
    for duty in model.duties:
        if duty.in_range:
            groups[(duty.rotation, duty.day, duty.slot)].append(duty)
    return groups


def _subject(model: ScheduleModel, rotation: int, day: int, slot: int) -> str:
    return f"{model.rotations[rotation].id} {model.date_of(day)} {model.shift_ids[slot]}"


def add_supervision(model: ScheduleModel, problem: ScheduleProblem, params: RuleParams) -> None:
    """faculty >= PGY1 / 2 + seniors / 4 on supervised slots, as integers: P*S*F >= S*PGY1 + P*seniors."""
    per_pgy1, per_senior = params.pgy1_per_faculty, params.senior_residents_per_faculty
    for (rotation, day, slot), duties in _slot_groups(model).items():
        if not model.rotations[rotation].supervised:
            continue
        need = []
        for duty in duties:
            person = model.people[duty.person]
            weight = -per_pgy1 * per_senior if not person.is_resident else per_senior if person.pgy == 1 else per_pgy1
            need.append((weight, duty))
        if all(w <= 0 for w, _ in need):
            continue
        model.at_most(need, 0, "program.supervision", _subject(model, rotation, day, slot))


def add_staffing_max(model: ScheduleModel, problem: ScheduleProblem, params: RuleParams) -> None:
    """Each resident group's and the faculty's maximum on the service's coverage that day (hard)."""
    for (rotation_index, day, slot), duties in _slot_groups(model).items():
        coverage = model.rotations[rotation_index].coverage_on(model.date_of(day), model.shift_ids[slot])
        if coverage is None:
            continue  # a locked duty on a shift the service does not run: compliance reports it
        subject = _subject(model, rotation_index, day, slot)
        for group, members in _staffing_groups(model, coverage, duties):
            model.at_most([(1, d) for d in members], group.max, "staffing.above_max", subject)


def _staffing_groups(model: ScheduleModel, coverage: Coverage, duties: list[Duty]) -> list[tuple[Staffing, list[Duty]]]:
    """Each resident group of the coverage with the duties of its PGY levels, then the faculty."""
    people = model.people
    groups: list[tuple[Staffing, list[Duty]]] = [
        (group, [d for d in duties if people[d.person].is_resident and people[d.person].pgy in group.pgy])
        for group in coverage.residents
    ]
    groups.append((coverage.faculty, [d for d in duties if not people[d.person].is_resident]))
    return groups


# Tier 1 and the staffing maximum, then the duty patterns of plan mode (patterns.py; no-ops for v1).
HARD_RULES = (
    add_one_duty_per_slot,
    add_no_overlap,
    add_max_hours,
    add_faculty_hours,
    add_days_off,
    add_strict_one_in_seven,
    add_continuous_duty_and_rest,
    add_call_limits,
    add_supervision,
    add_staffing_max,
    *(rule.builder for rule in PATTERN_RULES),
)


# ====================================================================== soft goals


def add_min_staffing(model: ScheduleModel, problem: ScheduleProblem, params: RuleParams) -> None:
    """Each person missing from a staffing group's minimum (demand) costs ``unmet_staffing``."""
    groups = _slot_groups(model)
    for rotation_index, rotation in enumerate(model.rotations):
        for day in _days(problem.start, problem.end):
            for slot_index, slot in enumerate(model.shift_ids):
                coverage = rotation.coverage_on(day, slot)
                if coverage is None:
                    continue
                duties = groups.get((rotation_index, model.index(day), slot_index), [])
                for number, (group, members) in enumerate(_staffing_groups(model, coverage, duties)):
                    if not group.min:
                        continue
                    filled = sum(d.lit for d in members) if members else 0
                    shortfall = model.model.new_int_var(0, group.min, f"short_{rotation.id}_{day}_{slot}_{number}")
                    # Exactly max(0, min - filled): a schedule's penalty is then its shortfall
                    # whatever the search left undone (no slack to be minimised away later).
                    model.model.add_max_equality(shortfall, [0, group.min - filled])
                    model.penalize("unmet_staffing", problem.weights.unmet_staffing, shortfall)
                    is_faculty = number == len(coverage.residents)
                    pgy = None if is_faculty else frozenset(coverage.residents[number].pgy)
                    model.shortfall_cells.append(
                        ShortfallCell(rotation_index, model.index(day), slot_index, group.min, shortfall, pgy)
                    )


def _spread_excess(
    model: ScheduleModel, counts: list[cp_model.LinearExprT], name: str, weight: int, upper: int, limit: int
) -> None:
    """Penalise how far the spread (most - least) of ``counts`` exceeds ``limit``: what
    ``compliance`` measures for its fairness warning, one unit per call or day over."""
    if len(counts) < 2 or not weight:
        return
    most = model.model.new_int_var(0, upper, f"{name}_max")
    least = model.model.new_int_var(0, upper, f"{name}_min")
    model.model.add_max_equality(most, counts)
    model.model.add_min_equality(least, counts)
    over = model.model.new_int_var(-limit, upper, f"{name}_over")
    model.model.add(over == most - least - limit)
    excess = model.model.new_int_var(0, upper, f"{name}_excess")
    model.model.add_max_equality(excess, [0, over])  # exact, as validate measures it
    model.penalize(name, weight, excess)


def _peer_groups(model: ScheduleModel, people: list[int]) -> dict[str, list[int]]:
    """Residents compared with each other (``Program.fairness_peers``, as ``compliance`` does)."""
    problem = model.problem
    groups: dict[str, list[int]] = defaultdict(list)
    for person in people:
        peers = model.program.fairness_peers(model.people[person].id, problem.start, problem.end)
        if peers is not None:
            groups[peers].append(person)
    return dict(sorted(groups.items()))


def _range_calls(model: ScheduleModel, person: int) -> list[Duty]:
    return [d for d in model.by_person.get(person, []) if d.in_range and model.is_in_house_call(d)]


def add_call_fairness(model: ScheduleModel, problem: ScheduleProblem, params: RuleParams) -> None:
    """Each in-house call by which the spread among peers exceeds ``max_call_spread`` costs
    ``call_fairness``: the call-eligible residents (``Program.call_eligible``, absent ones
    included with their calls) are the ones ``validate`` compares."""
    eligible = [
        i for i, person in enumerate(model.people) if model.program.call_eligible(person, problem.start, problem.end)
    ]
    days = (problem.end - problem.start).days + 1
    for members in _peer_groups(model, eligible).values():
        counts: list[cp_model.LinearExprT] = [sum(d.lit for d in _range_calls(model, p)) for p in members]
        _spread_excess(model, counts, "call_fairness", problem.weights.call_fairness, days, params.max_call_spread)


def add_call_share(model: ScheduleModel, problem: ScheduleProblem, params: RuleParams) -> None:
    """Each call above or below a resident's fair share costs ``call_share`` (a preference inside
    the spread ``validate`` allows; it reports nothing of it).

    The fair share is the range's in-house call demand split over the residents who can take
    call, in proportion to the days each is present; anywhere between its floor and ceiling is
    free. (A penalty on max - min is weak for the solver's bound: proving that calls cannot be
    split exactly took it seconds, where a band is proved at once.)
    """
    demand = sum(
        group.min
        for rotation in model.rotations
        for slot in model.shift_ids
        if model.program.is_in_house_call(rotation.id, slot)
        for day in _days(problem.start, problem.end)
        if (coverage := rotation.coverage_on(day, slot)) is not None
        for group in coverage.residents
    )
    callers: dict[int, list[Duty]] = {}
    for person in model.by_person:
        calls = _range_calls(model, person)
        if model.people[person].is_resident and any(d.is_variable for d in calls):
            callers[person] = calls
    if not callers or not demand:
        return
    available = {p: len({d.day for d in calls}) for p, calls in callers.items()}
    total = sum(available.values())
    for person, calls in callers.items():
        share = demand * available[person] / total
        low, high = math.floor(share), math.ceil(share)
        count = sum(d.lit for d in calls)
        over = model.model.new_int_var(0, len(calls), f"calls_over_{person}")
        under = model.model.new_int_var(0, low, f"calls_under_{person}")
        model.model.add_max_equality(over, [0, count - high])
        model.model.add_max_equality(under, [0, low - count])
        model.penalize("call_share", problem.weights.call_share, over + under)


def add_weekend_fairness(model: ScheduleModel, problem: ScheduleProblem, params: RuleParams) -> None:
    """Each weekend duty day by which the spread among peers exceeds ``max_weekend_spread`` costs
    ``weekend_fairness`` (in plan mode peers share a rotation: a ward team and an ambulatory block
    are not peers)."""
    weekend_days = [d for d in _days(problem.start, problem.end) if Weekday.of(d) in WEEKEND]
    worked_days: dict[int, cp_model.LinearExprT] = {}
    for person, person_obj in enumerate(model.people):
        if not person_obj.is_resident:
            continue
        duties = model.by_person.get(person, [])
        worked: list[cp_model.IntVar | int] = []
        for day in weekend_days:
            on_day = [d for d in duties if d.day == model.index(day)]
            if not on_day:
                continue
            if any(not d.is_variable for d in on_day):
                worked.append(1)
                continue
            flag = model.model.new_bool_var(f"weekend_{person}_{day}")
            # Exactly "works that day": a free upper bound would let the solver fake fairness.
            model.model.add_max_equality(flag, [duty.lit for duty in on_day])
            worked.append(flag)
        worked_days[person] = sum(worked) if worked else 0
    for members in _peer_groups(model, list(worked_days)).values():
        _spread_excess(
            model,
            [worked_days[p] for p in members],
            "weekend_fairness",
            problem.weights.weekend_fairness,
            len(weekend_days),
            params.max_weekend_spread,
        )


def add_continuity(model: ScheduleModel, problem: ScheduleProblem, params: RuleParams) -> None:
    """Each session rotation a person works in a week beyond the first costs ``continuity``:
    the same rotation all week is free."""
    used: dict[tuple[int, int], dict[int, list[Duty]]] = defaultdict(lambda: defaultdict(list))
    for duty in model.variables():
        if model.rotations[duty.rotation].kind is RotationKind.SESSION:
            used[(duty.person, (duty.day - model.range_first) // 7)][duty.rotation].append(duty)
    for (person, week), rotations in used.items():
        if len(rotations) < 2:
            continue
        flags = []
        for rotation, duties in rotations.items():
            flag = model.model.new_bool_var(f"uses_{person}_{week}_{rotation}")
            model.model.add_max_equality(flag, [duty.lit for duty in duties])
            flags.append(flag)
        extra = model.model.new_int_var(0, len(flags) - 1, f"extra_rotations_{person}_{week}")
        model.model.add_max_equality(extra, [0, sum(flags) - 1])
        model.penalize("continuity", problem.weights.continuity, extra)


def add_rest_between_duties(model: ScheduleModel, problem: ScheduleProblem, params: RuleParams) -> None:
    """VI.F.2.a / 6.21 (a Detail, Tier 2): each rest shorter than 8 h between two duty periods costs
    ``short_rest``, counted as ``compliance`` counts it.

    A pair (earlier duty, later slot) less than 8 h apart is a short rest only when nothing is
    worked between them: a filled gap (AM, PM, then the night CALL) is one 24-hour period, judged
    by the 24-hour rules, not a short rest. Duties never overlap, so a duty worked between them
    lies inside the gap; listing the duties that cross the gap is exact. After a period of 24 h
    or more the 14-hour rest is hard, so every short rest left is one ``validate`` warns of.
    """
    minimum = round(params.min_rest_between_duties_hours * 60)
    for person, duties in model.by_person.items():
        if not model.people[person].is_resident:
            continue
        positions = _positions(duties)
        for i, (_, _, group) in enumerate(positions):
            for k in range(i + 1, len(positions)):
                later_start, _, later_group = positions[k]
                for duty in group:
                    gap = later_start - duty.end
                    if not 0 < gap < minimum or not (duty.in_range or any(d.in_range for d in later_group)):
                        continue
                    # Sorted by start: a slot begun before this one that ends after it overlaps it.
                    between = [
                        d
                        for _, _, other in positions[i + 1 : k]
                        for d in other
                        if d.start < later_start and d.end > duty.end
                    ]
                    if any(not d.is_variable for d in between):
                        continue  # a fixed duty fills the gap
                    variable = duty.is_variable or any(d.is_variable for d in later_group + between)
                    if not variable:
                        model.penalize("short_rest", problem.weights.short_rest, 1)
                        continue
                    both = model.model.new_bool_var(f"short_rest_{person}_{duty.start}_{later_start}")
                    for later in later_group:
                        # both >= duty AND later AND nothing between ...
                        model.model.add_bool_or(
                            [both, _negated(duty.lit), _negated(later.lit), *(d.lit for d in between)]
                        )
                    # ... and exactly that: the penalty of any schedule found is its count of short rests.
                    if duty.is_variable:
                        model.model.add_implication(both, duty.lit)
                    if any(d.is_variable for d in later_group):
                        model.model.add(sum(d.lit for d in later_group) >= 1).only_enforce_if(both)
                    for filler in between:
                        model.model.add_implication(both, _negated(filler.lit))
                    model.penalize("short_rest", problem.weights.short_rest, both)
                if later_start - max(d.end for d in group) >= minimum:
                    break


def _negated(literal: cp_model.IntVar | int) -> cp_model.LiteralT:
    return literal.Not() if not isinstance(literal, int) else 1 - literal


def _day_off_requests(problem: ScheduleProblem) -> list[Request]:
    """The program's day-off requests (v2 documents) for days of the range, one per day."""
    found = []
    for wish in problem.program.requests:
        if wish.kind is not PlanRequestKind.DAY_OFF:
            continue
        for day in _days(max(wish.start, problem.start), min(wish.end, problem.end)):
            found.append(Request(person_id=wish.person_id, date=day, weight=wish.weight))
    return found


def add_requests(model: ScheduleModel, problem: ScheduleProblem, params: RuleParams) -> None:
    """Each request not granted costs ``request`` times its weight: the problem's and the
    program's day-off requests."""
    for request in (*problem.requests, *_day_off_requests(problem)):
        person = model.person_index.get(request.person_id)
        if person is None or not problem.start <= request.date <= problem.end:
            continue
        day = model.index(request.date)
        if request.slot is not None and request.slot not in model.slot_index:
            continue
        slots = {model.slot_index[request.slot]} if request.slot else set(range(len(model.shift_ids)))
        duties = [d for d in model.by_person[person] if d.day == day and d.slot in slots and d.is_variable]
        if not duties:
            continue
        missed = model.model.new_bool_var(f"request_{request.person_id}_{request.date}")
        works = [d.lit for d in duties]
        if request.kind is RequestKind.OFF:
            model.model.add_max_equality(missed, works)  # exactly "works that day (slot)"
        else:
            worked = model.model.new_bool_var(f"request_worked_{request.person_id}_{request.date}")
            model.model.add_max_equality(worked, works)
            model.model.add(missed == 1 - worked)
        model.penalize("request", problem.weights.request * request.weight, missed)


def current_keys(problem: ScheduleProblem) -> set[tuple[str, date, str, str]]:
    return {
        (a.person_id, a.date, a.slot, a.rotation_id)
        for a in problem.existing.assignments
        if problem.start <= a.date <= problem.end and not a.locked
    }


def duty_key(model: ScheduleModel, duty: Duty) -> tuple[str, date, str, str]:
    return (
        model.people[duty.person].id,
        model.date_of(duty.day),
        model.shift_ids[duty.slot],
        model.rotations[duty.rotation].id,
    )


def add_minimal_change(model: ScheduleModel, problem: ScheduleProblem, params: RuleParams) -> None:
    """When regenerating, every assignment dropped from or added to the current plan costs ``change``."""
    current = current_keys(problem)
    if not current:
        return
    for duty in model.variables():
        if duty_key(model, duty) in current:
            model.penalize("change", problem.weights.change, 1 - duty.lit)
        else:
            model.penalize("change", problem.weights.change, duty.lit)


def kept_assignments(problem: ScheduleProblem) -> list[Assignment]:
    """What a solve does not replace: history, the future and locked assignments in the range."""
    return [a for a in problem.existing.assignments if not (problem.start <= a.date <= problem.end) or a.locked]


def solution_schedule(model: ScheduleModel, chosen: list[Duty]) -> Schedule:
    """The kept assignments plus the chosen duties, as solver-made assignments."""
    made = [
        Assignment(
            person_id=model.people[d.person].id,
            date=model.date_of(d.day),
            slot=model.shift_ids[d.slot],
            rotation_id=model.rotations[d.rotation].id,
            source=AssignmentSource.SOLVER,
        )
        for d in chosen
    ]
    return Schedule(assignments=tuple(kept_assignments(model.problem) + made)).sorted()


# Most expensive first: coverage gaps, a plan row's expected work and sessions, then fairness.
SOFT_GOALS = (
    add_min_staffing,
    add_counted_bounds,  # reads the shortfall cells add_min_staffing made
    *(goal.builder for goal in PATTERN_GOALS),
    add_call_fairness,
    add_call_share,
    add_weekend_fairness,
    add_continuity,
    add_rest_between_duties,
    add_requests,
    add_minimal_change,
)


def build(problem: ScheduleProblem, *, explain: bool = False, soft: bool = True) -> ScheduleModel:
    model = ScheduleModel(problem=problem, explain=explain)
    params = problem.program.rules
    for builder in HARD_RULES:
        builder(model, problem, params)
    if soft:
        for goal in SOFT_GOALS:
            goal(model, problem, params)
        terms = model.objective_terms()
        if terms:
            model.model.minimize(sum(terms.values()))
    return model
