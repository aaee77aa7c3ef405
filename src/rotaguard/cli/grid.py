"""``rotaguard grid``: the block as a coordinator reads it, one row per person."""

from __future__ import annotations

from typing import Annotated

import typer

from rotaguard.cli.common import EndOption, StartOption, date_range, stored_program
from rotaguard.cli.context import load_settings, open_database
from rotaguard.cli.output import JsonOption, console, emit_json
from rotaguard.errors import InputError, Problem

commands = typer.Typer()
# A year is the longest range a planner looks at; a grid beyond it is unreadable anyway.
MAX_GRID_DAYS = 366


@commands.command("grid")
def grid(
    start: StartOption,
    end: EndOption,
    person: Annotated[
        list[str] | None, typer.Option("--person", "-p", help="Only this person (repeat for more).")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Show the stored schedule as a grid: each person's rotation, then one character per day
    (D day, N night, X 24-hour call, c clinic, e didactics, v away, . free) and hours per week."""
    from rotaguard.db import AssignmentRepository
    from rotaguard.interchange.grid import block_grid, row_label

    first, last = date_range(start, end)
    if (last - first).days + 1 > MAX_GRID_DAYS:
        raise InputError("--end", [Problem("--end", f"a grid shows at most {MAX_GRID_DAYS} days")])
    database = open_database(load_settings())
    program, _ = stored_program(database)
    chosen = tuple(person or ())
    unknown = [p for p in chosen if p not in program.people_by_id]
    if unknown:
        raise InputError("--person", [Problem("--person", f"no such person: {', '.join(unknown)}")])
    with database.read() as session:
        schedule = AssignmentRepository(session).schedule(start=first, end=last)
    if json_output:
        rows = [
            {
                "person_id": p.id,
                "rotation": row_label(program, schedule, p.id, first, last),
                "duties": [
                    {"date": a.date.isoformat(), "shift": a.slot, "service_id": a.rotation_id}
                    for a in schedule.sorted().assignments
                    if a.person_id == p.id
                ],
            }
            for p in program.people
            if not chosen or p.id in chosen
        ]
        emit_json({"start": first.isoformat(), "end": last.isoformat(), "people": rows})
        return
    console.print(
        block_grid(program, schedule, first, last, people=chosen), markup=False, highlight=False, soft_wrap=True
    )
