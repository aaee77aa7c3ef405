"""`rotaguard export --format xlsx`: a people-by-days grid and the JSON export's rows as typed cells."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from test_export_calendar import calendar_document, import_program, in_range, json_rows

from rotaguard.interchange.export import ASSIGNMENT_FIELDS

START, END = "2026-03-01", "2026-03-16"  # reaches into R1-01's vacation (15-20 March)
PERSON_COLUMNS = ["id", "name", "role", "pgy"]


def export_xlsx(cli, tmp_path, document):
    import_program(cli, tmp_path, document)
    out = tmp_path / "out" / "schedule.xlsx"
    result = cli("export", "--start", START, "--end", END, "--format", "xlsx", "--out", str(out))
    assert result.code == 0, result.err
    return load_workbook(out)


def expected_people(document: dict) -> list[dict]:
    assigned = {a["person_id"] for a in in_range(document, START, END)}
    return [p for p in document["people"] if p.get("active", True) or p["id"] in assigned]


def days() -> list[date]:
    first, last = date.fromisoformat(START), date.fromisoformat(END)
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def as_date(value) -> date:
    return value.date() if isinstance(value, datetime) else value


def test_grid_has_a_row_per_person_and_a_column_per_day(cli, tmp_path):
    document = calendar_document()
    workbook = export_xlsx(cli, tmp_path, document)
    assert workbook.sheetnames[:2] == ["Grid", "Assignments"]
    grid = workbook["Grid"]
    people = expected_people(document)
    assert grid.max_row == 1 + len(people)
    assert grid.max_column == len(PERSON_COLUMNS) + len(days())
    header = [cell.value for cell in grid[1]]
    assert header[: len(PERSON_COLUMNS)] == PERSON_COLUMNS
    assert [as_date(value) for value in header[len(PERSON_COLUMNS) :]] == days()
    assert all(cell.is_date for cell in grid[1][len(PERSON_COLUMNS) :])
    assert grid.freeze_panes == f"{get_column_letter(len(PERSON_COLUMNS) + 1)}2"

    rows = {row[0].value: row for row in grid.iter_rows(min_row=2)}
    assert set(rows) == {p["id"] for p in people}
    for person in people:
        assert [cell.value for cell in rows[person["id"]][: len(PERSON_COLUMNS)]] == [
            person["id"],
            person["name"],
            person["role"],
            person.get("pgy"),
        ]
    column_of = {day: index for index, day in enumerate(days(), start=len(PERSON_COLUMNS))}
    assignments = in_range(document, START, END)
    for a in assignments:
        text = rows[a["person_id"]][column_of[date.fromisoformat(a["date"])]].value
        assert a["rotation_id"] in text and a["slot"] in text, (a, text)
    # Two slots of one rotation on one day share a cell: R1-01 works WARDS AM and PM on 12 March.
    both = [a for a in assignments if a["person_id"] == "R1-01" and a["date"] == "2026-03-12"]
    assert {a["slot"] for a in both} == {"AM", "PM"} and {a["rotation_id"] for a in both} == {"WARDS"}
    assert rows["R1-01"][column_of[date(2026, 3, 12)]].value == "WARDS AM/PM"
    # A day with nothing assigned is empty; a day of absence says so.
    busy = {(a["person_id"], a["date"]) for a in assignments}
    absence = document["absences"][0]
    for day in days():
        cell = rows["F-01"][column_of[day]]
        assert (cell.value is None) == (("F-01", day.isoformat()) not in busy)
        if (
            absence["start"] <= day.isoformat() <= absence["end"]
            and (absence["person_id"], day.isoformat()) not in busy
        ):
            assert rows[absence["person_id"]][column_of[day]].value == f"({absence['kind']})"
    assert all(cell.value is None for cell in rows["R3-01"][len(PERSON_COLUMNS) :])


def test_grid_columns_are_wide_enough_to_read(cli, tmp_path):
    grid = export_xlsx(cli, tmp_path, calendar_document())["Grid"]
    for column in range(1, grid.max_column + 1):
        letter = get_column_letter(column)
        values = [
            cell.value
            for (cell,) in grid.iter_rows(min_col=column, max_col=column, min_row=2)
            if cell.value is not None
        ]
        longest = max((len(str(value)) for value in values), default=0)
        assert longest <= grid.column_dimensions[letter].width <= 50, (letter, values)
    assert grid.column_dimensions[get_column_letter(len(PERSON_COLUMNS) + 1)].width >= len("Sun 1 Mar")


def test_assignments_sheet_has_the_json_exports_rows_as_typed_cells(cli, tmp_path):
    document = calendar_document()
    workbook = export_xlsx(cli, tmp_path, document)
    expected = json_rows(cli, START, END)
    sheet = workbook["Assignments"]
    header = [cell.value for cell in sheet[1]]
    # The sheet keeps v1's columns, the JSON rows' first fields (the JSON adds v2's after them).
    assert header == list(expected[0])[: len(ASSIGNMENT_FIELDS)] == list(ASSIGNMENT_FIELDS)
    rows = list(sheet.iter_rows(min_row=2))
    assert len(rows) == len(expected) == len(in_range(document, START, END))
    for row, want in zip(rows, expected, strict=True):
        cells = dict(zip(header, row, strict=True))
        assert cells["person_id"].value == want["person_id"] and cells["rotation_id"].value == want["rotation_id"]
        assert cells["slot"].value == want["slot"]
        assert cells["date"].is_date and as_date(cells["date"].value) == date.fromisoformat(want["date"])
        for column in ("start", "end"):
            # Excel has no offsets: the program's wall clock.
            assert cells[column].is_date and cells[column].value == datetime.fromisoformat(want[column]).replace(
                tzinfo=None
            )
        assert cells["hours"].data_type == "n" and cells["hours"].value == want["hours"]
    assert sheet.freeze_panes == "A2"
    spring = next(r for r in expected if r["date"] == "2026-03-07" and r["slot"] == "CALL")
    assert spring["hours"] == 11  # the long sheet keeps the real length of the daylight-saving night
