"""The plan as a picture: curriculum counts, the palette, the markdown and terminal grids, the rows."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, timedelta

from rotaguard.compliance import check_rule
from rotaguard.domain import (
    VACATION_KIND,
    Absence,
    AcademicYear,
    BlockDates,
    BlockRotation,
    CurriculumRequirement,
    Person,
    PlanEntry,
    Program,
    Role,
    Schedule,
)
from rotaguard.interchange.plan_view import (
    PALETTE,
    PLAN_ROW_FIELDS,
    CurriculumCount,
    curriculum_counts,
    plan_cells,
    plan_csv,
    plan_grid_markdown,
    plan_grid_text,
    plan_json,
    plan_rows,
    rotation_markers,
    rotation_palette,
)

START = date(2026, 7, 1)
BLOCKS = tuple((START + timedelta(days=28 * i), START + timedelta(days=28 * i + 27)) for i in range(3))
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def person(person_id: str, pgy: int, **overrides) -> Person:
    return Person(**{"id": person_id, "name": f"Resident {person_id}", "role": Role.RESIDENT, "pgy": pgy, **overrides})


def whole(person_id: str, rotation_id: str, block: int, **overrides) -> PlanEntry:
    first, last = BLOCKS[block]
    return PlanEntry(person_id=person_id, rotation_id=rotation_id, start=first, end=last, **overrides)


def half(person_id: str, rotation_id: str, block: int, which: int) -> PlanEntry:
    first = BLOCKS[block][0] + timedelta(days=14 * which)
    return PlanEntry(person_id=person_id, rotation_id=rotation_id, start=first, end=first + timedelta(days=13))


def year_program(**overrides) -> Program:
    """Three 28-day blocks; WARDS, ICU, AMB; R2-01 (PGY-2), R1-01 and R1-02 (PGY-1) and a faculty
    member. R1-01: WARDS, WARDS/ICU halves, AMB. R1-02: ICU, away (a leave), WARDS. R2-01: AMB x3.
    PGY-1 need WARDS 2 (1..2 max 2) and ICU 1..2; PGY-2 need AMB 3."""
    values = {
        "name": "Plan view program",
        "block_anchor": START,
        "block_rotations": (
            BlockRotation(id="WARDS", name="Inpatient wards", clinic=False, vacation=False),
            BlockRotation(id="ICU", name="Medical ICU", clinic=False, vacation=False),
            BlockRotation(id="AMB", name="Ambulatory"),
        ),
        "people": (
            person("R2-01", 2),
            person("R1-02", 1),
            person("R1-01", 1),
            Person(id="F-01", name="Faculty F-01", role=Role.FACULTY),
        ),
        "plan": (
            whole("R1-01", "WARDS", 0),
            half("R1-01", "WARDS", 1, 0),
            half("R1-01", "ICU", 1, 1),
            whole("R1-01", "AMB", 2, locked=True),
            whole("R1-02", "ICU", 0),
            whole("R1-02", "WARDS", 2),
            *(whole("R2-01", "AMB", b) for b in range(3)),
        ),
        "absences": (
            Absence(person_id="R1-02", start=BLOCKS[1][0], end=BLOCKS[1][1], kind="leave"),
            Absence(person_id="R2-01", start=BLOCKS[0][0], end=BLOCKS[0][0] + timedelta(days=13), kind=VACATION_KIND),
        ),
        "year": AcademicYear(
            label="2026-27 test",
            blocks=tuple(BlockDates(number=i + 1, start=first, end=last) for i, (first, last) in enumerate(BLOCKS)),
        ),
        "curriculum": (
            CurriculumRequirement(pgy=1, rotation="WARDS", min_blocks=2, max_blocks=2),
            CurriculumRequirement(pgy=1, rotation="ICU", min_blocks=1, max_blocks=2),
            CurriculumRequirement(pgy=2, rotation="AMB", min_blocks=3, max_blocks=3),
        ),
    }
    return Program(**{**values, **overrides})


# ------------------------------------------------------------------ counts


def test_curriculum_counts_count_half_blocks_as_halves_and_prorate_for_blocks_away():
    counts = curriculum_counts(year_program())
    assert list(counts) == ["R1-01", "R1-02", "R2-01"]  # residents only, by PGY then id
    assert counts["R1-01"] == {"WARDS": (1.5, 2, 2), "ICU": (0.5, 1, 2)}
    # R1-02 is away for one block of three: WARDS floor(2 x 2 / 3) = 1, ICU floor(2 / 3) = 0.
    assert counts["R1-02"] == {"WARDS": (1, 1, 2), "ICU": (1, 0, 2)}
    assert counts["R2-01"] == {"AMB": (3, 3, 3)}
    assert counts["R1-01"]["WARDS"].short and counts["R1-02"]["WARDS"].met and not counts["R2-01"]["AMB"].over


def test_a_count_over_its_maximum_is_over():
    count = CurriculumCount(2.5, 1, 2)
    assert count.over and not count.short and count.label("ICU") == "ICU 2.5/1-2"
    assert CurriculumCount(2, 2, 2).label("WARDS") == "WARDS 2/2"


def test_cells_hold_each_block_the_rows_rotations_or_away():
    cells = plan_cells(year_program())
    assert [cells["R1-01"][n].text for n in (1, 2, 3)] == ["WARDS", "WARDS/ICU", "AMB"]
    assert [cells["R1-02"][n].text for n in (1, 2, 3)] == ["ICU", "away", "WARDS"]
    # A vacation is not a block away: R2-01 is on AMB during it.
    assert cells["R2-01"][1].text == "AMB" and not cells["R2-01"][1].away


def test_a_block_without_a_row_and_not_away_is_not_planned():
    prog = year_program(plan=tuple(e for e in year_program().plan if e.person_id != "R2-01"))
    assert [plan_cells(prog)["R2-01"][n].text for n in (1, 2, 3)] == ["-", "-", "-"]
    assert curriculum_counts(prog)["R2-01"] == {"AMB": (0, 3, 3)}


# ------------------------------------------------------------------ palette


def test_the_palette_follows_the_order_of_the_block_rotations():
    prog = year_program()
    assert rotation_palette(prog) == {"WARDS": PALETTE[0][0], "ICU": PALETTE[1][0], "AMB": PALETTE[2][0]}
    reordered = prog.model_copy(update={"block_rotations": prog.block_rotations[::-1]})
    assert rotation_palette(reordered)["AMB"] == PALETTE[0][0]
    assert rotation_markers(prog) == {"WARDS": PALETTE[0][1], "ICU": PALETTE[1][1], "AMB": PALETTE[2][1]}


def test_the_palettes_colours_and_markers_are_distinct_hex_colours():
    colours = [hex_colour for hex_colour, _ in PALETTE]
    assert len(set(colours)) == len(colours) and len({marker for _, marker in PALETTE}) == len(PALETTE)
    assert all(re.fullmatch(r"#[0-9A-F]{6}", c) for c in colours)


# ------------------------------------------------------------------ markdown


def _markdown_rows(text: str) -> dict[str, list[str]]:
    rows = {}
    for line in text.splitlines():
        if line.startswith("| R"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            rows[cells[0]] = cells[1:]
    return rows


def test_the_markdown_grid_marks_each_cell_with_its_rotations_colour():
    prog = year_program()
    text = plan_grid_markdown(prog)
    marker = rotation_markers(prog)
    rows = _markdown_rows(text)
    assert rows["R1-01"][:3] == [
        f"{marker['WARDS']}WARDS",
        f"{marker['WARDS']}WARDS {marker['ICU']}ICU",
        f"{marker['AMB']}AMB",
    ]
    assert rows["R1-02"][1] == "_away_"
    # Grouped by PGY: the PGY-1 table, then the PGY-2 one.
    assert text.index("### PGY-1") < text.index("| R1-01") < text.index("| R1-02") < text.index("### PGY-2")
    assert text.index("### PGY-2") < text.index("| R2-01")
    assert "style=" not in text  # the Prefect UI strips inline styles


def test_the_markdown_grid_flags_a_short_count_and_has_a_legend():
    rows = _markdown_rows(plan_grid_markdown(year_program()))
    assert rows["R1-01"][-1] == "WARDS 1.5/2 ⚠ ICU 0.5/1-2 ⚠"
    assert rows["R1-02"][-1] == "WARDS 1/1-2 ICU 1/0-2"
    text = plan_grid_markdown(year_program())
    for rotation_id, name in (("WARDS", "Inpatient wards"), ("ICU", "Medical ICU"), ("AMB", "Ambulatory")):
        assert f"{rotation_markers(year_program())[rotation_id]} `{rotation_id}` {name}" in text
    assert "1 with a curriculum count short or over" in text


def test_without_a_year_there_is_nothing_to_draw():
    prog = year_program(year=None)
    assert "no academic year" in plan_grid_markdown(prog) and "no academic year" in plan_grid_text(prog, colour=False)


# ------------------------------------------------------------------ terminal


def test_the_plain_grid_is_aligned_text_without_escapes():
    text = plan_grid_text(year_program(), colour=False)
    assert "\x1b" not in text
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("person"))
    r1 = next(line for line in lines if line.startswith("R1-01"))
    r2 = next(line for line in lines if line.startswith("R1-02"))
    for block, cell in (("B2", "WARDS/ICU"), ("B3", "AMB")):
        assert r1.index(cell) == header.index(block)
    assert r2.index("away") == header.index("B2")
    assert r1.endswith("WARDS 1.5/2! ICU 0.5/1-2!") and r2.endswith("WARDS 1/1-2 ICU 1/0-2")
    assert lines.index("PGY-1") < lines.index(r1) < lines.index("PGY-2")


def test_the_colour_grid_paints_each_cell_its_rotations_background():
    prog = year_program()
    coloured = plan_grid_text(prog, colour=True)
    red, green, blue = (int(PALETTE[1][0][i : i + 2], 16) for i in (1, 3, 5))  # ICU
    r2 = next(line for line in coloured.splitlines() if line.startswith("R1-02"))
    assert re.search(rf"\x1b\[48;2;{red};{green};{blue}m(\x1b\[\d+m)?ICU", r2)
    # The same text once the escapes are taken out; an away block is painted grey.
    assert ANSI.sub("", coloured) == plan_grid_text(prog, colour=False)
    assert re.search(r"\x1b\[48;2;217;217;217m(\x1b\[\d+m)?away", r2)


# ------------------------------------------------------------------ rows


def test_plan_rows_are_the_plan_in_the_pictures_order_with_block_numbers():
    rows = plan_rows(year_program())
    assert [(r["person_id"], r["block"], r["rotation_id"]) for r in rows[:4]] == [
        ("R1-01", 1, "WARDS"),
        ("R1-01", 2, "WARDS"),
        ("R1-01", 2, "ICU"),
        ("R1-01", 3, "AMB"),
    ]
    assert set(rows[0]) == set(PLAN_ROW_FIELDS) and len(rows) == len(year_program().plan)
    locked = rows[3]
    assert (locked["name"], locked["pgy"], locked["start"], locked["end"]) == ("Resident R1-01", 1, *BLOCKS[2])
    assert (locked["rotation"], locked["locked"], locked["source"]) == ("Ambulatory", True, "import")


def test_csv_and_json_carry_the_same_rows_with_iso_dates():
    prog = year_program()
    parsed = list(csv.DictReader(io.StringIO(plan_csv(prog))))
    assert [r["person_id"] for r in parsed] == [r["person_id"] for r in plan_rows(prog)]
    assert parsed[2]["start"] == (BLOCKS[1][0] + timedelta(days=14)).isoformat() and parsed[2]["rotation_id"] == "ICU"
    document = json.loads(json.dumps(plan_json(prog)))
    assert document["year"] == "2026-27 test" and len(document["blocks"]) == 3
    assert document["rows"][0] == {**parsed[0], "pgy": 1, "block": 1, "locked": False}
    assert document["curriculum"]["R1-02"]["WARDS"] == {"have": 1.0, "need_min": 1, "need_max": 2}


def test_the_counts_flag_what_the_compliance_engine_finds():
    prog = year_program()
    counts = curriculum_counts(prog)
    flagged = {(p, r) for p, mine in counts.items() for r, count in mine.items() if not count.met}
    found = check_rule("curriculum.requirements", Schedule(assignments=()), prog, start=BLOCKS[0][0], end=BLOCKS[2][1])
    assert flagged == {(v.person_id, v.rotation_id) for v in found} == {("R1-01", "WARDS"), ("R1-01", "ICU")}
    assert {(v.person_id, v.rotation_id): v.limit for v in found} == {(p, r): counts[p][r].need_min for p, r in flagged}
