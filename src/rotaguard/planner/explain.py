"""Why a year plan cannot exist, in a coordinator's words with the numbers (docs/planner.md).

``counting_reasons`` counts before any solve: a resident's blocks against their curriculum, a
class's need for a rotation against what the rotation takes over the year, a block's capacity
minimums and maximums against the residents present and eligible. When CP-SAT proves a plan
impossible and counting finds nothing, ``relaxed_reason`` re-solves with one rule family left
out at a time and names the family whose removal makes a plan possible.
"""

from __future__ import annotations

from ortools.sat.python import cp_model

from rotaguard.domain import Capacity
from rotaguard.planner.layout import Layout, build_layout
from rotaguard.planner.model import FAMILIES, FAMILY_WORDS, build_model
from rotaguard.planner.problem import YearProblem


def _levels(pgy: tuple[int, ...]) -> str:
    return "PGY-" + "/".join(str(level) for level in pgy)


def _blocks(numbers: list[int]) -> str:
    """Block numbers as ranges: 7-9, 11."""
    parts: list[str] = []
    for n in sorted(numbers):
        if parts and parts[-1].split("-")[-1] == str(n - 1):
            head = parts[-1].split("-")[0]
            parts[-1] = f"{head}-{n}"
        else:
            parts.append(str(n))
    return ", ".join(parts)


def _kept_half_units(layout: Layout, r: int, rotation_id: str) -> int:
    return sum(layout.kept[r][b].half_units_on(rotation_id) for b in range(layout.year_blocks))


def _resident_reasons(layout: Layout) -> list[str]:
    found: list[str] = []
    for r, person in enumerate(layout.residents):
        planned = [b for b in range(layout.year_blocks) if layout.planned(r, b)]
        if not planned:
            continue
        stuck = [layout.blocks[b].number for b in planned if not layout.options[r][b]]
        if stuck:
            found.append(
                f"{person.id} (PGY-{person.pgy}) can take no rotation in block{'s' if len(stuck) > 1 else ''} "
                f"{_blocks(stuck)}: none admits their PGY level and credentials (and allows their approved vacation)"
            )
        need_total = 0
        for requirement in layout.requirements[r]:
            low, high = layout.bounds(r, requirement)
            kept = _kept_half_units(layout, r, requirement.rotation) / 2
            k = layout.rotation_index(requirement.rotation)
            possible = [b for b in planned if k is not None and k in (layout.options[r][b] or ())]
            need = max(0.0, low - kept)
            need_total += int(need)
            prorated = (
                f" (prorated for {layout.present[r]} of {layout.year_blocks} blocks present)"
                if layout.present[r] < layout.year_blocks
                else ""
            )
            if len(possible) < need:
                found.append(
                    f"{person.id} (PGY-{person.pgy}) needs {low} {requirement.rotation} blocks{prorated}"
                    + (f", {kept:g} kept," if kept else "")
                    + f" but can be on {requirement.rotation} in only {len(possible)} of the blocks left to plan"
                )
            if kept > high:
                found.append(
                    f"{person.id} (PGY-{person.pgy}) already has {kept:g} {requirement.rotation} blocks kept; "
                    f"the curriculum allows at most {high}"
                )
        if need_total > len(planned):
            found.append(
                f"{person.id} (PGY-{person.pgy}) needs {need_total} blocks by the curriculum's minimums but "
                f"only {len(planned)} blocks are left to plan for them"
            )
        # Every block present takes some rotation: the maximums must leave room.
        room = 0
        unlimited = False
        for k, rotation in enumerate(layout.rotations):
            if not any(k in (layout.options[r][b] or ()) for b in planned):
                continue
            limit = next((q for q in layout.requirements[r] if q.rotation == rotation.id), None)
            if limit is None:
                unlimited = True
                break
            _, high = layout.bounds(r, limit)
            room += max(0, int(high - _kept_half_units(layout, r, rotation.id) / 2))
        if not unlimited and not stuck and room < len(planned):
            found.append(
                f"{person.id} (PGY-{person.pgy}) has {len(planned)} blocks to plan but the curriculum's "
                f"maximums on the rotations open to them allow only {room}"
            )
    return found


def _kept_on(layout: Layout, b: int, rotation_id: str, group: Capacity) -> int:
    return sum(
        1
        for r, person in enumerate(layout.residents)
        if person.pgy in group.pgy and layout.kept[r][b].covers_on(layout.blocks[b].start, rotation_id)
    )


