"""The schedule as an Excel workbook (openpyxl): a people-by-days grid and the export's long rows.

Sheets: "Grid" (one row per person with id, name, role and PGY, one column per day, each cell
the rotation(s) and slot(s) of that day; header row and those four columns frozen),
"Assignments" (the JSON/CSV export's rows with real date, datetime and number cells) and
"Rotations" (what the grid's rotation ids mean), and, when the program has a year plan, "Blocks"
(people x blocks of the year, each cell the rotation id filled with its ``rotation_palette``
colour, the curriculum's have/need per rotation, a legend). ``plan_workbook`` is the plan on its
own: "Blocks" and "Plan rows" (``plan_rows``). Excel has no time zones: datetimes are the
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
from rotaguard.interchange.plan_view import (
    AWAY,
    AWAY_HEX,
    PLAN_ROW_FIELDS,
    curriculum_counts,
    plan_cells,
    plan_residents,
    plan_rows,
    rotation_palette,
    text_colour,
)

GRID_SHEET, LONG_SHEET, ROTATIONS_SHEET = "Grid", "Assignments", "Rotations"
BLOCKS_SHEET, PLAN_ROWS_SHEET = "Blocks", "Plan rows"
BLOCK_PERSON_COLUMNS = ("id", "name", "pgy")
PERSON_COLUMNS = ("id", "name", "role", "pgy")
MAX_GRID_DAYS = 16384 - len(PERSON_COLUMNS)  # Excel's column limit

_BOLD = Font(bold=True)
_ABSENT = Font(italic=True, color="808080")
_HEADER_FILL = PatternFill("solid", fgColor="DDE3EA")
_WEEKEND_FILL = PatternFill("solid", fgColor="F2F2F2")
# Excel's own "Bad" cell style: a curriculum count short of or over its need.
_SHORT_FILL = PatternFill("solid", fgColor="FFC7CE")
_SHORT_FONT = Font(color="9C0006", bold=True)


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
    if has_year_plan(program):
        blocks_sheet(workbook.create_sheet(BLOCKS_SHEET), program)
    return _bytes(workbook)


def has_year_plan(program: Program) -> bool:
    """Whether the program has an academic year and plan rows: what the Blocks sheet shows."""
    return program.year is not None and bool(program.plan)


def plan_workbook(program: Program) -> bytes:
    """``rotaguard plan export --format xlsx``: the "Blocks" picture and the "Plan rows"."""
    workbook = Workbook()
    workbook.properties.creator = "RotaGuard"
    label = program.year.label if program.year is not None else "no academic year"
    workbook.properties.title = f"{program.name}: block schedule {label}"
    blocks_sheet(workbook.active, program)
    _plan_rows(workbook.create_sheet(PLAN_ROWS_SHEET), program)
    return _bytes(workbook)


def _bytes(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _fill(hex_colour: str) -> PatternFill:
    return PatternFill("solid", fgColor=hex_colour.lstrip("#").upper())


def blocks_sheet(sheet: Worksheet, program: Program) -> None:
    """People x blocks (residents by PGY, then id): each cell the rotation id (two half-blocks
    ``A/B``, filled with the first's colour), ``away`` for a block a leave covers entirely; then
    one have/need column per curriculum rotation (``4/4-5``, red when short or over); a legend
    below."""
    sheet.title = BLOCKS_SHEET
    blocks = program.year_blocks()
    palette = rotation_palette(program)
    cells = plan_cells(program)
    counts = curriculum_counts(program)
    residents = plan_residents(program)
    needed = {need.rotation for need in program.curriculum}
    curriculum_rotations = [r.id for r in program.block_rotations if r.id in needed]
    header = [
        *BLOCK_PERSON_COLUMNS,
        *(f"B{b.number}" for b in blocks),
        *(f"{rotation} have/need" for rotation in curriculum_rotations),
    ]
    sheet.append(header)
    _style_header(sheet)
    first_block_column = len(BLOCK_PERSON_COLUMNS) + 1
    for offset, block in enumerate(blocks):
        sheet.cell(row=1, column=first_block_column + offset).comment = Comment(
            f"Block {block.number}: {block.start.isoformat()} .. {block.end.isoformat()}", "RotaGuard"
        )
    widths = [len(str(value)) for value in header]
    for row, person in enumerate(residents, start=2):
        values: list[object] = [person.id, person.name, person.pgy]
        values += [cells[person.id][b.number].text for b in blocks]
        mine = counts[person.id]
        values += [mine[r].fraction if r in mine else None for r in curriculum_rotations]
        sheet.append(values)
        widths = [
            max(width, len(str(value)) if value is not None else 0) for width, value in zip(widths, values, strict=True)
        ]
        for offset, block in enumerate(blocks):
            cell = sheet.cell(row=row, column=first_block_column + offset)
            value = cells[person.id][block.number]
            cell.alignment = Alignment(horizontal="center")
            if value.rotations:
                colour = palette.get(value.rotations[0], AWAY_HEX)
                cell.fill = _fill(colour)
                cell.font = Font(color=text_colour(colour).lstrip("#"))
            elif value.away:
                cell.fill = _fill(AWAY_HEX)
                cell.font = _ABSENT
        for offset, rotation in enumerate(curriculum_rotations):
            if rotation in mine and not mine[rotation].met:
                cell = sheet.cell(row=row, column=first_block_column + len(blocks) + offset)
                cell.fill, cell.font = _SHORT_FILL, _SHORT_FONT
    legend_row = len(residents) + 3
    sheet.cell(row=legend_row, column=1, value="Legend").font = _BOLD
    for index, block_rotation in enumerate(program.block_rotations, start=1):
        colour = palette[block_rotation.id]
        key = sheet.cell(row=legend_row + index, column=1, value=block_rotation.id)
        key.fill, key.font = _fill(colour), Font(color=text_colour(colour).lstrip("#"))
        sheet.cell(row=legend_row + index, column=2, value=block_rotation.name)
    notes = legend_row + len(program.block_rotations) + 1
    away = sheet.cell(row=notes, column=1, value=AWAY)
    away.fill, away.font = _fill(AWAY_HEX), _ABSENT
    sheet.cell(row=notes, column=2, value="a leave covering the whole block (no plan row)")
    sheet.cell(
        row=notes + 1,
        column=2,
        value="have/need: blocks planned over the year / the curriculum's need, prorated for blocks away; "
        "red when short or over",
    )
    sheet.freeze_panes = sheet.cell(row=2, column=first_block_column)
    _set_widths(sheet, widths, cap=30)


def _plan_rows(sheet: Worksheet, program: Program) -> None:
    sheet.title = PLAN_ROWS_SHEET
    sheet.append(list(PLAN_ROW_FIELDS))
    date_columns = [PLAN_ROW_FIELDS.index(field) + 1 for field in ("start", "end")]
    # Rows counted here: ``sheet.max_row`` scans every cell, quadratic over a year's rows.
    for row, record in enumerate(plan_rows(program), start=2):
        sheet.append([record[field] for field in PLAN_ROW_FIELDS])
        for column in date_columns:
            sheet.cell(row=row, column=column).number_format = "yyyy-mm-dd"
    _style_header(sheet)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    _set_widths(sheet, [10, 20, 4, 6, 11, 11, 11, 20, 7, 7], cap=40)


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
