"""A synthetic internal-medicine year stored in a test's database, and what the plan-year tests read
back: the plan's rows and digests by block range. Other areas may import these."""

from __future__ import annotations

import datetime as dt

from rotaguard.db import Database, PlanRepository, ProgramRepository
from rotaguard.domain import Program, Schedule
from rotaguard.interchange.document_v2 import document_from, dump_document, parse_v2
from rotaguard.interchange.importer import import_document
from rotaguard.interchange.profiles import default_year_start, synthesize_profile

# The academic year after the one in progress: none of its blocks has begun, so a plan may move any
# of them (a block that has begun is never moved: rotaguard.academic_year.year_mismatch).
YEAR = default_year_start(dt.date.today()).year + 1
LABEL = f"{YEAR}-{(YEAR + 1) % 100:02d}"
RESIDENTS = 24


def year_program(residents: int = RESIDENTS, **changes: object) -> Program:
    """The internal-medicine profile's program for ``YEAR`` (with its heuristic plan), changed as given."""
    program = synthesize_profile("internal-medicine", residents=residents, seed=1, start=dt.date(YEAR, 7, 1))
    return program.model_copy(update=changes) if changes else program


def store_program(database: Database, program: Program) -> None:
    """``program`` imported into ``database`` as `rotaguard program import` would."""
    text = dump_document(document_from(program, Schedule(assignments=()), rule_overrides={}))
    import_document(database, parse_v2(text), actor="test", source="year_plans")


def stored(database: Database) -> Program:
    with database.read() as session:
        program = ProgramRepository(session).load()
    assert program is not None
    return program


def block_span(program: Program, first: int, last: int) -> tuple[dt.date, dt.date]:
    blocks = {b.number: b for b in program.year_blocks()}
    return blocks[first].start, blocks[last].end


def plan_digest(database: Database, start: dt.date, end: dt.date) -> str:
    with database.read() as session:
        return PlanRepository(session).digest(start=start, end=end)


def plan_rows(database: Database) -> list[tuple]:
    with database.read() as session:
        return [(e.person_id, e.start, e.end, e.rotation_id, e.locked) for e in PlanRepository(session).rows()]


def save_unchecked(database: Database, program: Program) -> None:
    """``program`` saved as it is, without the import's document checks: a stored program the planner
    is the first to judge (its curriculum counted against the capacities)."""
    with database.write() as session:
        ProgramRepository(session).save(program=program, rule_overrides={})