def _class_reasons(layout: Layout) -> list[str]:
    """A capacity group's need for its rotation over the year against what the rotation takes."""
    found: list[str] = []
    for k, rotation in enumerate(layout.rotations):
        for group in rotation.capacity:
            members = [r for r, p in enumerate(layout.residents) if p.pgy in group.pgy]
            need = 0
            prorated: list[str] = []
            for r in members:
                requirement = next((q for q in layout.requirements[r] if q.rotation == rotation.id), None)
                if requirement is None or not any(layout.planned(r, b) for b in range(layout.year_blocks)):
                    continue
                low, _ = layout.bounds(r, requirement)
                left = max(0, low - _kept_half_units(layout, r, rotation.id) // 2)
                need += left
                if layout.present[r] < layout.year_blocks:
                    prorated.append(f"{layout.residents[r].id} away {layout.year_blocks - layout.present[r]}")
            if need == 0:
                continue
            blocks = [b for b in range(layout.year_blocks) if any(layout.planned(r, b) for r in members)]
            seats = 0
            short: list[int] = []
            for b in blocks:
                free = max(0, group.max - _kept_on(layout, b, rotation.id, group))
                eligible = sum(1 for r in members if k in (layout.options[r][b] or ()))
                seats += min(free, eligible)
                if eligible < free:
                    short.append(b)
            if need > seats:
                levels = _levels(group.pgy)
                text = (
                    f"{levels} need {need} {rotation.id} blocks in total"
                    + (f" (prorated: {', '.join(prorated)} blocks)" if prorated else "")
                    + f"; {rotation.id} takes at most {group.max} {levels} per block x {len(blocks)} blocks "
                    f"= {group.max * len(blocks)}"
                )
                if seats < group.max * len(blocks):
                    away = sorted({layout.residents[r].id for r in members for b in short if b in layout.away[r]})
                    text += (
                        f", and only {seats} of those can be filled: in block{'s' if len(short) > 1 else ''} "
                        f"{_blocks([layout.blocks[b].number for b in short])} fewer eligible {levels} are present "
                        "than it takes" + (f" ({', '.join(away)} away)" if away else "")
                    )
                found.append(text)
    return found


def _block_reasons(layout: Layout) -> list[str]:
    """Each block's capacity minimums against the residents present and eligible, and the
    residents present against the room the rotations' maximums leave."""
    found: list[str] = []
    for b, block in enumerate(layout.blocks):
        planned = [r for r in range(len(layout.residents)) if layout.planned(r, b)]
        if not planned:
            continue
        for k, rotation in enumerate(layout.rotations):
            for group in rotation.capacity:
                kept = _kept_on(layout, b, rotation.id, group)
                eligible = sum(
                    1 for r in planned if layout.residents[r].pgy in group.pgy and k in (layout.options[r][b] or ())
                )
                if not any(layout.residents[r].pgy in group.pgy for r in planned):
                    continue  # no decision for the group here: the model leaves kept counts to compliance
                if kept + eligible < group.min:
                    found.append(
                        f"Block {block.number}: {rotation.id} needs at least {group.min} {_levels(group.pgy)} but "
                        f"only {kept + eligible} present can be on it"
                    )
                if kept > group.max:
                    found.append(
                        f"Block {block.number}: {kept} {_levels(group.pgy)} are kept on {rotation.id}; "
                        f"it takes at most {group.max}"
                    )
        # Residents of each capacity group's levels must all fit somewhere.
        level_sets = {group.pgy for rotation in layout.rotations for group in rotation.capacity}
        for levels in sorted(level_sets):
            who = [r for r in planned if layout.residents[r].pgy in levels]
            if not who:
                continue
            room = 0
            unlimited = False
            for k, rotation in enumerate(layout.rotations):
                if not any(k in (layout.options[r][b] or ()) for r in who):
                    continue
                groups = [g for g in rotation.capacity if set(g.pgy) & set(levels)]
                covered = set().union(*(set(g.pgy) for g in groups)) if groups else set()
                if not set(levels) <= covered:
                    unlimited = True
                    break
                room += sum(max(0, g.max - _kept_on(layout, b, rotation.id, g)) for g in groups)
            if not unlimited and room < len(who):
                found.append(
                    f"Block {block.number}: {len(who)} {_levels(levels)} residents are to be placed but the "
                    f"rotations open to them take at most {room}"
                )
    return found


def counting_reasons(layout: Layout) -> tuple[str, ...]:
    return tuple(_resident_reasons(layout) + _class_reasons(layout) + _block_reasons(layout))


def explain(problem: YearProblem) -> tuple[str, ...]:
    """Counting-based reasons no plan can exist, one sentence each; empty when counting finds
    none (a plan may still be impossible: ``plan_year`` then names the rule family)."""
    return counting_reasons(build_layout(problem))


def relaxed_reason(problem: YearProblem, *, seconds: float) -> str:
    """One sentence naming the rule families each of which, left out alone, makes a plan possible."""
    per_try = max(seconds / len(FAMILIES), 0.5)
    culprits = []
    for family in FAMILIES:
        relax = frozenset({family})
        ym = build_model(build_layout(problem, relax), relax, symmetry=False)
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = per_try
        solver.parameters.num_workers = 1
        if solver.solve(ym.model) in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            culprits.append(FAMILY_WORDS[family])
    if not culprits:
        return "No plan meets every rule, and leaving out any one rule family alone does not make one possible"
    if len(culprits) == 1:
        return f"No plan meets every rule: {culprits[0]} cannot hold with the other rules (without it a plan exists)"
    return (
        f"No plan meets every rule: {' and '.join(culprits)} cannot all hold together "
        "(leaving out any one of them makes a plan possible)"
    )


__all__ = ["counting_reasons", "explain", "relaxed_reason"]
