"""``rotaguard program``: import, export, show, synthesise and describe whole program documents."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from rotaguard.cli.common import OutOption, actor, authorize, deliver, parse_date, stored_program
from rotaguard.cli.context import load_settings, open_database, require_current_schema
from rotaguard.cli.output import JsonOption, console, emit_json, table
from rotaguard.domain import BLOCK_DAYS, Program, Role, Rotation, Schedule
from rotaguard.errors import RotaGuardError
from rotaguard.interchange import document_v2
from rotaguard.interchange.document import dump_document, json_schema, read_document
from rotaguard.interchange.importer import check_against_stored, export_document, import_document
from rotaguard.interchange.profiles import Profile
from rotaguard.interchange.synth import next_block_start, synthesize

if TYPE_CHECKING:
    from rotaguard.backups import Manifest
    from rotaguard.db import Database
    from rotaguard.settings import Settings

program_app = typer.Typer(help="Import, export and synthesise whole program documents.", no_args_is_help=True)


def _backup_before(settings: Settings, database: Database, operation_id: str) -> Manifest | None:
    """What a MEDIUM operation without a flow needs before it writes: a verified backup under 2 hours
    old (reused, or taken now). A database whose schedule tables are all empty has nothing to lose."""
    from sqlalchemy import func, select

    from rotaguard.backups import BackupError, BackupStore
    from rotaguard.db.tables import Base
    from rotaguard.operations import SCHEDULE_TABLES, operation

    requirements = operation(operation_id).requirements
    with database.read() as session:
        holds = any(
            session.scalar(select(func.count()).select_from(Base.metadata.tables[name])) for name in SCHEDULE_TABLES
        )
    if not holds or requirements.verified_backup_max_age is None:
        return None
    store = BackupStore(
        database=database,
        directory=settings.resolved_backup_dir,
        retention_days=settings.backup_retention_days,
        min_keep=settings.backup_min_keep,
    )
    try:
        return store.ensure_recent(
            label=f"pre-op:{operation_id.replace('_', '-')}", max_age=requirements.verified_backup_max_age
        )
    except BackupError as error:
        raise RotaGuardError(f"no verified backup, so nothing was written: {error}") from None


@program_app.command("import")
def program_import(
    file: Annotated[Path, typer.Argument(help="A rotaguard-program/2 (or /1) JSON document.")],
    json_output: JsonOption = False,
) -> None:
    """Check a program document completely, then add and update it in one transaction."""
    from rotaguard.db.locks import SCHEDULE_WRITES, LockLease

    document = read_document(file)
    settings = load_settings()
    database = open_database(settings)
    require_current_schema(database)
    authorize(database, "import_program")
    with LockLease(database, name=SCHEDULE_WRITES, holder=f"import-{os.getpid()}", wait_seconds=30) as lease:
        if not lease.held:
            raise RotaGuardError(
                "a schedule write is in progress: the import waits for the schedule-writes lock; try again later"
            )
        # Whether the document contradicts what is stored is known before anything is written (the backup included).
        check_against_stored(database, document, source=str(file))
        _backup_before(settings, database, "import_program")
        result = import_document(database, document, actor=actor(), source=file.name)
    warnings = document.warnings()
    for warning in warnings:
        sys.stderr.write(f"rotaguard: warning: {warning}\n")
    if json_output:
        emit_json(
            {
                "ok": True,
                "file": str(file),
                "changes": result.as_dict(),
                "warnings": [{"path": w.path, "message": w.message} for w in warnings],
            }
        )
        return
    console.print(f"Imported {file}:")
    for name, counts in result.as_dict().items():
        console.print(
            f"  {name:<12} {counts['created']} new, {counts['updated']} updated, {counts['unchanged']} unchanged"
        )


@program_app.command("export")
def program_export(out: OutOption = None, json_output: JsonOption = False) -> None:
    """Write the stored program (with its plan and every duty) as a rotaguard-program/2 document."""
    database = open_database(load_settings())
    require_current_schema(database)
    document = export_document(database)
    if document is None:
        raise RotaGuardError("no program has been imported yet: run `rotaguard program import FILE`")
    counts = {"people": len(document.people), "assignments": len(document.duties), "plan": len(document.plan)}
    message = f"Wrote {out} ({counts['people']} people, {counts['plan']} plan rows, {counts['assignments']} duties)."
    deliver(document_v2.dump_document(document), out, json_output=json_output, report=counts, message=message)


def _residents_text(service: Rotation) -> str:
    """``4-6`` for v1's one staffing; ``PGY-1 2-4, PGY-2/3 1-3`` for coverage by PGY group."""
    if not service.coverage:
        return f"{service.residents.min}-{service.residents.max}"
    groups = dict.fromkeys(
        f"PGY-{'/'.join(str(level) for level in group.pgy)} {group.min}-{group.max}"
        for entry in service.coverage
        for group in entry.residents
    )
    return ", ".join(groups) or "0-0"


def _faculty_text(service: Rotation) -> str:
    if not service.coverage:
        return f"{service.faculty.min}-{service.faculty.max}"
    return ", ".join(dict.fromkeys(f"{e.faculty.min}-{e.faculty.max}" for e in service.coverage))


