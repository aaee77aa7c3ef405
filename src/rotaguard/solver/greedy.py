"""The greedy baseline: fill each slot up to its minimum with the least-loaded person who can
take it without breaking a Tier 1 rule. Fast, never unsafe, and it may leave gaps."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from datetime import date

from rotaguard.domain import RuleParams, Schedule, days_between
from rotaguard.solver.model import Duty, ScheduleModel, solution_schedule
from rotaguard.solver.problem import GreedyCannotFollowPlan, ScheduleProblem, SolveResult, SolverStatus


class PersonLedger:
    """One person's duties and the Tier 1 checks for adding one more (the solver's own, not compliance's)."""

    def __init__(self, model: ScheduleModel, person: int, duties: list[Duty]) -> None:
        self.model = model
        self.resident = model.people[person].is_resident
        self.duties = sorted(duties, key=lambda d: d.start)
        self.minutes = 0

    def fits(self, duty: Duty, params: RuleParams) -> bool:
        near = [d for d in self.duties if abs(d.start - duty.start) <= 40 * 24 * 60]
        if any(d.start < duty.end and d.end > duty.start for d in near):
            return False
        tentative = sorted([*near, duty], key=lambda d: d.start)
        limit = params.max_hours_per_window if self.resident else params.faculty_max_hours_per_window
        if not self._hours_ok(tentative, duty, round(limit * 60), params):
            return False
        if not self.resident:
            return True
        return (
            self._days_off_ok(tentative, duty, params)
            and self._periods_ok(tentative, params)
            and self._calls_ok(tentative, duty, params)
        )

    def _windows(self, duty: Duty, params: RuleParams) -> range:
        width = params.averaging_window_days
        first = self.model.day_of_minute(duty.start)
        return range(max(0, first - width + 1), self.model.day_of_minute(duty.end - 1) + 1)

    def _hours_ok(self, duties: list[Duty], duty: Duty, limit: int, params: RuleParams) -> bool:
        width, midnights, days = params.averaging_window_days, self.model.midnights, self.model.days
        # Minutes worked per horizon day, then each window's sum of its days: the same clipping at
        # midnight as summing each duty per window, with a pass over the duties instead of one per window.
        per_day: dict[int, int] = defaultdict(int)
        for worked in duties:
            for day in self.model.touched_days(worked):
                per_day[day] += max(0, min(worked.end, midnights[day + 1]) - max(worked.start, midnights[day]))
        for window in self._windows(duty, params):
            if sum(per_day.get(day, 0) for day in range(window, min(window + width, days))) > limit:
                return False
        return True

    def _days_off_ok(self, duties: list[Duty], duty: Duty, params: RuleParams) -> bool:
        touched = {day for d in duties for day in self.model.touched_days(d)}
        width = params.averaging_window_days
        allowed = width - params.min_free_days_per_window
        for window in self._windows(duty, params):
            if sum(1 for day in range(window, window + width) if day in touched) > allowed:
                return False
        if params.strict_one_in_seven:
            run = 0
            for day in range(min(touched), max(touched) + 1):
                run = run + 1 if day in touched else 0
                if run > params.max_consecutive_duty_days:
                    return False
        return True

    def _periods_ok(self, duties: list[Duty], params: RuleParams) -> bool:
        periods: list[list[int]] = []
        for d in duties:
            if periods and d.start <= periods[-1][1]:
                periods[-1][1] = max(periods[-1][1], d.end)
            else:
                periods.append([d.start, d.end])
        longest = round(params.max_continuous_duty_hours * 60)
        long_duty = round(params.long_duty_threshold_hours * 60)
        rest = round(params.min_rest_after_long_duty_hours * 60)
        for i, (start, end) in enumerate(periods):
            if end - start > longest:
                return False
            if end - start >= long_duty and i + 1 < len(periods) and periods[i + 1][0] - end < rest:
                return False
        return True

    def _calls_ok(self, duties: list[Duty], duty: Duty, params: RuleParams) -> bool:
        if not self.model.is_in_house_call(duty):
            return True
        call_days = [d.day for d in duties if self.model.is_in_house_call(d)]
        if params.forbid_consecutive_calls and (duty.day - 1 in call_days or duty.day + 1 in call_days):
            return False
        width = params.averaging_window_days
        for window in range(max(0, duty.day - width + 1), duty.day + 1):
            if sum(1 for day in call_days if window <= day < window + width) > params.max_calls_per_window:
                return False
        return True

    def add(self, duty: Duty) -> None:
        self.duties.append(duty)
        self.duties.sort(key=lambda d: d.start)
        self.minutes += duty.end - duty.start


