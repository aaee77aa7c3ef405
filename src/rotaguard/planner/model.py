"""The CP-SAT model of the year plan: one Boolean per planned cell and rotation it may take, the
hard rules as constraints and each soft term of ``objective.TERMS`` as a linear expression of
units (docs/planner.md).

Kept rows enter as constants. Counts are in half-block units where a kept half-block row can
appear (curriculum totals), so the model judges exactly what compliance's ``block_value`` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ortools.sat.python import cp_model

from rotaguard.planner.layout import Layout

# A linear expression or a constant; CP-SAT's own union types do not survive arithmetic in mypy.
LinearLike = Any

# The rule families the explanation relaxes one at a time (eligibility and vacation live in the
# layout's options, the rest here).
FAMILIES = ("curriculum", "order", "capacity", "eligibility", "vacation")
FAMILY_WORDS = {
    "curriculum": "the curriculum's block counts per rotation",
    "order": "the curriculum's runs and order (most blocks in a row, what comes before what)",
    "capacity": "the rotations' capacities per block",
    "eligibility": "eligibility (PGY levels and credentials)",
    "vacation": "approved vacations on rotations that allow vacation",
}


@dataclass
class YearModel:
    layout: Layout
    model: cp_model.CpModel
    x: dict[tuple[int, int, int], cp_model.IntVar]
    terms: dict[str, LinearLike]

    def on(self, r: int, b: int, k: int) -> LinearLike:
        """1 when resident ``r`` is on rotation ``k`` in block ``b`` (a variable, or a constant for a
        kept block: on it when any kept row there is)."""
        options = self.layout.options[r][b]
        if options is None:
            return int(self.layout.kept[r][b].on(self.layout.rotations[k].id))
        return self.x[(r, b, k)] if k in options else 0

    def heavy(self, r: int, b: int) -> LinearLike:
        """1 when the block is heavy: a planned cell's heavy rotation, or a kept block with any
        heavy row (two heavy half-blocks are one heavy block, as ``objective.count_terms``)."""
        heavy = [k for k, rot in enumerate(self.layout.rotations) if rot.heavy]
        if self.layout.options[r][b] is None:
            return int(any(self.on(r, b, k) for k in heavy))
        return sum((self.on(r, b, k) for k in heavy), start=0)


def _is_const(expr: LinearLike) -> bool:
    return isinstance(expr, int)


def build_model(layout: Layout, relax: frozenset[str] = frozenset(), *, symmetry: bool = True) -> YearModel:
    model = cp_model.CpModel()
    x: dict[tuple[int, int, int], cp_model.IntVar] = {}
    for r, person in enumerate(layout.residents):
        for b in range(layout.year_blocks):
            options = layout.options[r][b]
            if options is None:
                continue
            for k in options:
                x[(r, b, k)] = model.new_bool_var(f"x_{person.id}_{b + 1}_{layout.rotations[k].id}")
            # Exactly one rotation in each block present (none possible: infeasible, explained).
            model.add_exactly_one([x[(r, b, k)] for k in options])
    ym = YearModel(layout=layout, model=model, x=x, terms={})
    if "curriculum" not in relax:
        _curriculum_totals(ym)
    if "order" not in relax:
        _runs_and_order(ym)
    if "capacity" not in relax:
        _capacity(ym)
    _terms(ym)
    if symmetry:
        _break_symmetry(ym)
    return ym


def _curriculum_totals(ym: YearModel) -> None:
    layout = ym.layout
    for r in range(len(layout.residents)):
        if not any(layout.planned(r, b) for b in range(layout.year_blocks)):
            continue
        for requirement in layout.requirements[r]:
            k = layout.rotation_index(requirement.rotation)
            low, high = layout.bounds(r, requirement)
            kept = sum(layout.kept[r][b].half_units_on(requirement.rotation) for b in range(layout.year_blocks))
            planned = [] if k is None else [ym.x[(r, b, k)] for b in range(layout.year_blocks) if (r, b, k) in ym.x]
            total = kept + 2 * sum(planned, start=0)
            ym.model.add(total >= 2 * low)
            ym.model.add(total <= 2 * high)


def _runs_and_order(ym: YearModel) -> None:
    layout = ym.layout
    blocks = layout.year_blocks
    for r in range(len(layout.residents)):
        for requirement in layout.requirements[r]:
            k = layout.rotation_index(requirement.rotation)
            if k is None:
                continue
            limit = requirement.max_consecutive
            if limit is not None:
                for start in range(blocks - limit):
                    window = [ym.on(r, b, k) for b in range(start, start + limit + 1)]
                    if not all(_is_const(w) for w in window):
                        ym.model.add(sum(window, start=0) <= limit)
            for later_id in requirement.before:
                later = layout.rotation_index(later_id)
                if later is not None:
                    _first_before(ym, r, k, later)


def _first_before(ym: YearModel, r: int, k: int, later: int) -> None:
    """Compliance's order: a block of ``later`` whose start precedes the first block of ``k`` is a
    finding when both appear. So a block b on ``later`` with no block of ``k`` before it forbids
    any block of ``k`` after it: on_later[b] + after_k[b] - before_k[b] <= 1, with before_k and
    after_k the exact "some block of k before / after b" Booleans (O(blocks), not O(blocks^2))."""
    layout, model = ym.layout, ym.model
    blocks = layout.year_blocks
    on_k = [ym.on(r, b, k) for b in range(blocks)]
    on_later = [ym.on(r, b, later) for b in range(blocks)]
    if all(_is_const(v) for v in on_k + on_later):
        return
    person = layout.residents[r].id

    def seen(name: str, order: list[int]) -> dict[int, LinearLike]:
        """flag[b] = 1 exactly when some block of k comes strictly before b in ``order``."""
        flags: dict[int, LinearLike] = {}
        previous: LinearLike = 0
        previous_on: LinearLike = 0
        for position, b in enumerate(order):
            if position == 0:
                flags[b] = 0
            else:
                flag = model.new_bool_var(f"{name}_{person}_{b}")
                model.add(flag >= previous)
                model.add(flag >= previous_on)
                model.add(flag <= previous + previous_on)
                flags[b] = flag
            previous, previous_on = flags[b], on_k[b]
        return flags

    before = seen("before", list(range(blocks)))
    after = seen("after", list(range(blocks - 1, -1, -1)))
    for b in range(blocks):
        if _is_const(on_later[b]) and on_later[b] == 0:
            continue
        model.add(on_later[b] + after[b] - before[b] <= 1)


def _capacity(ym: YearModel) -> None:
    layout = ym.layout
    people = layout.program.people_by_id
    for b, block in enumerate(layout.blocks):
        middle = block.halves()[1][0]
        for k, rotation in enumerate(layout.rotations):
            for group in rotation.capacity:
                planned = [
                    ym.x[(r, b, k)]
                    for r, person in enumerate(layout.residents)
                    if person.pgy in group.pgy and (r, b, k) in ym.x
                ]
                deciding = any(
                    person.pgy in group.pgy and layout.planned(r, b) for r, person in enumerate(layout.residents)
                )
                if not deciding:
                    continue  # no plan decision for the group here: kept counts are compliance's to judge
                limits: set[int] = set()
                for point in (block.start, middle):
                    kept = sum(
                        1
                        for r, person in enumerate(layout.residents)
                        if person.pgy in group.pgy and layout.kept[r][b].covers_on(point, rotation.id)
                    ) + sum(
                        1
                        for e in layout.outside_kept
                        if e.covers(point)
                        and e.rotation_id == rotation.id
                        and (p := people.get(e.person_id)) is not None
                        and p.pgy in group.pgy
                    )
                    if kept in limits:
                        continue  # the second half counts as the first: one constraint
                    limits.add(kept)
                    if planned:
                        ym.model.add_linear_constraint(kept + sum(planned, start=0), group.min, group.max)
                    elif not group.min <= kept <= group.max:
                        ym.model.add_bool_or([])  # nobody here may take it: no plan (explained by counting)


def _bool_at_least(ym: YearModel, name: str, expr: LinearLike) -> LinearLike:
    """A Boolean forced to 1 when ``expr`` (a 0/1 sum) is positive; minimized it equals it."""
    if _is_const(expr):
        return 1 if int(expr) > 0 else 0
    flag = ym.model.new_bool_var(name)
    ym.model.add(flag >= expr)
    return flag


def _terms(ym: YearModel) -> None:
    layout = ym.layout
    model = ym.model
    terms: dict[str, LinearLike] = {}
    no_vacation = [k for k, rot in enumerate(layout.rotations) if not rot.vacation]

    vacation: list[LinearLike] = []
    beyond = 0
    for i, wish in enumerate(layout.vacation_wishes):
        if not wish.honourable:
            beyond += wish.weeks
            continue
        # A block's rotations not allowing vacation sum to 0 or 1 (one rotation a block; a kept
        # block is a constant): "missed >= that sum" for each block overlapped is exact.
        bad = [sum((ym.on(wish.person, b, k) for k in no_vacation), start=0) for b in wish.blocks]
        if any(not _is_const(x) for x in bad) and not any(_is_const(x) and x > 0 for x in bad):
            flag = model.new_bool_var(f"vac_{i}")
            for x in bad:
                if not _is_const(x):
                    model.add(flag >= x)
            vacation.append(wish.weeks * flag)
        else:
            vacation.append(wish.weeks * int(any(_is_const(x) and x > 0 for x in bad)))
    terms["vacation_request"] = sum(vacation, start=0)
    terms["vacation_beyond_allowance"] = beyond

    requests: list[LinearLike] = []
    for asked in layout.rotation_wishes:
        k = layout.rotation_index(asked.rotation_id)
        for b in asked.blocks:
            requests.append(1 - (ym.on(asked.person, b, k) if k is not None else 0))
    terms["rotation_request"] = sum(requests, start=0)

    limit = layout.program.rules.max_heavy_blocks_in_a_row
    runs: list[LinearLike] = []
    heavy_totals: dict[int, LinearLike] = {}
    holiday_totals: dict[int, LinearLike] = {}
    continuity: list[LinearLike] = []
    changes: list[LinearLike] = []
    for r, person in enumerate(layout.residents):
        history: list[LinearLike] = [int(h) for h in layout.history_heavy[r]]
        heavy = [ym.heavy(r, b) for b in range(layout.year_blocks)]
        sequence = history + heavy
        for end in range(len(history), len(sequence)):
            if end - limit < 0:
                continue
            window = sequence[end - limit : end + 1]
            if all(_is_const(w) for w in window):
                runs.append(1 if sum(int(w) for w in window) > limit else 0)
                continue
            excess = model.new_bool_var(f"run_{person.id}_{end}")
            model.add(excess >= sum(window, start=0) - limit)
            runs.append(excess)
        heavy_totals[r] = sum(heavy, start=0)
        holiday_totals[r] = sum((heavy[b] for b in sorted(layout.holiday_blocks)), start=0)
        last = layout.last_year_rotation[r]
        if last is not None and layout.year_blocks:
            k = layout.rotation_index(last)
            if k is not None:
                continuity.append(ym.on(r, 0, k))
        for b, rows in layout.published[r].items():
            k = layout.rotation_index(rows[0].rotation_id)
            if layout.options[r][b] is None or len(rows) != 1 or k is None:
                changes.append(1)
            else:
                changes.append(1 - ym.on(r, b, k))
    terms["heavy_run"] = sum(runs, start=0)
    terms["heavy_fairness"] = _spread(ym, "heavy", heavy_totals)
    terms["holiday_fairness"] = _spread(ym, "holiday", holiday_totals)
    terms["continuity"] = sum(continuity, start=0)
    terms["change"] = sum(changes, start=0)
    ym.terms = terms


def _spread(ym: YearModel, name: str, totals: dict[int, LinearLike]) -> LinearLike:
    """Sum over fairness groups of max - min of ``totals``, with exact max/min variables."""
    spreads: list[LinearLike] = []
    blocks = ym.layout.year_blocks
    for (pgy, present), members in sorted(ym.layout.fairness_groups().items()):
        if len(members) < 2:
            continue
        counts = []
        for r in members:
            count = ym.model.new_int_var(0, blocks, f"{name}_{ym.layout.residents[r].id}")
            ym.model.add(count == totals[r])
            counts.append(count)
        high = ym.model.new_int_var(0, blocks, f"{name}_max_{pgy}_{present}")
        low = ym.model.new_int_var(0, blocks, f"{name}_min_{pgy}_{present}")
        for count in counts:
            # Plain inequalities, which the linear relaxation keeps: minimized, high and low
            # are the max and min exactly.
            ym.model.add(high >= count)
            ym.model.add(low <= count)
        spreads.append(high - low)
    return sum(spreads, start=0)


def interchangeable_groups(layout: Layout) -> list[list[int]]:
    """Residents no rule or term tells apart: same PGY and credentials, no requests, no absences,
    the same kept, published and history rows (all but the person's id) and options."""
    program = layout.program
    asking = {q.person_id for q in program.requests}
    absent = {a.person_id for a in program.absences}
    groups: dict[object, list[int]] = {}
    for r, person in enumerate(layout.residents):
        if person.id in asking or person.id in absent:
            continue
        rows = tuple((e.start, e.end, e.rotation_id, e.locked) for e in program.plan_by_person.get(person.id, ()))
        key = (person.pgy, person.credentials, rows, tuple(layout.options[r]))
        groups.setdefault(key, []).append(r)
    return [members for members in groups.values() if len(members) > 1]


def _break_symmetry(ym: YearModel) -> None:
    """Order interchangeable residents by their first planned block's rotation index: any plan
    maps to one so ordered by permuting them, with the same cost, so the optimum is kept."""
    layout = ym.layout
    for members in interchangeable_groups(layout):
        r0 = members[0]
        first = next((b for b in range(layout.year_blocks) if layout.planned(r0, b)), None)
        if first is None:
            continue
        indices = []
        for r in members:
            options = layout.options[r][first] or ()
            indices.append(sum((k * ym.x[(r, first, k)] for k in options), start=0))
        for earlier, later in zip(indices, indices[1:], strict=False):
            ym.model.add(earlier <= later)


__all__ = ["FAMILIES", "FAMILY_WORDS", "YearModel", "build_model", "interchangeable_groups"]
