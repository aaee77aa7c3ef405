"""The year as the planner sees it: residents x blocks, which cells are planned and which are kept,
the rotations each planned cell may take, and the constants kept rows contribute (docs/planner.md).

Pure data built once from a ``YearProblem``; the model (``model.py``), the counting explanation
(``explain.py``) and the independent term count (``objective.py``) all read the same layout, so
they agree on what a cell is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from rotaguard.domain import (
    VACATION_KIND,
    BlockDates,
    BlockRotation,
    CurriculumRequirement,
    Person,
    PlanEntry,
    Program,
    RequestKind,
    required_blocks,
)
from rotaguard.planner.problem import YearProblem

# A plan row this short is a half-block: as compliance's block_value (HALF_BLOCK_MAX_DAYS).
HALF_BLOCK_MAX_DAYS = 15


def half_units(row: PlanEntry) -> int:
    """A row's blocks in half-block units (a whole block is 2, a half-block 1), as compliance's
    ``block_value`` times two: CP-SAT counts in integers."""
    return 1 if row.days <= HALF_BLOCK_MAX_DAYS else 2


@dataclass(frozen=True)
class Kept:
    """The rows of one resident in one block that stay as they are (earlier blocks, locked rows)."""

    rows: tuple[PlanEntry, ...]

    def half_units_on(self, rotation_id: str) -> int:
        return sum(half_units(r) for r in self.rows if r.rotation_id == rotation_id)

    def on(self, rotation_id: str) -> bool:
        return any(r.rotation_id == rotation_id for r in self.rows)

    def covers_on(self, day: date, rotation_id: str) -> bool:
        return any(r.covers(day) and r.rotation_id == rotation_id for r in self.rows)


@dataclass(frozen=True)
class VacationWish:
    """A vacation request not yet approved, with the year's blocks it overlaps; ``honourable`` when
    it fits the person's allowance (approved vacations first, then requests by priority)."""

    person: int
    weeks: int
    blocks: tuple[int, ...]
    honourable: bool
    start: date
    end: date


@dataclass(frozen=True)
class RotationWish:
    person: int
    rotation_id: str
    blocks: tuple[int, ...]


@dataclass
class Layout:
    problem: YearProblem
    program: Program
    blocks: tuple[BlockDates, ...]
    first_planned: int  # index of the first block planned (from_block - 1)
    residents: tuple[Person, ...]
    rotations: tuple[BlockRotation, ...]
    # options[r][b]: rotation indices a planned cell may take; None: not planned (kept or away).
    options: list[list[tuple[int, ...] | None]]
    kept: list[list[Kept]]
    away: list[frozenset[int]]  # block indices away (no plan row)
    present: list[int]  # blocks present of the year
    history_heavy: list[tuple[bool, ...]]  # last year's final rows, oldest first: heavy or not
    last_year_rotation: list[str | None]
    published: list[dict[int, tuple[PlanEntry, ...]]]  # unlocked rows from first_planned on, by block
    vacation_wishes: tuple[VacationWish, ...]
    rotation_wishes: tuple[RotationWish, ...]
    holiday_blocks: frozenset[int]
    requirements: list[tuple[CurriculumRequirement, ...]]
    # Inactive people's kept rows and non-residents are outside the model; their locked rows
    # still count in a block's capacity.
    outside_kept: list[PlanEntry] = field(default_factory=list)

    @property
    def year_blocks(self) -> int:
        return len(self.blocks)

    def planned(self, r: int, b: int) -> bool:
        return self.options[r][b] is not None

    def rotation_index(self, rotation_id: str) -> int | None:
        return next((i for i, rot in enumerate(self.rotations) if rot.id == rotation_id), None)

    def bounds(self, r: int, requirement: CurriculumRequirement) -> tuple[int, int]:
        return required_blocks(requirement, self.present[r], self.year_blocks)

    def fairness_groups(self) -> dict[tuple[int, int], list[int]]:
        """Residents compared for fairness: one class (PGY) and the same number of blocks present
        (a resident on leave is not owed the heavy blocks of one who is not)."""
        groups: dict[tuple[int, int], list[int]] = {}
        for r, person in enumerate(self.residents):
            groups.setdefault((person.pgy or 0, self.present[r]), []).append(r)
        return groups