def _summary(program: Program, assignment_count: int) -> dict[str, Any]:
    residents = [p for p in program.people if p.role is Role.RESIDENT]
    pgy = Counter(p.pgy for p in residents if p.pgy is not None)  # every resident has one: the test is for the types
    return {
        "name": program.name,
        "timezone": program.timezone,
        "residents": len(residents),
        "residents_by_pgy": {f"PGY-{level}": pgy[level] for level in sorted(pgy)},
        "faculty": len(program.people) - len(residents),
        "rotations": [
            {
                "id": r.id,
                "kind": r.kind.value,
                "slots": list(r.slots),
                "days": len(r.days),
                "residents": _residents_text(r),
                "faculty": _faculty_text(r),
                "supervised": r.supervised,
            }
            for r in program.rotations
        ],
        "shift_types": list(program.shift_ids),
        "block_rotations": [r.id for r in program.block_rotations],
        "plan_rows": len(program.plan),
        "absences": len(program.absences),
        "assignments": assignment_count,
        "person_half_days_per_block": len(program.people) * BLOCK_DAYS * 2,
        "rules": program.rules.model_dump(),
    }


def _print_summary(summary: dict[str, Any]) -> None:
    pgy = ", ".join(f"{k} {v}" for k, v in summary["residents_by_pgy"].items())
    console.print(f"[bold]{summary['name']}[/bold] ({summary['timezone']})")
    console.print(
        f"{summary['residents']} residents ({pgy}), {summary['faculty']} faculty; "
        f"{summary['absences']} absences; {summary['assignments']} assignments; "
        f"{summary['person_half_days_per_block']:,} person half-days per 28-day block"
    )
    rows = [
        [
            r["id"],
            r["kind"],
            "/".join(r["slots"]),
            r["days"],
            r["residents"],
            r["faculty"],
            "yes" if r["supervised"] else "no",
        ]
        for r in summary["rotations"]
    ]
    console.print(table("Rotations", ["id", "kind", "slots", "days/wk", "residents", "faculty", "supervised"], rows))


@program_app.command("show")
def program_show(json_output: JsonOption = False) -> None:
    """Summarise the stored program: people, rotations, absences, assignments and rules."""
    from rotaguard.db import AssignmentRepository

    database = open_database(load_settings())
    program, _ = stored_program(database)
    with database.read() as session:
        assignment_count = AssignmentRepository(session).count()
    summary = _summary(program, assignment_count)
    if json_output:
        emit_json(summary)
    else:
        _print_summary(summary)


@program_app.command("synth")
def program_synth(
    profile: Annotated[
        Profile, typer.Option(help="minimal: one block, v1 pool model; the others: a whole v2 academic year.")
    ] = Profile.MINIMAL,
    residents: Annotated[
        int | None, typer.Option(help="Number of residents (PGY-1..3 mix); default 18, or 36 for a profile.")
    ] = None,
    faculty: Annotated[int | None, typer.Option(help="Number of faculty (minimal only; default 8).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same program.")] = 1,
    start: Annotated[
        str | None,
        typer.Option(
            help="First day of the block (YYYY-MM-DD; default: the next block's start), or with a profile of"
            " the academic year (default: July 1 of the current one)."
        ),
    ] = None,
    out: OutOption = None,
    json_output: JsonOption = False,
) -> None:
    """Write a seeded, synthetic (PII-free) program whose minimum staffing can be met in full."""
    if profile is not Profile.MINIMAL:
        from rotaguard.errors import InputError, Problem
        from rotaguard.interchange.profiles import (
            DEFAULT_PROFILE_RESIDENTS,
            default_year_start,
            synthesize_profile,
        )

        # A whole year of a realistic program; its faculty follow from its services.
        if faculty is not None:
            raise InputError("program synth", [Problem("--faculty", "only the minimal profile takes it")])
        year_start = parse_date("--start", start) if start else default_year_start(date.today())
        program = synthesize_profile(
            profile, DEFAULT_PROFILE_RESIDENTS if residents is None else residents, seed, start=year_start
        )
        text = document_v2.dump_document(document_v2.document_from(program, Schedule(), rule_overrides={}))
        report = {"people": len(program.people), "profile": profile.value, "year_start": year_start.isoformat()}
        message = f"Wrote {out}: {profile.value}, {len(program.people)} people, academic year from {year_start}."
        deliver(text, out, json_output=json_output, report=report, message=message)
        return
    residents = 18 if residents is None else residents
    faculty = 8 if faculty is None else faculty
    block_start = parse_date("--start", start) if start else next_block_start(date.today())
    document = synthesize(residents=residents, faculty=faculty, seed=seed, start=block_start)
    report = {"people": len(document.people), "block_start": block_start.isoformat()}
    message = f"Wrote {out}: {residents} residents, {faculty} faculty, block from {block_start}."
    deliver(dump_document(document), out, json_output=json_output, report=report, message=message)


@program_app.command("schema")
def program_schema(
    format_version: Annotated[
        int, typer.Option("--format-version", min=1, max=2, help="2 (rotaguard-program/2, the default) or 1.")
    ] = 2,
    out: OutOption = None,
    json_output: JsonOption = False,
) -> None:
    """Print the JSON Schema of the program document (generated from the models)."""
    schema = document_v2.json_schema() if format_version == 2 else json_schema()
    text = json.dumps(schema, indent=2) + "\n"
    deliver(text, out, json_output=json_output, report={}, message=f"Wrote {out}.")
