"""The schedule as an Excel workbook (openpyxl): a people-by-days grid and the export's long rows.

Sheets: "Grid" (one row per person with id, name, role and PGY, one column per day, each cell
the rotation(s) and slot(s) of that day; header row and those four columns frozen),
"Assignments" (the JSON/CSV export's rows with real date, datetime and number cells) and
"Rotations" (what the grid's rotation ids mean). Excel has no time zones: datetimes are the
program's wall clock, the zone is named in a note on the header and in the workbook's
properties, and ``hours`` is the time that really elapses (11 for a 12 h call across the spring
daylight-saving change).
"""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import date

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from rotaguard.domain import Program, Schedule, days_between
from rotaguard.interchange.export import ASSIGNMENT_FIELDS, assignment_records, export_people

GRID_SHEET, LONG_SHEET, ROTATIONS_SHEET = "Grid", "Assignments", "Rotations"
PERSON_COLUMNS = ("id", "name", "role", "pgy")
MAX_GRID_DAYS = 16384 - len(PERSON_COLUMNS)  # Excel's column limit

_BOLD = Font(bold=True)
_ABSENT = Font(italic=True, color="808080")
_HEADER_FILL = PatternFill("solid", fgColor="DDE3EA")
_WEEKEND_FILL = PatternFill("solid", fgColor="F2F2F2")


def export_workbook(program: Program, schedule: Schedule, *, start: date, end: date) -> bytes:
    """The ``.xlsx`` file's bytes for the assignments from ``start`` to ``end`` inclusive."""
    schedule = schedule.between(start, end)
    workbook = Workbook()
    workbook.properties.creator = "RotaGuard"
    workbook.properties.title = f"{program.name}: {start.isoformat()} to {end.isoformat()}"
    workbook.properties.description = f"Times are wall-clock times in {program.timezone}."
    _grid(workbook.active, program, schedule, start=start, end=end)
    _long(workbook.create_sheet(LONG_SHEET), program, schedule)
    _rotations(workbook.create_sheet(ROTATIONS_SHEET), program)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def grid_text(program: Program, assignments) -> str:
    """One grid cell: each rotation with its slots in the day's order, e.g. ``WARDS AM/PM, NIGHT CALL``."""
    # The program's shift order (v1: AM, PM, CALL), then by start on the day.
    order = {shift_id: index for index, shift_id in enumerate(program.shift_ids)}
    slots_by_rotation: dict[str, list[str]] = {}
    for assignment in sorted(assignments, key=lambda a: (order.get(a.slot, len(order)), a.slot)):
        slots_by_rotation.setdefault(assignment.rotation_id, []).append(assignment.slot)
    return ", ".join(f"{rotation} {'/'.join(slots)}" for rotation, slots in slots_by_rotation.items())


def _grid(sheet: Worksheet, program: Program, schedule: Schedule, *, start: date, end: date) -> None:
    sheet.title = GRID_SHEET
    days = list(days_between(start, end))
    by_person_day = defaultdict(list)
    for assignment in schedule.assignments:
        by_person_day[(assignment.person_id, assignment.date)].append(assignment)

    sheet.append([*PERSON_COLUMNS, *days])
    _style_header(sheet)
    for column, day in enumerate(days, start=len(PERSON_COLUMNS) + 1):
        cell = sheet.cell(row=1, column=column)
        cell.number_format = "ddd d mmm"
        if day.weekday() >= 5:
            cell.fill = _WEEKEND_FILL
    widths = [len(name) for name in PERSON_COLUMNS] + [len("Thu 12 Mar")] * len(days)
    people = export_people(program, schedule)
    for row, person in enumerate(people, start=2):
        values = [person.id, person.name, person.role.value, person.pgy]
        sheet.append(values)
        for index, value in enumerate(values):
            widths[index] = max(widths[index], len(str(value)) if value is not None else 0)
        for column, day in enumerate(days, start=len(PERSON_COLUMNS) + 1):
            cell = sheet.cell(row=row, column=column)
            if assignments := by_person_day.get((person.id, day)):
                cell.value = grid_text(program, assignments)
            elif absence := program.absent(person.id, day):
                cell.value = f"({absence.kind})"
                cell.font = _ABSENT
            if day.weekday() >= 5:
                cell.fill = _WEEKEND_FILL
            if cell.value is not None:
                widths[column - 1] = max(widths[column - 1], len(cell.value))
    sheet["A1"].comment = Comment(f"One row per person; one column per day ({program.timezone}).", "RotaGuard")
    sheet.freeze_panes = sheet.cell(row=2, column=len(PERSON_COLUMNS) + 1)
    _set_widths(sheet, widths, cap=40)


