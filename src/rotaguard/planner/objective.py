"""The soft terms of the year plan: the one place they are listed (docs/planner.md).

``TERMS`` names each term, what one unit is and the ``PlanWeights`` field that prices it. The
model (``model.py``) builds each term's units as a CP-SAT expression; ``count_terms`` counts the
same units again on a finished plan, in plain Python, so a reported term is a count anyone can
redo, and the solver's objective is checked against it.
"""

from __future__ import annotations

from dataclasses import dataclass

from rotaguard.planner.layout import Layout
from rotaguard.planner.problem import PlanTerm, PlanWeights


@dataclass(frozen=True)
class Term:
    id: str
    title: str
    unit: str
    weight_field: str

    def weight(self, weights: PlanWeights) -> int:
        return int(getattr(weights, self.weight_field))


TERMS: tuple[Term, ...] = (
    Term(
        "vacation_request",
        "Vacation requests not on a rotation that allows vacation",
        "a week of a vacation request (not yet approved, within the allowance) whose block's rotation does not allow vacation",
        "vacation_request",
    ),
    Term(
        "vacation_beyond_allowance",
        "Vacation requests beyond the yearly allowance",
        "a week of a vacation request past rules.vacation_weeks_per_year (approved vacations first, then by priority); "
        "reported, not planned for",
        "vacation_beyond_allowance",
    ),
    Term(
        "rotation_request",
        "Rotation requests not met",
        "a requested block not on the rotation asked for",
        "rotation_request",
    ),
    Term(
        "heavy_run",
        "Heavy blocks beyond the most allowed in a row",
        "a heavy block ending a run longer than rules.max_heavy_blocks_in_a_row (last year's final blocks count)",
        "heavy_run",
    ),
    Term(
        "heavy_fairness",
        "Spread of heavy blocks within a class",
        "one heavy block of max - min among a class's residents present the same number of blocks",
        "heavy_fairness",
    ),
    Term(
        "holiday_fairness",
        "Spread of heavy holiday blocks within a class",
        "one heavy block containing a holiday, of max - min within a class (as heavy_fairness)",
        "holiday_fairness",
    ),
    Term(
        "continuity",
        "First block repeating last year's final rotation",
        "a resident whose first block of the year is the rotation of their last block of last year",
        "continuity",
    ),
    Term(
        "change",
        "Blocks changed against the published plan",
        "a block from from_block on whose published (unlocked) row is not what the new plan puts there",
        "change",
    ),
)
TERMS_BY_ID = {term.id: term for term in TERMS}


def rotation_in(layout: Layout, grid: list[list[str | None]], r: int, b: int) -> tuple[str, ...]:
    """The rotations resident ``r`` is on in block ``b``: the planned one, else the kept rows'."""
    planned = grid[r][b]
    if planned is not None:
        return (planned,)
    return tuple(row.rotation_id for row in layout.kept[r][b].rows)


def _heavy(layout: Layout, rotation_ids: tuple[str, ...]) -> bool:
    rotations = layout.program.block_rotations_by_id
    return bool(rotation_ids) and any(rotations[i].heavy for i in rotation_ids if i in rotations)


def _allows_vacation(layout: Layout, rotation_ids: tuple[str, ...]) -> bool:
    rotations = layout.program.block_rotations_by_id
    return all(rotations[i].vacation for i in rotation_ids if i in rotations)


def count_terms(layout: Layout, grid: list[list[str | None]]) -> dict[str, int]:
    """Each term's units on a plan: ``grid[r][b]`` is the planned rotation of a planned cell."""
    units = dict.fromkeys(TERMS_BY_ID, 0)
    for wish in layout.vacation_wishes:
        if not wish.honourable:
            units["vacation_beyond_allowance"] += wish.weeks
        elif any(not _allows_vacation(layout, rotation_in(layout, grid, wish.person, b)) for b in wish.blocks):
            units["vacation_request"] += wish.weeks
    for rotation_wish in layout.rotation_wishes:
        for b in rotation_wish.blocks:
            if rotation_wish.rotation_id not in rotation_in(layout, grid, rotation_wish.person, b):
                units["rotation_request"] += 1
    limit = layout.program.rules.max_heavy_blocks_in_a_row
    heavy_counts: dict[int, int] = {}
    holiday_counts: dict[int, int] = {}
    for r in range(len(layout.residents)):
        heavy = [_heavy(layout, rotation_in(layout, grid, r, b)) for b in range(layout.year_blocks)]
        history = list(layout.history_heavy[r])
        run = 0
        for h in history:
            run = run + 1 if h else 0
        for h in heavy:
            run = run + 1 if h else 0
            if run > limit:
                units["heavy_run"] += 1
        heavy_counts[r] = sum(heavy)
        holiday_counts[r] = sum(1 for b in layout.holiday_blocks if heavy[b])
        last = layout.last_year_rotation[r]
        if last is not None and last in rotation_in(layout, grid, r, 0):
            units["continuity"] += 1
        for b, rows in layout.published[r].items():
            now = grid[r][b]
            if now is None or len(rows) != 1 or rows[0].rotation_id != now:
                units["change"] += 1
    for members in layout.fairness_groups().values():
        if len(members) > 1:
            units["heavy_fairness"] += max(heavy_counts[r] for r in members) - min(heavy_counts[r] for r in members)
            units["holiday_fairness"] += max(holiday_counts[r] for r in members) - min(
                holiday_counts[r] for r in members
            )
    return units


def plan_terms(units: dict[str, int], weights: PlanWeights) -> tuple[PlanTerm, ...]:
    return tuple(PlanTerm(id=t.id, title=t.title, units=units[t.id], weight=t.weight(weights)) for t in TERMS)


__all__ = ["TERMS", "TERMS_BY_ID", "Term", "count_terms", "plan_terms", "rotation_in"]
