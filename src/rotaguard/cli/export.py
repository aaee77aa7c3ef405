"""``rotaguard export``: the assignments of a date range as rows, calendars or a workbook."""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from rotaguard.cli.common import (
    EndOption,
    StartOption,
    date_range,
    deliver,
    special_target,
    stored_program,
    write_files,
)
from rotaguard.cli.context import load_settings, open_database
from rotaguard.cli.output import JsonOption, console, emit_json
from rotaguard.domain import Program
from rotaguard.errors import InputError, Problem
from rotaguard.interchange.export import export_csv, export_json

if TYPE_CHECKING:
    from rotaguard.db import Database
    from rotaguard.domain import Schedule

commands = typer.Typer()


class ExportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    ICS = "ics"
    XLSX = "xlsx"


@commands.command("export")
def export(
    start: StartOption,
    end: EndOption,
    format: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            help="json or csv (rows); ics (a calendar per person plus program.ics; --out is a directory, "
            "without it program.ics is printed); xlsx (a workbook; needs --out FILE.xlsx).",
        ),
    ] = ExportFormat.JSON,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write here instead of stdout: a file, or for ics a directory.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Export the assignments of a date range: rows with their start, end and hours (ISO-8601),
    calendars for people (RFC 5545) or an Excel workbook (a people-by-days grid and the rows)."""
    from rotaguard.db import AssignmentRepository

    first, last = date_range(start, end)
    if format is ExportFormat.XLSX:
        from rotaguard.interchange.workbook import MAX_GRID_DAYS

        if out is None:
            raise InputError(
                "--out", [Problem("--out", "--format xlsx writes a binary workbook: give --out FILE.xlsx")]
            )
        if (last - first).days + 1 > MAX_GRID_DAYS:
            raise InputError(
                "--end", [Problem("--end", f"an xlsx grid holds at most {MAX_GRID_DAYS} days (Excel's column limit)")]
            )
    if out is not None:
        _check_export_out(out, directory=format is ExportFormat.ICS)
    database = open_database(load_settings())
    program, _ = stored_program(database)
    if format is ExportFormat.ICS:
        _export_calendars(program, database, first, last, out, json_output=json_output)
        return
    with database.read() as session:
        schedule = AssignmentRepository(session).schedule(start=first, end=last)
    count = len(schedule.assignments)
    if format is ExportFormat.XLSX:
        assert out is not None  # refused above without one
        _export_workbook(program, schedule, first, last, out, json_output=json_output)
        return
    if format is ExportFormat.JSON:
        text = json.dumps(export_json(program, schedule), indent=2) + "\n"
    else:
        text = export_csv(program, schedule)
    deliver(
        text, out, json_output=json_output, report={"assignments": count}, message=f"Wrote {out} ({count} assignments)."
    )


def _check_export_out(out: Path, *, directory: bool) -> None:
    """Refuse an --out that cannot take what the format writes, before anything is read or written."""

    def refuse(message: str) -> NoReturn:
        raise InputError("--out", [Problem("--out", message)])

    if not directory and (reason := special_target(out)) is not None:
        refuse(reason)

    try:
        if directory:
            if out.exists() and not out.is_dir():
                refuse(f"{out} is a file: --format ics writes <person-id>.ics and program.ics into a directory")
            if not out.exists() and out.suffix.lower() == ".ics":
                refuse(
                    f"{out} names a file: --format ics writes a directory of calendars (omit --out to print program.ics)"
                )
            nearest = out
        else:
            if out.is_dir():
                refuse(f"{out} is a directory: give a file name")
            nearest = out.parent
        while not nearest.exists():
            nearest = nearest.parent
    except OSError as exc:
        refuse(f"cannot use {out}: {exc.strerror or exc}")
    if not nearest.is_dir():
        refuse(f"cannot write {out}: {nearest} is not a directory")
    if not os.access(nearest, os.W_OK | os.X_OK):
        refuse(f"cannot write {out}: {nearest} is not writable")


def _export_calendars(
    program: Program, database: Database, first: date, last: date, out: Path | None, *, json_output: bool
) -> None:
    """--format ics: every person's calendar and program.ics into ``out``; or program.ics on stdout."""
    from datetime import UTC, datetime

    from rotaguard.interchange.ics import export_calendars, load_schedule_with_revisions, program_calendar

    schedule, revisions = load_schedule_with_revisions(database, start=first, end=last)
    now = datetime.now(UTC)
    if out is None:
        sys.stdout.write(
            program_calendar(program, schedule, start=first, end=last, now=now, revisions=revisions).decode("utf-8")
        )
        return
    files = export_calendars(program, schedule, start=first, end=last, now=now, revisions=revisions)
    paths = [out / file.name for file in files]
    write_files({path: file.content for path, file in zip(paths, files, strict=True)})
    events = len(schedule.assignments)
    if json_output:
        emit_json(
            {
                "ok": True,
                "format": "ics",
                "path": str(out),
                "paths": [str(path) for path in paths],
                "calendars": len(files),
                "people": len(files) - 1,
                "events": events,
                "assignments": events,
                "start": first.isoformat(),
                "end": last.isoformat(),
            }
        )
    else:
        console.print(f"Wrote {len(files) - 1} personal calendars and program.ics to {out} ({events} events).")


def _export_workbook(
    program: Program, schedule: Schedule, first: date, last: date, out: Path, *, json_output: bool
) -> None:
    """--format xlsx: the grid, the long rows and the rotations in one workbook at ``out``."""
    from rotaguard.interchange.export import export_people
    from rotaguard.interchange.workbook import export_workbook

    write_files({out: export_workbook(program, schedule, start=first, end=last)})
    people, days, count = len(export_people(program, schedule)), (last - first).days + 1, len(schedule.assignments)
    if json_output:
        emit_json(
            {
                "ok": True,
                "format": "xlsx",
                "path": str(out),
                "paths": [str(out)],
                "people": people,
                "days": days,
                "assignments": count,
                "start": first.isoformat(),
                "end": last.isoformat(),
            }
        )
    else:
        console.print(f"Wrote {out} ({people} people x {days} days, {count} assignments).")
