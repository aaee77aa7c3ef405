"""Staffing shortfalls proved by counting, before any search.

Two counts a coordinator can check by hand:

- **In-house calls.** The residents' call minimums of the range (``needed``) against what the
  residents who may take call can take: per person, the fewest of the 28-day call limit (less
  the calls the windows already hold), the nights they can take call, and (with no consecutive
  calls) every other one of those nights. When ``needed`` exceeds that ``supply``, at least
  ``needed - supply`` calls stay uncovered whatever the schedule, and the model is told so (a
  redundant constraint on the shortfall variables): on two cores CP-SAT otherwise searches
  for a bound that this count gives at once.
- **Shifts nobody can work.** A shift whose minimum exceeds the people who could work it
  (present, taken by the service, credentialed) that day.

The sentences go into ``SolveResult.shortfalls`` and the run's artifacts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rotaguard.domain import RuleParams
    from rotaguard.solver.model import Duty, ScheduleModel
    from rotaguard.solver.problem import ScheduleProblem


@dataclass(frozen=True)
class CountedShortfall:
    """At least ``needed - supply`` of ``what`` cannot be covered."""

    what: str
    needed: int
    supply: int
    sentence: str

    @property
    def shortfall(self) -> int:
        return max(0, self.needed - self.supply)


def _most_nights(days: list[int], consecutive_allowed: bool) -> int:
    """The most nights of ``days`` one person can take: all, or no two in a row (taking the
    earliest night each time is optimal on a line)."""
    if consecutive_allowed:
        return len(days)
    taken, last = 0, None
    for day in sorted(days):
        if last is None or day > last + 1:
            taken, last = taken + 1, day
    return taken


def count_calls(model: ScheduleModel) -> CountedShortfall | None:
    """Residents' in-house call minimums against the most calls the eligible residents may take;
    also adds the redundant bound to the model. None when the count proves nothing."""
    params, program = model.params, model.program
    cells = [
        cell
        for cell in model.shortfall_cells
        if cell.pgy is not None
        and program.is_in_house_call(model.rotations[cell.rotation].id, model.shift_ids[cell.slot])
    ]
    if not cells:
        return None
    by_shift: dict[tuple[int, int, int], list[frozenset[int]]] = defaultdict(list)
    for cell in cells:
        by_shift[(cell.rotation, cell.day, cell.slot)].append(cell.pgy or frozenset())
    for groups in by_shift.values():
        if sum(len(g) for g in groups) != len(frozenset().union(*groups)):
            return None  # overlapping PGY groups: one call could fill two, the count would be unsound
    needed = sum(cell.minimum for cell in cells)
    width = params.averaging_window_days
    calls: dict[int, dict[int, list[Duty]]] = defaultdict(lambda: defaultdict(list))
    for duty in model.duties:
        if model.people[duty.person].is_resident and model.is_in_house_call(duty):
            calls[duty.person][duty.day].append(duty)
    allowed: dict[int, int] = {}
    for person, by_day in calls.items():
        in_range = [day for day in by_day if model.range_first <= day <= model.range_last]
        if not in_range:
            continue

        def fixed_in(first: int, by_day: dict[int, list[Duty]] = by_day) -> int:
            """Calls outside the range (history, the future) already in the window from ``first``."""
            return sum(
                1
                for day in range(first, first + width)
                for duty in by_day.get(day, [])
                if not duty.is_variable and not duty.in_range
            )

        limit = params.max_calls_per_window
        if model.range_last - model.range_first + 1 <= width:
            # One window holds the whole range: the fullest of those windows bounds it.
            starts = range(model.range_last - width + 1, model.range_first + 1)
            by_windows = max(0, limit - max(fixed_in(first) for first in starts))
        else:  # windows laid end to end from the range's first day cover it
            starts = range(model.range_first, model.range_last + 1, width)
            by_windows = sum(max(0, limit - fixed_in(first)) for first in starts)
        allowed[person] = min(by_windows, _most_nights(in_range, not params.forbid_consecutive_calls))
    supply = sum(allowed.values())
    if needed <= supply:
        return None
    model.model.add(sum(cell.variable for cell in cells) >= needed - supply)
    counts = sorted(set(allowed.values()))
    if not counts:
        each = "no resident may take them"
    elif len(counts) == 1:
        each = f"{len(allowed)} eligible residents × {counts[0]} allowed = {supply}"
    else:
        each = f"{len(allowed)} eligible residents may take {supply} in all ({counts[0]} to {counts[-1]} each)"
    limits = f"at most {params.max_calls_per_window} in {width} days" + (
        ", none on consecutive nights" if params.forbid_consecutive_calls else ""
    )
    return CountedShortfall(
        what="in-house calls",
        needed=needed,
        supply=supply,
        sentence=f"{needed - supply} in-house calls cannot be covered: {needed} needed, {each} ({limits})",
    )


def count_unstaffable_shifts(model: ScheduleModel) -> list[CountedShortfall]:
    """Shifts whose residents' minimum exceeds the residents who could work them, grouped by
    service, shift and shortfall (one sentence per group, its first days named)."""
    who: dict[tuple[int, int, int], set[int]] = defaultdict(set)
    for duty in model.duties:
        if duty.in_range and model.people[duty.person].is_resident:
            who[(duty.rotation, duty.day, duty.slot)].add(duty.person)
    short: dict[tuple[int, int, int, int], list[int]] = defaultdict(list)
    for cell in model.shortfall_cells:
        if cell.pgy is None:
            continue  # faculty minimums: the supervision rule speaks for them
        pgy = cell.pgy
        available = sum(1 for p in who.get((cell.rotation, cell.day, cell.slot), ()) if model.people[p].pgy in pgy)
        if available < cell.minimum:
            short[(cell.rotation, cell.slot, cell.minimum, available)].append(cell.day)
    found = []
    for (rotation, slot, minimum, available), days in sorted(short.items()):
        named = ", ".join(str(model.date_of(d)) for d in sorted(days)[:3]) + (", …" if len(days) > 3 else "")
        service, shift = model.rotations[rotation].id, model.shift_ids[slot]
        found.append(
            CountedShortfall(
                what=f"{service} {shift}",
                needed=minimum * len(days),
                supply=available * len(days),
                sentence=f"{(minimum - available) * len(days)} {service} {shift} places cannot be filled: "
                f"{minimum} needed on {len(days)} days ({named}), at most {available} residents can work them",
            )
        )
    return found


def add_counted_bounds(model: ScheduleModel, problem: ScheduleProblem, params: RuleParams) -> None:
    """Record what counting proves (and tell the model the call count): a soft-goal builder, run
    after ``add_min_staffing``, whose shortfall cells it counts."""
    found = count_unstaffable_shifts(model)
    calls = count_calls(model)
    if calls is not None:
        found.insert(0, calls)
    model.counted_shortfalls = found
