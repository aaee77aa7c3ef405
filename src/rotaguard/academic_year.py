"""Which academic year a program plans, and the days a plan from block K replaces: what the
`rotaguard plan` command checks before anything starts (without importing Prefect, which reads its
settings when imported) and the plan-year flow checks again under its lock."""

from __future__ import annotations

import datetime as dt

from rotaguard.domain import Program


def academic_year(program: Program) -> int | None:
    """The year an academic year is named by: the calendar year its first block starts in (2027 for
    2027-28); None without a year."""
    blocks = program.year_blocks()
    return blocks[0].start.year if blocks else None


def program_today(program: Program) -> dt.date:
    """Today on the program's wall clock: what decides which blocks have begun."""
    return dt.datetime.now(program.zone).date()


def year_mismatch(program: Program | None, year: int, from_block: int, today: dt.date | None = None) -> str | None:
    """Why ``year`` from block ``from_block`` cannot be planned for ``program`` (one line), or None.
    A block that has begun (its first day is ``today`` or earlier; by default today on the
    program's clock) is never moved: residents are on it already."""
    if program is None or not program.people:
        return "no program is stored: import one first"
    if program.year is None:
        return "the stored program has no academic year (its blocks): import one with a year first"
    held = academic_year(program)
    label = program.year.label
    if held != year:
        return f"the stored program's academic year is {held} ({label}), not {year}"
    blocks = len(program.year.blocks)
    if not 1 <= from_block <= blocks:
        return f"the year {label} has blocks 1..{blocks}; block {from_block} is not one of them"
    today = today or program_today(program)
    block = next(b for b in program.year_blocks() if b.number == from_block)
    if block.start <= today:
        later = next((b for b in program.year_blocks() if b.start > today), None)
        advice = (
            f"re-plan from block {later.number} ({later.start}) on with --from-block {later.number}"
            if later
            else f"every block of {label} has begun"
        )
        return f"block {from_block} of {label} began on {block.start} (today is {today}): blocks begun are never moved; {advice}"
    return None


def replan_range(program: Program, from_block: int) -> tuple[dt.date, dt.date]:
    """The days whose plan rows a plan from block ``from_block`` replaces: that block's first day to the
    year's last (rows start in the range to belong to it, as ``PlanRepository.replace_range`` has it)."""
    blocks = program.year_blocks()
    first = next(b for b in blocks if b.number == from_block)
    return first.start, blocks[-1].end
