"""Which blocks a plan may move: a block that has begun never (issue 21: "locked and past blocks
never moved"), at the boundary of its first day."""

from __future__ import annotations

import datetime as dt

from rotaguard.academic_year import year_mismatch
from year_plans import LABEL, YEAR, year_program


def test_a_block_that_begins_today_has_begun_and_is_never_replanned():
    program = year_program()
    block7 = next(b for b in program.year_blocks() if b.number == 7)
    assert year_mismatch(program, YEAR, 7, today=block7.start - dt.timedelta(days=1)) is None
    refused = year_mismatch(program, YEAR, 7, today=block7.start)
    assert refused == (
        f"block 7 of {LABEL} began on {block7.start} (today is {block7.start}): blocks begun are never moved; "
        f"re-plan from block 8 ({block7.end + dt.timedelta(days=1)}) on with --from-block 8"
    )


def test_a_year_whose_blocks_have_all_begun_cannot_be_planned():
    program = year_program()
    last = program.year_blocks()[-1]
    refused = year_mismatch(program, YEAR, 1, today=last.start)
    assert refused is not None and refused.endswith(f"every block of {LABEL} has begun")
    # The year planned before its first day: every block may move.
    assert year_mismatch(program, YEAR, 1, today=program.year_blocks()[0].start - dt.timedelta(days=1)) is None