def components(layout: Layout) -> list[list[int]]:
    """Residents in groups no constraint or term links: PGY levels sharing a capacity group of
    some rotation plan together; every other rule and term is per resident or per class. Each
    group is solved on its own (the optimum of the whole is the sum of theirs)."""
    parent = {level: level for level in {p.pgy or 0 for p in layout.residents}}

    def root(level: int) -> int:
        while parent[level] != level:
            level = parent[level]
        return level

    for rotation in layout.rotations:
        for group in rotation.capacity:
            levels = [level for level in group.pgy if level in parent]
            for level in levels[1:]:
                parent[root(level)] = root(levels[0])
    found: dict[int, list[int]] = {}
    for r, person in enumerate(layout.residents):
        found.setdefault(root(person.pgy or 0), []).append(r)
    return [found[key] for key in sorted(found)]


def restrict(layout: Layout, members: list[int]) -> Layout:
    """The layout of ``members`` only (their indices renumbered 0..)."""
    new = {old: i for i, old in enumerate(members)}
    return Layout(
        problem=layout.problem,
        program=layout.program,
        blocks=layout.blocks,
        first_planned=layout.first_planned,
        residents=tuple(layout.residents[r] for r in members),
        rotations=layout.rotations,
        options=[layout.options[r] for r in members],
        kept=[layout.kept[r] for r in members],
        away=[layout.away[r] for r in members],
        present=[layout.present[r] for r in members],
        history_heavy=[layout.history_heavy[r] for r in members],
        last_year_rotation=[layout.last_year_rotation[r] for r in members],
        published=[layout.published[r] for r in members],
        vacation_wishes=tuple(replace(w, person=new[w.person]) for w in layout.vacation_wishes if w.person in new),
        rotation_wishes=tuple(replace(w, person=new[w.person]) for w in layout.rotation_wishes if w.person in new),
        holiday_blocks=layout.holiday_blocks,
        requirements=[layout.requirements[r] for r in members],
        outside_kept=layout.outside_kept,
    )


def _block_of(blocks: tuple[BlockDates, ...], day: date) -> int | None:
    return next((i for i, b in enumerate(blocks) if b.start <= day <= b.end), None)


def _overlapped(blocks: tuple[BlockDates, ...], start: date, end: date) -> tuple[int, ...]:
    return tuple(i for i, b in enumerate(blocks) if b.start <= end and b.end >= start)


def _weeks(start: date, end: date) -> int:
    return math.ceil(((end - start).days + 1) / 7)


def _history(program: Program, rows: tuple[PlanEntry, ...], year_start: date, depth: int) -> list[PlanEntry]:
    """The back-to-back rows ending the day before the year, newest last, at most ``depth``."""
    chain: list[PlanEntry] = []
    day = year_start - timedelta(days=1)
    while len(chain) < depth:
        row = next((r for r in rows if r.covers(day)), None)
        if row is None:
            break
        chain.insert(0, row)
        day = row.start - timedelta(days=1)
    return chain


