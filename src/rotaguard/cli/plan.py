"""``rotaguard plan``: the year's block schedule. ``plan --year 2027 [--from-block K]`` runs the gated
plan-year flow; ``plan show`` and ``plan export`` read the stored plan (read-only)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from rotaguard.cli.common import ApprovalTimeoutOption, YesOption, actor, special_target, stored_program, write_files
from rotaguard.cli.context import load_settings, open_database
from rotaguard.cli.gated import GatedFlow, run_gated_command
from rotaguard.cli.output import JsonOption, console, emit_json, table
from rotaguard.errors import InputError, Problem, RotaGuardError

if TYPE_CHECKING:
    from rotaguard.domain import Program
    from rotaguard.flows.plan_year import PlanOutcome, PlanYearParams

plan_app = typer.Typer(
    help="The year's block schedule: plan it (--year), show it, export it.",
    invoke_without_command=True,
    no_args_is_help=False,
)

DETERMINISTIC_HELP = "Interleave the planner's workers: the same plan on every run, several times slower."


class PlanFormat(StrEnum):
    XLSX = "xlsx"
    CSV = "csv"
    JSON = "json"


def _plan_flow() -> GatedFlow[PlanYearParams, PlanOutcome]:
    from rotaguard.flows.plan_year import PlanYearParams, plan_year

    return GatedFlow(plan_year, PlanYearParams)


def planner_progress_text(message: object) -> str:
    """One line of the planner's progress (its own sentence: the stage, objective, bound and time)."""
    return f"planning: {message}"


@contextmanager
def _planner_progress() -> Iterator[None]:
    """The live planner line on stderr while the plan runs."""
    from rotaguard.cli.progress import solver_progress_line
    from rotaguard.tasks.planning import PLANNER_PROGRESS

    with solver_progress_line(PLANNER_PROGRESS, describe=planner_progress_text):
        yield


def refuse_year(program: Program, year: int, from_block: int) -> None:
    """The year asked for is the stored program's, and the block one of its own (one line, exit 2)."""
    from rotaguard.academic_year import year_mismatch

    mismatch = year_mismatch(program, year, from_block)
    if mismatch:
        option = "--from-block" if "block" in mismatch and "is not one of them" in mismatch else "--year"
        raise InputError(option, [Problem(option, mismatch)])


@plan_app.callback()
def plan(
    context: typer.Context,
    year: Annotated[
        int | None, typer.Option(min=2000, max=2100, help="The academic year by its first year: 2027 for 2027-28.")
    ] = None,
    from_block: Annotated[
        int, typer.Option("--from-block", min=1, max=26, help="Re-plan from this block on; earlier blocks stay.")
    ] = 1,
    timeout: Annotated[int, typer.Option(min=5, max=3600, help="Planner time limit in seconds.")] = 60,
    deterministic: Annotated[bool, typer.Option(help=DETERMINISTIC_HELP)] = False,
    yes: YesOption = False,
    approval_timeout: ApprovalTimeoutOption = 3600,
    json_output: JsonOption = False,
) -> None:
    """Plan the academic year's rotations through the plan-year flow: lock, verified backup, health,
    the curriculum counted (an infeasible one is refused with the reason), approval, solve, one
    transaction, validation by the compliance engine, and the plan restored when it fails.
    Exit 0 only when the plan is published."""
    if context.invoked_subcommand is not None:
        return
    if year is None:
        raise InputError(
            "--year",
            [Problem("--year", "give the academic year to plan, e.g. --year 2027 (or a subcommand: show, export)")],
        )
    settings = load_settings()
    database = open_database(settings)
    program, _ = stored_program(database)
    refuse_year(program, year, from_block)  # before any backup or approval
    _, outcome = run_gated_command(
        settings=settings,
        database=database,
        program=program,
        subject="plan_year",
        what=f"planning {year}",
        yes=yes,
        load_flow=_plan_flow,
        values={
            "year": year,
            "from_block": from_block,
            "timeout_seconds": timeout,
            "deterministic": deterministic,
            "auto_approve_as": actor() if yes else None,
            "approval_timeout_seconds": approval_timeout,
        },
        question=lambda _: f"Publish a new plan for {year} from block {from_block} on?",
        while_running=_planner_progress,
    )
    if json_output:
        emit_json(outcome.model_dump(mode="json"))
    else:
        console.print(f"Plan {outcome.run_id}: [bold]{outcome.status}[/bold] {outcome.reason}".rstrip())
        if outcome.metrics:
            console.print(table("Metrics", ["metric", "value"], [[k, v] for k, v in outcome.metrics.items()]))
    if outcome.status != "published":
        raise RotaGuardError(f"not published: {outcome.status}: {outcome.reason}")


def _stored_plan() -> Program:
    program, _ = stored_program(open_database(load_settings()))
    if program.year is None:
        raise RotaGuardError("the stored program has no academic year: there is no year plan to show")
    return program


@plan_app.command("show")
def show(json_output: JsonOption = False) -> None:
    """Show the stored year plan: one row per resident, one cell per block (coloured by rotation at
    a terminal), then each resident's curriculum count (have / need). Read-only."""
    from rotaguard.interchange.plan_view import plan_grid_text, plan_json

    program = _stored_plan()
    if json_output:
        emit_json(plan_json(program))
        return
    sys.stdout.write(plan_grid_text(program, colour=sys.stdout.isatty()))


@plan_app.command("export")
def export(
    format: Annotated[PlanFormat, typer.Option("--format", help="xlsx (a workbook with a Blocks sheet), csv or json.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The file to write.")],
    json_output: JsonOption = False,
) -> None:
    """Write the stored year plan to a file: a workbook (the Blocks picture and the rows), or its rows
    as CSV or JSON (with the curriculum counts). Read-only."""
    from rotaguard.interchange.plan_view import plan_csv, plan_json
    from rotaguard.interchange.workbook import plan_workbook

    if (reason := special_target(out)) is not None or out.is_dir():
        raise InputError("--out", [Problem("--out", reason or f"{out} is a directory: give a file path")])
    program = _stored_plan()
    if format is PlanFormat.XLSX:
        data = plan_workbook(program)
    elif format is PlanFormat.CSV:
        data = plan_csv(program).encode()
    else:
        data = (json.dumps(plan_json(program), indent=2) + "\n").encode()
    write_files({out: data})
    rows = len(program.plan)
    if json_output:
        emit_json({"ok": True, "path": str(out), "format": format.value, "rows": rows})
    else:
        console.print(f"Wrote {out} ({rows} plan rows, {format.value}).")