def _long(sheet: Worksheet, program: Program, schedule: Schedule) -> None:
    sheet.append(list(ASSIGNMENT_FIELDS))
    formats = {"date": "yyyy-mm-dd", "start": "yyyy-mm-dd hh:mm", "end": "yyyy-mm-dd hh:mm", "hours": "0.0#"}
    for record in assignment_records(program, schedule):
        # Excel cannot hold an offset: the program's wall clock, as the header note says.
        values = {**record, "start": record["start"].replace(tzinfo=None), "end": record["end"].replace(tzinfo=None)}
        sheet.append([values[field] for field in ASSIGNMENT_FIELDS])
        row = sheet.max_row
        for column, field in enumerate(ASSIGNMENT_FIELDS, start=1):
            if field in formats:
                sheet.cell(row=row, column=column).number_format = formats[field]
    _style_header(sheet)
    for field in ("start", "end"):
        column = ASSIGNMENT_FIELDS.index(field) + 1
        sheet.cell(row=1, column=column).comment = Comment(f"Wall-clock time in {program.timezone}.", "RotaGuard")
    hours_column = ASSIGNMENT_FIELDS.index("hours") + 1
    sheet.cell(row=1, column=hours_column).comment = Comment(
        "Hours that really elapse: 11 or 13 for a 12 h duty across a daylight-saving change.", "RotaGuard"
    )
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    longest_id = max((len(a.person_id) for a in schedule.assignments), default=0)
    longest_rotation = max((len(a.rotation_id) for a in schedule.assignments), default=0)
    _set_widths(sheet, [max(longest_id, 9), max(longest_rotation, 11), 10, 4, 16, 16, 5], cap=40)


def _rotations(sheet: Worksheet, program: Program) -> None:
    sheet.append(["id", "name", "kind", "slots", "hours"])
    widths = [2, 4, 7, 5, 5]
    for rotation in sorted(program.rotations, key=lambda r: r.id):
        values = [
            rotation.id,
            rotation.name,
            rotation.kind.value,
            "/".join(rotation.slots),
            _rotation_hours(program, rotation),
        ]
        sheet.append(values)
        widths = [max(width, len(str(value))) for width, value in zip(widths, values, strict=True)]
    _style_header(sheet)
    sheet.freeze_panes = "A2"
    _set_widths(sheet, widths, cap=50)


def _rotation_hours(program: Program, rotation) -> float | str:
    """A number when every slot lasts as long, else each slot's hours (``AM 6 / PM 5``)."""
    hours = {slot: program.hours_for(rotation.id, slot) for slot in rotation.slots}
    if len(set(hours.values())) == 1:
        return next(iter(hours.values()))
    return " / ".join(f"{slot} {value:g}" for slot, value in hours.items())


def _style_header(sheet: Worksheet) -> None:
    for cell in sheet[1]:
        cell.font = _BOLD
        cell.alignment = Alignment(horizontal="center")
        cell.fill = _HEADER_FILL


def _set_widths(sheet: Worksheet, widths: list[int], *, cap: int) -> None:
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = min(width, cap) + 2