def build_layout(problem: YearProblem, relax: frozenset[str] = frozenset()) -> Layout:
    """``relax`` drops rule families (``eligibility``, ``vacation``) from the cells' options: the
    explanation re-solves without a family to name the one that makes a plan impossible."""
    program = problem.program
    blocks = program.year_blocks()
    first = problem.from_block - 1
    year_start, year_end = blocks[0].start, blocks[-1].end
    residents = tuple(p for p in program.people if p.active and p.is_resident and p.pgy is not None)
    resident_ids = {p.id for p in residents}
    rotations = program.block_rotations
    depth = max(program.rules.max_heavy_blocks_in_a_row, 1)
    vacations = [a for a in program.absences if a.kind == VACATION_KIND]

    options: list[list[tuple[int, ...] | None]] = []
    kept: list[list[Kept]] = []
    away: list[frozenset[int]] = []
    present: list[int] = []
    history_heavy: list[tuple[bool, ...]] = []
    last_year: list[str | None] = []
    published: list[dict[int, tuple[PlanEntry, ...]]] = []
    for person in residents:
        rows = program.plan_by_person.get(person.id, ())
        away_numbers = program.away_blocks(person.id)
        gone = frozenset(i for i, b in enumerate(blocks) if b.number in away_numbers)
        by_block: dict[int, list[PlanEntry]] = {}
        for row in rows:
            if year_start <= row.start <= year_end:
                index = _block_of(blocks, row.start)
                if index is not None:
                    by_block.setdefault(index, []).append(row)
        person_options: list[tuple[int, ...] | None] = []
        person_kept: list[Kept] = []
        person_published: dict[int, tuple[PlanEntry, ...]] = {}
        for b, block in enumerate(blocks):
            in_block = tuple(by_block.get(b, ()))
            keep = b < first or any(r.locked for r in in_block)
            if keep:
                person_kept.append(Kept(in_block))
                person_options.append(None)
                continue
            person_kept.append(Kept(()))
            if in_block:
                person_published[b] = in_block
            if b in gone:
                person_options.append(None)
                continue
            on_vacation = any(
                a.person_id == person.id and a.start <= block.end and a.end >= block.start for a in vacations
            )
            person_options.append(
                tuple(
                    k
                    for k, rot in enumerate(rotations)
                    if "eligibility" in relax
                    or (person.pgy in rot.pgy and all(person.holds(c, block.start) for c in rot.credentials))
                    if "vacation" in relax or rot.vacation or not on_vacation
                )
            )
        options.append(person_options)
        kept.append(person_kept)
        away.append(gone)
        present.append(len(blocks) - len(gone))
        chain = _history(program, rows, year_start, depth)
        history_heavy.append(
            tuple(
                program.block_rotations_by_id[r.rotation_id].heavy
                for r in chain
                if r.rotation_id in program.block_rotations_by_id
            )
        )
        last_year.append(chain[-1].rotation_id if chain else None)
        published.append(person_published)

    index_of = {p.id: i for i, p in enumerate(residents)}
    allowance_weeks = program.rules.vacation_weeks_per_year
    wishes: list[VacationWish] = []
    for r, person in enumerate(residents):
        approved = [a for a in vacations if a.person_id == person.id and a.start <= year_end and a.end >= year_start]
        used = sum(_weeks(a.start, a.end) for a in approved)
        asked = sorted(
            (
                q
                for q in program.requests
                if q.person_id == person.id
                and q.kind is RequestKind.VACATION
                and q.start <= year_end
                and q.end >= year_start
                and not any(a.start <= q.end and a.end >= q.start for a in approved)
            ),
            key=lambda q: (q.priority, q.start),
        )
        for q in asked:
            weeks = _weeks(q.start, q.end)
            honourable = used + weeks <= allowance_weeks
            if honourable:
                used += weeks
            wishes.append(
                VacationWish(
                    person=r,
                    weeks=weeks,
                    blocks=tuple(b for b in _overlapped(blocks, q.start, q.end) if b not in away[r]),
                    honourable=honourable,
                    start=q.start,
                    end=q.end,
                )
            )
    rotation_wishes = tuple(
        RotationWish(
            person=index_of[q.person_id],
            rotation_id=q.rotation_id,
            blocks=tuple(b for b in _overlapped(blocks, q.start, q.end) if b not in away[index_of[q.person_id]]),
        )
        for q in program.requests
        if q.kind is RequestKind.ROTATION and q.person_id in index_of and q.rotation_id is not None
    )
    holiday_indices = (_block_of(blocks, h.date) for h in program.holidays)
    holiday_blocks = frozenset(i for i in holiday_indices if i is not None)
    requirements = [tuple(c for c in program.curriculum if c.pgy == p.pgy) for p in residents]
    outside = [
        e
        for e in program.plan
        if e.person_id not in resident_ids
        and year_start <= e.start <= year_end
        and (e.locked or (_block_of(blocks, e.start) or 0) < first)
    ]
    return Layout(
        problem=problem,
        program=program,
        blocks=blocks,
        first_planned=first,
        residents=residents,
        rotations=rotations,
        options=options,
        kept=kept,
        away=away,
        present=present,
        history_heavy=history_heavy,
        last_year_rotation=last_year,
        published=published,
        vacation_wishes=tuple(wishes),
        rotation_wishes=rotation_wishes,
        holiday_blocks=holiday_blocks,
        requirements=requirements,
        outside_kept=outside,
    )


__all__ = [
    "HALF_BLOCK_MAX_DAYS",
    "Kept",
    "Layout",
    "RotationWish",
    "VacationWish",
    "build_layout",
    "components",
    "half_units",
    "restrict",
]
