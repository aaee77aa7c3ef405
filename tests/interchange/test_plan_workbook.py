"""The plan in Excel: the Blocks sheet (coloured people x blocks, have/need, legend), read back."""

from __future__ import annotations

import io
from datetime import datetime

from openpyxl import load_workbook
from test_plan_view import BLOCKS, START, year_program

from rotaguard.domain import Schedule
from rotaguard.interchange.document_v2 import document_from, dump_document
from rotaguard.interchange.plan_view import AWAY_HEX, PLAN_ROW_FIELDS, plan_rows, rotation_palette
from rotaguard.interchange.workbook import export_workbook, plan_workbook


def read(data: bytes):
    return load_workbook(io.BytesIO(data))


def rgb(cell) -> str:
    """A solid fill's colour as ``#RRGGBB`` (openpyxl reads it back as ``00RRGGBB``)."""
    return "#" + cell.fill.fgColor.rgb[-6:]


def grid(sheet) -> tuple[list[str], dict[str, dict[str, object]]]:
    header = [cell.value for cell in sheet[1]]
    rows = {}
    for row in sheet.iter_rows(min_row=2):
        if row[0].value is None:
            break  # the legend starts after a blank row
        rows[row[0].value] = dict(zip(header, row, strict=True))
    return header, rows


def test_the_blocks_sheet_has_each_residents_rotation_in_its_colour():
    prog = year_program()
    palette = rotation_palette(prog)
    workbook = read(plan_workbook(prog))
    assert workbook.sheetnames == ["Blocks", "Plan rows"]
    header, rows = grid(workbook["Blocks"])
    assert header == [
        "id",
        "name",
        "pgy",
        "B1",
        "B2",
        "B3",
        "WARDS have/need",
        "ICU have/need",
        "AMB have/need",
    ]
    assert list(rows) == ["R1-01", "R1-02", "R2-01"]  # by PGY; faculty have no row
    r1 = rows["R1-01"]
    assert (r1["B1"].value, rgb(r1["B1"])) == ("WARDS", palette["WARDS"])
    assert (r1["B3"].value, rgb(r1["B3"])) == ("AMB", palette["AMB"])
    # Two half-blocks: both ids, the first's colour.
    assert (r1["B2"].value, rgb(r1["B2"])) == ("WARDS/ICU", palette["WARDS"])
    r2 = rows["R1-02"]
    assert (r2["B1"].value, rgb(r2["B1"])) == ("ICU", palette["ICU"])
    assert (r2["B2"].value, rgb(r2["B2"]), r2["B2"].font.italic) == ("away", AWAY_HEX, True)
    assert workbook["Blocks"]["B1"].comment is None and "2026-07-01" in workbook["Blocks"]["D1"].comment.text
    assert workbook["Blocks"].freeze_panes == "D2"


def test_the_blocks_sheet_counts_the_curriculum_and_marks_a_short_count():
    _, rows = grid(read(plan_workbook(year_program()))["Blocks"])
    short = rows["R1-01"]["WARDS have/need"]
    assert short.value == "1.5/2" and rgb(short) == "#FFC7CE"
    met = rows["R1-02"]["WARDS have/need"]
    assert met.value == "1/1-2" and met.fill.fill_type is None
    # PGY-2's curriculum has no WARDS or ICU: those cells are empty.
    assert rows["R2-01"]["WARDS have/need"].value is None and rows["R2-01"]["AMB have/need"].value == "3/3"


def test_the_blocks_sheet_has_a_legend_of_the_colours():
    prog = year_program()
    sheet = read(plan_workbook(prog))["Blocks"]
    column = [(cell.value, cell) for (cell,) in sheet.iter_rows(min_col=1, max_col=1)]
    at = next(index for index, (value, _) in enumerate(column) if value == "Legend")
    keys = column[at + 1 : at + 1 + len(prog.block_rotations)]
    assert [value for value, _ in keys] == ["WARDS", "ICU", "AMB"]
    assert [rgb(cell) for _, cell in keys] == list(rotation_palette(prog).values())
    assert sheet.cell(row=keys[0][1].row, column=2).value == "Inpatient wards"
    assert column[at + 1 + len(prog.block_rotations)][0] == "away"


def test_the_plan_rows_sheet_has_the_rows_as_typed_cells():
    prog = year_program()
    sheet = read(plan_workbook(prog))["Plan rows"]
    assert [cell.value for cell in sheet[1]] == list(PLAN_ROW_FIELDS)
    values = list(sheet.iter_rows(min_row=2, values_only=True))
    expected = plan_rows(prog)
    assert len(values) == len(expected)
    first = dict(zip(PLAN_ROW_FIELDS, values[0], strict=True))
    assert first["start"] == datetime.combine(START, datetime.min.time()) and sheet["E2"].is_date
    assert (first["person_id"], first["block"], first["rotation_id"], first["locked"]) == ("R1-01", 1, "WARDS", False)
    assert values[3][PLAN_ROW_FIELDS.index("locked")] is True


def test_the_schedule_export_adds_the_blocks_sheet_only_with_a_year_plan():
    prog = year_program()
    empty = Schedule(assignments=())
    with_plan = read(export_workbook(prog, empty, start=BLOCKS[0][0], end=BLOCKS[0][1]))
    assert with_plan.sheetnames == ["Grid", "Assignments", "Rotations", "Blocks"]
    _, rows = grid(with_plan["Blocks"])
    assert rows["R1-02"]["B1"].value == "ICU"
    for bare in (prog.model_copy(update={"plan": ()}), prog.model_copy(update={"year": None})):
        assert "Blocks" not in read(export_workbook(bare, empty, start=BLOCKS[0][0], end=BLOCKS[0][1])).sheetnames


def test_rotaguard_export_xlsx_of_a_stored_year_plan_has_the_blocks_sheet(cli, tmp_path):
    # The CLI's export reads the stored program: its plan and year must reach the sheet.
    prog = year_program()
    path = tmp_path / "program.json"
    path.write_text(dump_document(document_from(prog, Schedule(assignments=()), rule_overrides={})))
    assert (result := cli("program", "import", str(path))).code == 0, result.err
    out = tmp_path / "schedule.xlsx"
    start, end = (day.isoformat() for day in BLOCKS[0])
    assert (result := cli("export", "--start", start, "--end", end, "--format", "xlsx", "--out", str(out))).code == 0
    _, rows = grid(load_workbook(out)["Blocks"])
    assert [rows["R1-01"][f"B{n}"].value for n in (1, 2, 3)] == ["WARDS", "WARDS/ICU", "AMB"]
    assert rgb(rows["R1-02"]["B1"]) == rotation_palette(prog)["ICU"] and rows["R1-02"]["B2"].value == "away"