def solve_greedy(problem: ScheduleProblem) -> SolveResult:
    if problem.program.has_plan_model:
        # It fills staffing slot by slot and knows nothing of runs, spacing or per-block counts.
        raise GreedyCannotFollowPlan("the greedy solver cannot follow a rotation plan; use cp-sat")
    began = time.perf_counter()
    model = ScheduleModel(problem=problem)
    params = problem.program.rules
    fixed: dict[int, list[Duty]] = defaultdict(list)
    options: dict[tuple[int, int, int], list[Duty]] = defaultdict(list)
    for duty in model.duties:
        if duty.is_variable and not duty.locked:
            options[(duty.rotation, duty.day, duty.slot)].append(duty)
        else:
            fixed[duty.person].append(duty)
    ledgers = {p: PersonLedger(model, p, fixed.get(p, [])) for p in range(len(model.people))}
    chosen: list[Duty] = []
    busy: set[tuple[int, int, int]] = {(d.person, d.day, d.slot) for duties in fixed.values() for d in duties}
    staffed: dict[tuple[int, int, int], list[int]] = defaultdict(list)
    for duty in model.duties:
        if duty.in_range and not (duty.is_variable and not duty.locked):
            staffed[(duty.rotation, duty.day, duty.slot)].append(duty.person)

    def take(candidates: list[Duty], count: int, key_extra: Callable[[Duty], int] = lambda d: 0) -> list[Duty]:
        taken: list[Duty] = []
        for duty in sorted(
            candidates, key=lambda d: (key_extra(d), ledgers[d.person].minutes, model.people[d.person].id)
        ):
            if len(taken) == count:
                break
            if (duty.person, duty.day, duty.slot) in busy or not ledgers[duty.person].fits(duty, params):
                continue
            ledgers[duty.person].add(duty)
            busy.add((duty.person, duty.day, duty.slot))
            taken.append(duty)
        return taken

    def release(duty: Duty) -> None:
        ledgers[duty.person].duties.remove(duty)
        ledgers[duty.person].minutes -= duty.end - duty.start
        busy.discard((duty.person, duty.day, duty.slot))

    for day in range(model.range_first, model.range_last + 1):
        for slot in range(len(model.shift_ids)):
            for rotation_index, rotation in enumerate(model.rotations):
                coverage = rotation.coverage_on(model.date_of(day), model.shift_ids[slot])
                if coverage is None:
                    continue
                key = (rotation_index, day, slot)
                candidates = options.get(key, [])
                already = staffed.get(key, [])
                residents_have = sum(1 for p in already if model.people[p].is_resident)
                faculty_have = len(already) - residents_have
                faculty_options = [d for d in candidates if not model.people[d.person].is_resident]
                residents: list[Duty] = []
                for group in coverage.residents:
                    group_have = sum(
                        1 for p in already if model.people[p].is_resident and model.people[p].pgy in group.pgy
                    )
                    # Seniors first on supervised slots: they need half the supervision of interns.
                    residents += take(
                        [
                            d
                            for d in candidates
                            if model.people[d.person].is_resident and model.people[d.person].pgy in group.pgy
                        ],
                        max(0, group.min - group_have),
                        key_extra=(lambda d: model.people[d.person].pgy == 1) if rotation.supervised else (lambda d: 0),
                    )
                pgy1 = sum(1 for p in already if model.people[p].pgy == 1) + sum(
                    1 for d in residents if model.people[d.person].pgy == 1
                )
                seniors = residents_have + len(residents) - pgy1
                need = coverage.faculty.min
                if rotation.supervised:
                    need = max(need, params.faculty_needed(pgy1_residents=pgy1, senior_residents=seniors))
                faculty = take(faculty_options, max(0, min(need, coverage.faculty.max) - faculty_have))
                if rotation.supervised:
                    total_faculty = faculty_have + len(faculty)
                    # Too few supervisors: drop residents (interns first) until the ratio holds.
                    for duty in sorted(residents, key=lambda d: model.people[d.person].pgy != 1):
                        if params.faculty_needed(pgy1_residents=pgy1, senior_residents=seniors) <= total_faculty:
                            break
                        release(duty)
                        residents.remove(duty)
                        if model.people[duty.person].pgy == 1:
                            pgy1 -= 1
                        else:
                            seniors -= 1
                chosen += residents + faculty
    schedule = solution_schedule(model, chosen)
    unmet = _unmet(model, problem, schedule)
    return SolveResult(
        schedule=schedule,
        status=SolverStatus.FEASIBLE,
        algorithm="greedy",
        objective=float(unmet * problem.weights.unmet_staffing),
        wall_seconds=time.perf_counter() - began,
        first_feasible_seconds=time.perf_counter() - began,
        penalties={"unmet_staffing": float(unmet * problem.weights.unmet_staffing)},
    )


def _unmet(model: ScheduleModel, problem: ScheduleProblem, schedule: Schedule) -> int:
    """People missing from the rotations' minimums (the penalty the greedy leaves unpaid)."""
    counts: dict[tuple[str, date, str, int | None], int] = defaultdict(int)
    for a in schedule.assignments:
        if problem.start <= a.date <= problem.end and a.person_id in model.person_index:
            counts[(a.rotation_id, a.date, a.slot, model.people[model.person_index[a.person_id]].pgy)] += 1
    missing = 0
    for rotation in model.rotations:
        for day in days_between(problem.start, problem.end):
            for slot in rotation.slots:
                coverage = rotation.coverage_on(day, slot)
                if coverage is None:
                    continue
                for group in coverage.residents:
                    have = sum(counts[(rotation.id, day, slot, pgy)] for pgy in group.pgy)
                    missing += max(0, group.min - have)
                missing += max(0, coverage.faculty.min - counts[(rotation.id, day, slot, None)])
    return missing
