"""The schedule of a date range: ``validate`` and ``solve`` (read-only), and the gated writers
``generate``, ``assign`` and ``clear``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from rotaguard.cli.common import (
    ApprovalTimeoutOption,
    EndOption,
    StartOption,
    YesOption,
    actor,
    date_range,
    stored_program,
    write_file,
)
from rotaguard.cli.context import load_settings, open_database
from rotaguard.cli.gated import GatedFlow, run_gated_command
from rotaguard.cli.output import JsonOption, console, emit_json, table
from rotaguard.errors import InputError, Problem, RotaGuardError
from rotaguard.interchange.export import export_json

if TYPE_CHECKING:
    from rotaguard.compliance.model import Report
    from rotaguard.domain import Program
    from rotaguard.flows.bulk_assign import BulkAssignParams, WriteOutcome
    from rotaguard.flows.clear_assignments import ClearParams
    from rotaguard.flows.generate_schedule import GenerateOutcome, GenerateParams

commands = typer.Typer()


class Algorithm(StrEnum):
    """``rotaguard.solver.ALGORITHMS``, named here so that start-up does not import OR-Tools (a test
    holds the two equal)."""

    CP_SAT = "cp_sat"
    GREEDY = "greedy"


# docs/solver.md and BENCHMARKS.md: free-running workers by default (each proved level is the same
# on every run); interleaved ones repeat the very same schedule, at several times the time.
DETERMINISTIC_HELP = "Interleave the solver's workers: the same schedule on every run, several times slower."
AlgorithmOption = Annotated[Algorithm, typer.Option(help="The solver: CP-SAT, or the greedy baseline.")]


@commands.command()
def validate(
    start: StartOption,
    end: EndOption,
    resilience: Annotated[bool, typer.Option(help="Also compute N-1/N-2 resilience.")] = True,
    json_output: JsonOption = False,
) -> None:
    """Judge the stored schedule of a date range against every rule (read-only).

    Exit 0 with no Tier 1 violation, 1 with any, 2 on bad input.
    """
    from rotaguard.compliance import validate as judge
    from rotaguard.db import AssignmentRepository

    first, last = date_range(start, end)
    database = open_database(load_settings())
    program, _ = stored_program(database)
    reach = timedelta(days=program.rules.averaging_window_days)
    with database.read() as session:
        # Every window that touches the range reaches up to 27 days beyond it on either side.
        schedule = AssignmentRepository(session).schedule(start=first - reach, end=last + reach)
    report = judge(schedule, program, start=first, end=last, resilience=resilience)
    if json_output:
        emit_json(report.as_json())
    else:
        _print_report(report)
    if not report.publishable:
        raise RotaGuardError(
            f"{len(report.tier1)} Tier 1 violations in {first}..{last}: this schedule must not be published"
        )


def _print_report(report: Report) -> None:
    metrics = report.metrics
    console.print(
        f"[bold]{report.start}..{report.end}[/bold]: {metrics.tier1_violations} Tier 1 violations, "
        f"{metrics.tier2_warnings} Tier 2 warnings, {metrics.coverage_gaps} coverage gaps"
    )
    console.print(
        f"demand coverage {metrics.demand_coverage:.1%}, fill rate {metrics.fill_rate:.1%} "
        f"({metrics.filled_duties} of {metrics.expected_duties} expected duties), "
        f"N-1 {'ok' if metrics.n1_compliant else 'not checked' if metrics.n1_compliant is None else f'{metrics.n1_failures} failures'}"
    )
    for title, items in (("Tier 1 violations", report.tier1), ("Tier 2 warnings", report.tier2)):
        if items:
            console.print(table(title, ["rule", "message"], [[v.rule_id, v.message] for v in items]))
    if report.coverage_gaps:
        shown = report.coverage_gaps[:20]
        rows = [[g.message] for g in shown]
        if len(report.coverage_gaps) > len(shown):
            rows.append([f"... and {len(report.coverage_gaps) - len(shown)} more (use --json)"])
        console.print(table("Coverage gaps", ["gap"], rows))
    if report.resilience:
        console.print(table("Resilience gaps", ["gap"], [[g.message] for g in report.resilience]))


def refuse_greedy_on_a_plan(program: Program, algorithm: Algorithm) -> None:
    """The greedy baseline fills v1's pool; it cannot follow a rotation plan (one line, exit 2)."""
    if algorithm is Algorithm.GREEDY and program.has_plan_model:
        raise InputError(
            "--algorithm",
            [Problem("--algorithm", "the greedy solver cannot follow a rotation plan; use cp-sat (the default)")],
        )


@commands.command()
def solve(
    start: StartOption,
    end: EndOption,
    algorithm: AlgorithmOption = Algorithm.CP_SAT,
    timeout: Annotated[float, typer.Option(min=1, max=3600, help="Solver time limit in seconds.")] = 60.0,
    seed: Annotated[int, typer.Option(min=0, max=2**31 - 1, help="Random seed.")] = 0,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Solver threads.")] = 2,
    deterministic: Annotated[bool, typer.Option(help=DETERMINISTIC_HELP)] = False,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the schedule (export JSON shape) here.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Solve a date range and judge the result; writes nothing to the database."""
    from rotaguard.compliance import validate as judge
    from rotaguard.db import AssignmentRepository
    from rotaguard.solver import ScheduleProblem, SolverStatus, describe_level
    from rotaguard.solver import solve as run_solver

    first, last = date_range(start, end)
    if (last - first).days >= 366:
        raise InputError("--end", [Problem("--end", "a solve covers at most 366 days")])
    database = open_database(load_settings())
    program, _ = stored_program(database)
    refuse_greedy_on_a_plan(program, algorithm)
    reach = timedelta(days=program.rules.averaging_window_days)
    with database.read() as session:
        existing = AssignmentRepository(session).schedule(start=first - reach, end=last + reach)
    problem = ScheduleProblem(program=program, start=first, end=last, existing=existing)
    result = run_solver(
        problem,
        algorithm=algorithm.value,
        timeout_seconds=timeout,
        seed=seed,
        workers=workers,
        deterministic=deterministic,
    )
    report = judge(result.schedule, program, start=first, end=last, resilience=False)
    summary: dict[str, Any] = {
        "solver_status": result.status.value,
        "algorithm": result.algorithm,
        "objective": result.objective,
        "best_bound": result.best_bound,
        "gap": result.gap,
        "solve_seconds": round(result.wall_seconds, 3),
        "first_feasible_seconds": None
        if result.first_feasible_seconds is None
        else round(result.first_feasible_seconds, 3),
        "variables": result.variables,
        "constraints": result.constraints,
        "penalties": result.penalties,
        "levels": [level.model_dump() | {"proved": level.proved, "gap": level.gap} for level in result.levels],
        "shortfalls": list(result.shortfalls),
        "conflicts": [c.model_dump() for c in result.conflicts],
        "metrics": report.metrics.model_dump(mode="json", exclude={"people"}),
    }
    if out is not None and result.status in (SolverStatus.OPTIMAL, SolverStatus.FEASIBLE):
        write_file(json.dumps(export_json(program, result.schedule), indent=2) + "\n", out)
        summary["path"] = str(out)
    if json_output:
        emit_json(summary)
    else:
        console.print(
            f"{result.algorithm}: {result.status.value} in {result.wall_seconds:.2f} s; objective {result.objective}, "
            f"bound {result.best_bound}, gap {result.gap}; {report.metrics.tier1_violations} Tier 1 violations, "
            f"demand coverage {report.metrics.demand_coverage:.1%}"
        )
        for level in result.levels:
            console.print(f"  {describe_level(level)}")
        for sentence in result.shortfalls:
            console.print(f"  {sentence}")
        if out is not None and "path" in summary:
            console.print(f"Wrote {out} ({len(result.schedule.assignments)} assignments, history and locked included).")
    if result.status is SolverStatus.INFEASIBLE:
        raise RotaGuardError(f"no schedule satisfies every Tier 1 rule: {result.explanation}")
    if result.status is SolverStatus.UNKNOWN:
        raise RotaGuardError(f"no schedule found within {timeout:g} s: raise --timeout or try --algorithm greedy")
    if not report.publishable:
        raise RotaGuardError(f"the solved schedule breaks {len(report.tier1)} Tier 1 rules: {report.tier1[0].message}")


def _generate_flow() -> GatedFlow[GenerateParams, GenerateOutcome]:
    from rotaguard.flows.generate_schedule import GenerateParams, generate_schedule

    return GatedFlow(generate_schedule, GenerateParams)


@contextmanager
def _solver_progress() -> Iterator[None]:
    """The live solver line on stderr while the generation runs."""
    from rotaguard.cli.progress import solver_progress_line
    from rotaguard.tasks.generation import SOLVER_PROGRESS

    with solver_progress_line(SOLVER_PROGRESS):
        yield


@commands.command()
def generate(
    start: StartOption,
    end: EndOption,
    algorithm: AlgorithmOption = Algorithm.CP_SAT,
    timeout: Annotated[int, typer.Option(min=5, max=3600, help="Solver time limit in seconds.")] = 120,
    min_coverage: Annotated[float, typer.Option(min=0, max=1, help="Demand coverage needed to publish.")] = 0.8,
    require_n1: Annotated[bool, typer.Option(help="Publish only an N-1 compliant schedule.")] = False,
    deterministic: Annotated[bool, typer.Option(help=DETERMINISTIC_HELP)] = False,
    yes: YesOption = False,
    approval_timeout: ApprovalTimeoutOption = 3600,
    json_output: JsonOption = False,
) -> None:
    """Generate a range through the safe flow; exit 0 only when the schedule is published."""
    first, last = date_range(start, end)
    settings = load_settings()
    database = open_database(settings)
    program, _ = stored_program(database)
    refuse_greedy_on_a_plan(program, algorithm)  # before any backup or approval
    _, outcome = run_gated_command(
        settings=settings,
        database=database,
        program=program,
        subject="generate",
        what=f"generating {first}..{last}",
        yes=yes,
        load_flow=_generate_flow,
        values={
            "start": first,
            "end": last,
            "algorithm": algorithm.value,
            "timeout_seconds": timeout,
            "min_coverage": min_coverage,
            "require_n1": require_n1,
            "deterministic": deterministic,
            "auto_approve_as": actor() if yes else None,
            "approval_timeout_seconds": approval_timeout,
        },
        question=lambda _: f"Publish a new schedule for {first}..{last}?",
        while_running=_solver_progress,
    )
    if json_output:
        emit_json(outcome.model_dump(mode="json"))
    else:
        console.print(f"Generation {outcome.run_id}: [bold]{outcome.status}[/bold] {outcome.reason}".rstrip())
        if outcome.metrics:
            console.print(table("Metrics", ["metric", "value"], [[k, v] for k, v in outcome.metrics.items()]))
    if outcome.status != "published":
        raise RotaGuardError(f"not published: {outcome.status}: {outcome.reason}")


def _print_outcome(outcome: WriteOutcome, json_output: bool, *, success: str, message: str) -> None:
    if json_output:
        emit_json({"ok": outcome.status == success, **outcome.model_dump(mode="json")})
    elif outcome.status == success:
        console.print(message)
        if outcome.counts:
            console.print(table("Counts", ["count", "value"], [[k, v] for k, v in outcome.counts.items()]))
    if outcome.status != success:
        raise RotaGuardError(f"not {success}: {outcome.status}: {outcome.reason}")


def _bulk_assign_flow() -> GatedFlow[BulkAssignParams, WriteOutcome]:
    from rotaguard.flows.bulk_assign import BulkAssignParams, bulk_assign

    return GatedFlow(bulk_assign, BulkAssignParams)


@commands.command()
def assign(
    file: Annotated[
        Path, typer.Option("--file", help="A JSON or CSV file of assignments: person, date, slot, rotation[, locked].")
    ],
    yes: YesOption = False,
    approval_timeout: ApprovalTimeoutOption = 3600,
    json_output: JsonOption = False,
) -> None:
    """Load assignments prepared elsewhere through the bulk-assign flow: every row is checked first (all
    problems listed, nothing written), then lock, verified backup, approval, one-transaction write,
    validation, and the range restored when validation fails. Exit 0 only when published."""
    from rotaguard.interchange.assignments import check_against_program, read_assignment_file

    settings = load_settings()
    database = open_database(settings)
    program, _ = stored_program(database)
    # Every problem in the file, with its line or JSON path, before any flow runs: its shape, then
    # against the program (people, rotations, absences, eligibility).
    entries = read_assignment_file(file)
    problems = check_against_program(entries, program)
    if problems:
        raise InputError(str(file), problems)
    _, outcome = run_gated_command(
        settings=settings,
        database=database,
        program=program,
        subject="bulk_assign",
        what=f"loading {file}",
        yes=yes,
        load_flow=_bulk_assign_flow,
        values={
            "path": str(file.resolve()),
            "actor": actor(),
            "auto_approve_as": actor() if yes else None,
            "approval_timeout_seconds": approval_timeout,
        },
        question=lambda _: f"Write the assignments of {file.name}?",
    )
    _print_outcome(
        outcome,
        json_output,
        success="published",
        message=f"Assignments of {file.name} published (run {outcome.run_id}, backup {outcome.backup_id}).",
    )


def _clear_flow() -> GatedFlow[ClearParams, WriteOutcome]:
    from rotaguard.flows.clear_assignments import ClearParams, clear_assignments

    return GatedFlow(clear_assignments, ClearParams)


def _typed_confirmation(params: ClearParams, approve: bool) -> dict[str, Any]:
    """The confirmation form's answer at the terminal: approving means typing the range."""
    typed = typer.prompt(f"Type the range to confirm ({params.range_text})", default="") if approve else ""
    return {
        "approve": approve,
        "approver": actor(),
        "typed_range": typed.strip() or "0000-00-00..0000-00-00",
        "comment": "answered at the terminal",
    }


@commands.command()
def clear(
    start: StartOption,
    end: EndOption,
    people: Annotated[list[str] | None, typer.Option("--people", help="Only these people (repeat the option).")] = None,
    include_locked: Annotated[bool, typer.Option("--include-locked", help="Also delete locked assignments.")] = False,
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm as the invoking user instead of pausing (needs --confirm).")
    ] = False,
    confirm: Annotated[str | None, typer.Option(help="With --yes: the range typed exactly, START..END.")] = None,
    approval_timeout: Annotated[
        int, typer.Option(min=10, max=604800, help="Seconds to wait for the confirmation.")
    ] = 3600,
    json_output: JsonOption = False,
) -> None:
    """CRITICAL: delete the unlocked assignments of a range through the clear-assignments flow: verified
    backup, then a confirmation showing what is deleted per person and rotation, where the range must be
    typed; one transaction; audited with the counts and the backup id. Exit 0 only when cleared."""
    first, last = date_range(start, end)
    settings = load_settings()
    database = open_database(settings)
    program, _ = stored_program(database)
    if yes and confirm is None:
        raise InputError(
            "--confirm", [Problem("--confirm", f"--yes needs --confirm {first}..{last} (the range typed exactly)")]
        )
    # Named before any backup is taken: clearing nobody's assignments is a typo, not a request.
    unknown = sorted({p for p in people or () if p not in program.people_by_id})
    if unknown:
        raise InputError("--people", [Problem("--people", f"no such person in the program: {', '.join(unknown)}")])
    params, outcome = run_gated_command(
        settings=settings,
        database=database,
        program=program,
        subject="clear_range",
        what=f"clearing {first}..{last}",
        yes=yes,
        load_flow=_clear_flow,
        values={
            "start": first,
            "end": last,
            "people": people or None,
            "include_locked": include_locked,
            "confirm_range_as": actor() if yes else None,
            "confirmation": confirm if yes else None,
            "approval_timeout_seconds": approval_timeout,
        },
        question=lambda params: f"Delete these assignments of {params.range_text}?",
        answer=_typed_confirmation,
    )
    _print_outcome(
        outcome,
        json_output,
        success="cleared",
        message=f"Cleared {outcome.counts.get('deleted', 0)} assignments of {params.range_text} (backup {outcome.backup_id}).",
    )
