"""``rotaguard``: the command line. Every command takes --json and fails with one line on stderr."""

from __future__ import annotations

import errno
import getpass
import json
import os
import sys
import traceback
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from rotaguard.cli.context import close_databases, display_url, load_settings, open_database, require_current_schema
from rotaguard.cli.output import (
    JsonOption,
    console,
    emit_json,
    fail_line,
    json_already_emitted,
    reset_json_state,
    table,
)
from rotaguard.cli.prefect_api import stop as _prefect_api_stop
from rotaguard.cli.swap import swap_app
from rotaguard.db import AuditLog
from rotaguard.db.migrate import current_revision, upgrade
from rotaguard.deployments.limits import ensure_concurrency_limit
from rotaguard.domain import BLOCK_DAYS, Program, Role
from rotaguard.errors import InputError, Problem, RotaGuardError
from rotaguard.health import run_checks
from rotaguard.interchange.document import document_warnings, dump_document, json_schema, read_document
from rotaguard.interchange.export import export_csv, export_json
from rotaguard.interchange.importer import check_against_stored, export_document, import_document, load_program
from rotaguard.interchange.synth import next_block_start, synthesize

app = typer.Typer(
    help="RotaGuard: safe, ACGME-compliant residency block scheduling.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
program_app = typer.Typer(help="Import, export and synthesise whole program documents.", no_args_is_help=True)
audit_app = typer.Typer(help="Read and verify the hash-chained audit log.", no_args_is_help=True)
backup_app = typer.Typer(
    help="Create, verify, restore and prune verified backups; copy them off-site.", no_args_is_help=True
)
offsite_app = typer.Typer(help="Off-site copies in S3.", no_args_is_help=True)
backup_app.add_typer(offsite_app, name="offsite")
app.add_typer(backup_app, name="backup")
app.add_typer(program_app, name="program")
app.add_typer(audit_app, name="audit")
app.add_typer(swap_app, name="swap")

EXIT_INTERNAL = 70


def _actor() -> str:
    try:
        return os.environ.get("ROTAGUARD_ACTOR") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _deliver(text: str, out: Path | None, *, json_output: bool, report: dict, message: str) -> None:
    """Print ``text``; or write it to ``out`` atomically and say so (as JSON with --json)."""
    if out is None:
        sys.stdout.write(text)
        return
    _write_file(text, out)
    if json_output:
        emit_json({"ok": True, "path": str(out), **report})
    else:
        console.print(message)


def _write_file(text: str, out: Path) -> None:
    """Temporary file, then rename: a reader never sees half a file."""
    _write_files({out: text.encode("utf-8")})


def _write_files(files: dict[Path, bytes]) -> None:
    """Write each file (text or binary) under a temporary name, fsync it, then rename them all into
    place: a reader never sees half a file, and when any write fails no file is renamed and the
    temporary ones are removed."""
    staged: list[tuple[Path, Path]] = []
    current: Path | None = None
    try:
        for out, data in files.items():
            current = out
            out.parent.mkdir(parents=True, exist_ok=True)
            if out.is_dir():
                # Found now, not when renaming: by then other files would already be replaced.
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
            partial = out.with_name(f".{out.name}.partial")
            staged.append((partial, out))
            with open(partial, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        for partial, out in staged:
            current = out
            partial.replace(out)
    except OSError as exc:
        for partial, _ in staged:
            try:
                partial.unlink(missing_ok=True)
            except OSError:
                pass
        raise RotaGuardError(f"cannot write {current}: {exc.strerror or exc}") from None


def _backup_before(settings, database, operation_id: str):
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


def _authorize(database, subject: str, *, program: Program | None = None) -> None:
    """Refuse at once, before any lock, backup or flow, when ROTAGUARD_ACTOR may not do ``subject``
    (the authorization matrix; the stored program's staff are the identities: ``program`` when the
    caller has already loaded it)."""
    from rotaguard.authorization import authorize

    if program is None:
        stored = load_program(database)
        program = stored[0] if stored else None
    authorize(program, _actor(), subject)


def _stored_program(database) -> tuple[Program, dict]:
    require_current_schema(database)
    stored = load_program(database)
    if stored is None:
        raise RotaGuardError("no program has been imported yet: run `rotaguard program import FILE`")
    return stored


@app.command()
def init(json_output: JsonOption = False) -> None:
    """Create the RotaGuard home and bring the database schema to the latest revision."""
    settings = load_settings()
    settings.resolved_home.mkdir(parents=True, exist_ok=True)
    database = open_database(settings)
    before = current_revision(database)
    upgrade(database)
    after = current_revision(database)
    result = {
        "ok": True,
        "database": display_url(database.url),
        "home": str(settings.resolved_home),
        "schema_before": before,
        "schema": after,
    }
    if json_output:
        emit_json(result)
    elif before == after:
        console.print(f"Database {result['database']} is up to date (schema {after}).")
    else:
        console.print(f"Database {result['database']} initialised: schema {before or 'empty'} -> {after}.")


@app.command()
def health(json_output: JsonOption = False) -> None:
    """Check the database, schema, backup directory, backups, off-site copies and the Prefect API.

    Exit 1 when any check FAILs (the same checks gate schedule generation): the database is
    unreachable, the schema is not at head, the backup directory is not writable or short of
    space, the S3 bucket (when ROTAGUARD_S3_BUCKET is set) or the Prefect API (when
    PREFECT_API_URL is set) does not answer. WARNs exit 0: no verified backup or the newest
    is older than 26 h, the newest backup failed verification, off-site copies pending.

    --json prints one document: "ok"; "warnings" (names of the checks that warn); "checks"
    (name, ok, warning, status ok|WARN|FAIL, detail); then each area's facts: "database"
    (kind, url without password, reachable, size_bytes), "schema" (current, head),
    "backup_dir" (path, free_bytes, needed_bytes), "last_verified_backup" (id, label,
    created_at, age_hours; null when none), "backups" (total, unverified, verified, bad),
    "offsite" (enabled, bucket, reachable, copies {none, pending, copied}, awaiting_copy) and
    "prefect_api" (configured, url, reachable, status_code). Areas also carry ok, warning, detail.
    """
    from rotaguard.health import report

    settings = load_settings()
    os.environ.setdefault("PREFECT_HOME", str(settings.resolved_home / "prefect"))  # its profile, as the flows see it
    checks = run_checks(settings, open_database(settings))
    document = report(checks)
    if json_output:
        emit_json(document)
    else:
        rows = [[check.name, check.status, check.detail] for check in checks]
        console.print(table("RotaGuard health", ["check", "status", "detail"], rows))
    if not document["ok"]:
        failed = next(check for check in checks if not check.ok)
        raise RotaGuardError(f"unhealthy: {failed.name}: {failed.detail}")


def _summary(program: Program, assignment_count: int) -> dict:
    residents = [p for p in program.people if p.role is Role.RESIDENT]
    pgy = Counter(p.pgy for p in residents)
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
                "slots": [s.value for s in r.slots],
                "days": len(r.days),
                "residents": f"{r.residents.min}-{r.residents.max}",
                "faculty": f"{r.faculty.min}-{r.faculty.max}",
                "supervised": r.supervised,
            }
            for r in program.rotations
        ],
        "absences": len(program.absences),
        "assignments": assignment_count,
        "person_half_days_per_block": len(program.people) * BLOCK_DAYS * 2,
        "rules": program.rules.model_dump(),
    }


def _print_summary(summary: dict) -> None:
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


@program_app.command("import")
def program_import(
    file: Annotated[Path, typer.Argument(help="A rotaguard-program/1 JSON document.")],
    json_output: JsonOption = False,
) -> None:
    """Check a program document completely, then add and update it in one transaction."""
    from rotaguard.db.locks import SCHEDULE_WRITES, LockLease

    document = read_document(file)
    settings = load_settings()
    database = open_database(settings)
    require_current_schema(database)
    _authorize(database, "import_program")
    with LockLease(database, name=SCHEDULE_WRITES, holder=f"import-{os.getpid()}", wait_seconds=30) as lease:
        if not lease.held:
            raise RotaGuardError(
                "a schedule write is in progress: the import waits for the schedule-writes lock; try again later"
            )
        # Whether the document contradicts what is stored is known before anything is written (the backup included).
        check_against_stored(database, document, source=str(file))
        _backup_before(settings, database, "import_program")
        result = import_document(database, document, actor=_actor(), source=file.name)
    warnings = document_warnings(document)
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
def program_export(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write here instead of stdout.")] = None,
    json_output: JsonOption = False,
) -> None:
    """Write the stored program (with every assignment) as a rotaguard-program/1 document."""
    database = open_database(load_settings())
    require_current_schema(database)
    document = export_document(database)
    if document is None:
        raise RotaGuardError("no program has been imported yet: run `rotaguard program import FILE`")
    counts = {"people": len(document.people), "assignments": len(document.assignments)}
    message = f"Wrote {out} ({counts['people']} people, {counts['assignments']} assignments)."
    _deliver(dump_document(document), out, json_output=json_output, report=counts, message=message)


@program_app.command("show")
def program_show(json_output: JsonOption = False) -> None:
    """Summarise the stored program: people, rotations, absences, assignments and rules."""
    from rotaguard.db import AssignmentRepository

    database = open_database(load_settings())
    program, _ = _stored_program(database)
    with database.read() as session:
        assignment_count = AssignmentRepository(session).count()
    summary = _summary(program, assignment_count)
    if json_output:
        emit_json(summary)
    else:
        _print_summary(summary)


@program_app.command("synth")
def program_synth(
    residents: Annotated[int, typer.Option(help="Number of residents (PGY-1..3 mix).")] = 18,
    faculty: Annotated[int, typer.Option(help="Number of faculty.")] = 8,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same program.")] = 1,
    start: Annotated[
        str | None, typer.Option(help="First day of the block (YYYY-MM-DD); default: the next block's start.")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write here instead of stdout.")] = None,
    json_output: JsonOption = False,
) -> None:
    """Write a seeded, synthetic (PII-free) program whose minimum staffing can be met in full."""
    block_start = _parse_date("--start", start) if start else next_block_start(date.today())
    document = synthesize(residents=residents, faculty=faculty, seed=seed, start=block_start)
    report = {"people": len(document.people), "block_start": block_start.isoformat()}
    message = f"Wrote {out}: {residents} residents, {faculty} faculty, block from {block_start}."
    _deliver(dump_document(document), out, json_output=json_output, report=report, message=message)


@program_app.command("schema")
def program_schema(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write here instead of stdout.")] = None,
    json_output: JsonOption = False,
) -> None:
    """Print the JSON Schema of the program document (generated from the models)."""
    text = json.dumps(json_schema(), indent=2) + "\n"
    _deliver(text, out, json_output=json_output, report={}, message=f"Wrote {out}.")


def _parse_date(option: str, value: str) -> date:
    from rotaguard.domain import MAX_DATE, MIN_DATE

    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise InputError(option, [Problem(option, f"{value!r} is not a date (YYYY-MM-DD)")]) from None
    if not MIN_DATE <= parsed <= MAX_DATE:
        raise InputError(
            option,
            [
                Problem(
                    option, f"{value} is outside the dates RotaGuard schedules ({MIN_DATE}..{MAX_DATE}, docs/limits.md)"
                )
            ],
        )
    return parsed


EXPORT_FORMATS = ("json", "csv", "ics", "xlsx")


@app.command("export")
def export(
    start: Annotated[str, typer.Option(help="First day (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option(help="Last day, inclusive (YYYY-MM-DD).")],
    format: Annotated[
        str,
        typer.Option(
            "--format",
            help="json or csv (rows); ics (a calendar per person plus program.ics; --out is a directory, "
            "without it program.ics is printed); xlsx (a workbook; needs --out FILE.xlsx).",
        ),
    ] = "json",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write here instead of stdout: a file, or for ics a directory.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Export the assignments of a date range: rows with their start, end and hours (ISO-8601),
    calendars for people (RFC 5545) or an Excel workbook (a people-by-days grid and the rows)."""
    from rotaguard.db import AssignmentRepository

    first, last = _date_range(start, end)
    if format not in EXPORT_FORMATS:
        raise InputError("export", [Problem("--format", f"{format!r} is not one of {', '.join(EXPORT_FORMATS)}")])
    if format == "xlsx":
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
        _check_export_out(out, directory=format == "ics")
    database = open_database(load_settings())
    program, _ = _stored_program(database)
    if format == "ics":
        _export_calendars(program, database, first, last, out, json_output=json_output)
        return
    with database.read() as session:
        schedule = AssignmentRepository(session).schedule(start=first, end=last)
    count = len(schedule.assignments)
    if format == "xlsx":
        _export_workbook(program, schedule, first, last, out, json_output=json_output)
        return
    if format == "json":
        text = json.dumps(export_json(program, schedule), indent=2) + "\n"
    else:
        text = export_csv(program, schedule)
    _deliver(
        text, out, json_output=json_output, report={"assignments": count}, message=f"Wrote {out} ({count} assignments)."
    )


def _check_export_out(out: Path, *, directory: bool) -> None:
    """Refuse an --out that cannot take what the format writes, before anything is read or written."""

    def refuse(message: str):
        raise InputError("--out", [Problem("--out", message)])

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
    program: Program, database, first: date, last: date, out: Path | None, *, json_output: bool
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
    _write_files({path: file.content for path, file in zip(paths, files, strict=True)})
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


def _export_workbook(program: Program, schedule, first: date, last: date, out: Path, *, json_output: bool) -> None:
    """--format xlsx: the grid, the long rows and the rotations in one workbook at ``out``."""
    from rotaguard.interchange.export import export_people
    from rotaguard.interchange.workbook import export_workbook

    _write_files({out: export_workbook(program, schedule, start=first, end=last)})
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


def _date_range(start: str, end: str) -> tuple[date, date]:
    first, last = _parse_date("--start", start), _parse_date("--end", end)
    if last < first:
        raise InputError("--end", [Problem("--end", f"{last} is before --start {first}")])
    return first, last


@app.command()
def validate(
    start: Annotated[str, typer.Option(help="First day (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option(help="Last day, inclusive (YYYY-MM-DD).")],
    resilience: Annotated[bool, typer.Option(help="Also compute N-1/N-2 resilience.")] = True,
    json_output: JsonOption = False,
) -> None:
    """Judge the stored schedule of a date range against every rule (read-only).

    Exit 0 with no Tier 1 violation, 1 with any, 2 on bad input.
    """
    from rotaguard.compliance import validate as judge
    from rotaguard.db import AssignmentRepository

    first, last = _date_range(start, end)
    database = open_database(load_settings())
    program, _ = _stored_program(database)
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


def _print_report(report) -> None:
    metrics = report.metrics
    console.print(
        f"[bold]{report.start}..{report.end}[/bold]: {metrics.tier1_violations} Tier 1 violations, "
        f"{metrics.tier2_warnings} Tier 2 warnings, {metrics.coverage_gaps} coverage gaps"
    )
    console.print(
        f"demand coverage {metrics.demand_coverage:.1%}, slot fill rate {metrics.slot_fill_rate:.1%}, "
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


@app.command()
def solve(
    start: Annotated[str, typer.Option(help="First day (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option(help="Last day, inclusive (YYYY-MM-DD).")],
    algorithm: Annotated[str, typer.Option(help="cp_sat or greedy.")] = "cp_sat",
    timeout: Annotated[float, typer.Option(min=1, max=3600, help="Solver time limit in seconds.")] = 60.0,
    seed: Annotated[int, typer.Option(min=0, max=2**31 - 1, help="Random seed.")] = 0,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Solver threads.")] = 2,
    deterministic: Annotated[bool, typer.Option(help="Repeatable for a seed and worker count (slower).")] = True,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the schedule (export JSON shape) here.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Solve a date range and judge the result; writes nothing to the database."""
    from rotaguard.compliance import validate as judge
    from rotaguard.db import AssignmentRepository
    from rotaguard.solver import ALGORITHMS, ScheduleProblem, SolverStatus
    from rotaguard.solver import solve as run_solver

    first, last = _date_range(start, end)
    if algorithm not in ALGORITHMS:
        raise InputError(
            "--algorithm", [Problem("--algorithm", f"{algorithm!r} is not one of {', '.join(ALGORITHMS)}")]
        )
    if (last - first).days >= 366:
        raise InputError("--end", [Problem("--end", "a solve covers at most 366 days")])
    database = open_database(load_settings())
    program, _ = _stored_program(database)
    reach = timedelta(days=program.rules.averaging_window_days)
    with database.read() as session:
        existing = AssignmentRepository(session).schedule(start=first - reach, end=last + reach)
    problem = ScheduleProblem(program=program, start=first, end=last, existing=existing)
    result = run_solver(
        problem, algorithm=algorithm, timeout_seconds=timeout, seed=seed, workers=workers, deterministic=deterministic
    )
    report = judge(result.schedule, program, start=first, end=last, resilience=False)
    summary = {
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
        "conflicts": [c.model_dump() for c in result.conflicts],
        "metrics": report.metrics.model_dump(mode="json", exclude={"people"}),
    }
    if out is not None and result.status in (SolverStatus.OPTIMAL, SolverStatus.FEASIBLE):
        _write_file(json.dumps(export_json(program, result.schedule), indent=2) + "\n", out)
        summary["path"] = str(out)
    if json_output:
        emit_json(summary)
    else:
        console.print(
            f"{result.algorithm}: {result.status.value} in {result.wall_seconds:.2f} s; objective {result.objective}, "
            f"bound {result.best_bound}, gap {result.gap}; {report.metrics.tier1_violations} Tier 1 violations, "
            f"demand coverage {report.metrics.demand_coverage:.1%}"
        )
        if out is not None and "path" in summary:
            console.print(f"Wrote {out} ({len(result.schedule.assignments)} assignments, history and locked included).")
    if result.status is SolverStatus.INFEASIBLE:
        raise RotaGuardError(f"no schedule satisfies every Tier 1 rule: {result.explanation}")
    if result.status is SolverStatus.UNKNOWN:
        raise RotaGuardError(f"no schedule found within {timeout:g} s: raise --timeout or try --algorithm greedy")
    if not report.publishable:
        raise RotaGuardError(f"the solved schedule breaks {len(report.tier1)} Tier 1 rules: {report.tier1[0].message}")


def _prefect_environment(settings) -> None:
    """Prefect keeps its state under ROTAGUARD_HOME unless told otherwise (set before importing it)."""
    os.environ.setdefault("PREFECT_HOME", str(settings.resolved_home / "prefect"))
    # Prefect makes its home without parents: a fresh ROTAGUARD_HOME would print a warning.
    try:
        Path(os.environ["PREFECT_HOME"]).expanduser().mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RotaGuardError(
            f"cannot use PREFECT_HOME {os.environ['PREFECT_HOME']}: {error.strerror or error}"
        ) from None
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    # Run logs (solver progress included) reach the API at INFO; the terminal shows warnings only.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")
    # No network here or in most hospitals' server rooms: no telemetry.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # Leases on disk, where an API started from here (an ephemeral one too) keeps them past a kill.
    os.environ.setdefault(
        "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE", "prefect.server.concurrency.lease_storage.filesystem"
    )
    from rotaguard.cli.prefect_api import use_prefect_api

    use_prefect_api(settings)  # no API configured: this home's local Prefect server, started on first use


def _answers_here(yes: bool) -> bool:
    """Whether ROTAGUARD_ACTOR answers the approval (--yes, or at this terminal), so that whether
    they may is known before anything starts; otherwise the Prefect UI's approver is checked."""
    return yes or sys.stdin.isatty()


def _require_an_answerer(yes: bool, what: str) -> None:
    """A pause needs someone to answer it: --yes, a terminal, or a Prefect server's UI (the
    ephemeral API a bare command starts has none)."""
    if yes or sys.stdin.isatty() or os.environ.get("PREFECT_API_URL"):
        return
    raise RotaGuardError(
        f"{what} needs approval: rerun with --yes, at a terminal, or with PREFECT_API_URL set to a Prefect server whose UI can answer"
    )


def _flow_params(model, **values):
    """A flow's parameters from command-line values; the first problem as a one-line error naming the option."""
    from pydantic import ValidationError

    try:
        return model(**values)
    except ValidationError as exc:
        item = exc.errors(include_url=False)[0]
        where = "--" + str(item["loc"][0]).replace("_", "-") if item["loc"] else "arguments"
        raise InputError(where, [Problem(where, item["msg"].removeprefix("Value error, "))]) from None


@app.command()
def generate(
    start: Annotated[str, typer.Option(help="First day (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option(help="Last day, inclusive (YYYY-MM-DD).")],
    algorithm: Annotated[str, typer.Option(help="cp_sat or greedy.")] = "cp_sat",
    timeout: Annotated[int, typer.Option(min=5, max=3600, help="Solver time limit in seconds.")] = 120,
    min_coverage: Annotated[float, typer.Option(min=0, max=1, help="Demand coverage needed to publish.")] = 0.8,
    require_n1: Annotated[bool, typer.Option(help="Publish only an N-1 compliant schedule.")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Approve as the invoking user instead of pausing.")] = False,
    approval_timeout: Annotated[int, typer.Option(min=10, max=604800, help="Seconds to wait for approval.")] = 3600,
    json_output: JsonOption = False,
) -> None:
    """Generate a range through the safe flow; exit 0 only when the schedule is published."""
    first, last = _date_range(start, end)
    settings = load_settings()
    database = open_database(settings)
    program, _ = _stored_program(database)
    if _answers_here(yes):
        _authorize(database, "generate", program=program)
    close_databases()
    _require_an_answerer(yes, f"generating {first}..{last}")
    _prefect_environment(settings)
    import uuid

    from rotaguard.flows.generate_schedule import GenerateParams, generate_schedule

    run_id = str(uuid.uuid4())
    params = _flow_params(
        GenerateParams,
        run_id=run_id,
        start=first,
        end=last,
        algorithm=algorithm,
        timeout_seconds=timeout,
        min_coverage=min_coverage,
        require_n1=require_n1,
        auto_approve_as=_actor() if yes else None,
        approval_timeout_seconds=approval_timeout,
    )
    from rotaguard.cli.progress import solver_progress_line
    from rotaguard.tasks.generation import SOLVER_PROGRESS

    with solver_progress_line(SOLVER_PROGRESS):
        outcome = _run_gated(
            generate_schedule,
            params,
            yes=yes,
            question=f"Publish a new schedule for {first}..{last}?",
            request_id=run_id,
            answer=lambda approve: {"approve": approve, "approver": _actor(), "comment": "answered at the terminal"},
        )
    payload = outcome.model_dump(mode="json")
    if json_output:
        emit_json(payload)
    else:
        console.print(f"Generation {outcome.run_id}: [bold]{outcome.status}[/bold] {outcome.reason}".rstrip())
        if outcome.metrics:
            console.print(table("Metrics", ["metric", "value"], [[k, v] for k, v in outcome.metrics.items()]))
    if outcome.status != "published":
        raise RotaGuardError(f"not published: {outcome.status}: {outcome.reason}")


def _run_gated(flow_call, params, *, yes: bool, question: str, answer, request_id: str):
    """Run a gated flow in this process: approved by --yes, at the terminal, or in the Prefect UI."""
    ensure_concurrency_limit()
    if yes:
        return flow_call(params)
    from rotaguard.cli.answers import run_answering

    return run_answering(lambda: flow_call(params), request_id=request_id, question=question, answer=answer)


def _print_outcome(outcome, json_output: bool, *, success: str, message: str) -> None:
    if json_output:
        emit_json({"ok": outcome.status == success, **outcome.model_dump(mode="json")})
    elif outcome.status == success:
        console.print(message)
        if outcome.counts:
            console.print(table("Counts", ["count", "value"], [[k, v] for k, v in outcome.counts.items()]))
    if outcome.status != success:
        raise RotaGuardError(f"not {success}: {outcome.status}: {outcome.reason}")


@app.command()
def assign(
    file: Annotated[
        Path, typer.Option("--file", help="A JSON or CSV file of assignments: person, date, slot, rotation[, locked].")
    ],
    yes: Annotated[bool, typer.Option("--yes", help="Approve as the invoking user instead of pausing.")] = False,
    approval_timeout: Annotated[int, typer.Option(min=10, max=604800, help="Seconds to wait for approval.")] = 3600,
    json_output: JsonOption = False,
) -> None:
    """Load assignments prepared elsewhere through the bulk-assign flow: every row is checked first (all
    problems listed, nothing written), then lock, verified backup, approval, one-transaction write,
    validation, and the range restored when validation fails. Exit 0 only when published."""
    import uuid

    from rotaguard.interchange.assignments import check_against_program, read_assignment_file

    settings = load_settings()
    database = open_database(settings)
    program, _ = _stored_program(database)
    # Every problem in the file, with its line or JSON path, before any flow runs: its shape, then
    # against the program (people, rotations, absences, eligibility).
    entries = read_assignment_file(file)
    problems = check_against_program(entries, program)
    if problems:
        raise InputError(str(file), problems)
    if _answers_here(yes):
        _authorize(database, "bulk_assign", program=program)
    close_databases()
    _require_an_answerer(yes, f"loading {file}")
    _prefect_environment(settings)
    from rotaguard.flows.bulk_assign import BulkAssignParams, bulk_assign

    run_id = str(uuid.uuid4())
    params = _flow_params(
        BulkAssignParams,
        path=str(file.resolve()),
        actor=_actor(),
        auto_approve_as=_actor() if yes else None,
        approval_timeout_seconds=approval_timeout,
        run_id=run_id,
    )
    outcome = _run_gated(
        bulk_assign,
        params,
        yes=yes,
        question=f"Write the assignments of {file.name}?",
        request_id=run_id,
        answer=lambda approve: {"approve": approve, "approver": _actor(), "comment": "answered at the terminal"},
    )
    _print_outcome(
        outcome,
        json_output,
        success="published",
        message=f"Assignments of {file.name} published (run {outcome.run_id}, backup {outcome.backup_id}).",
    )


@app.command()
def clear(
    start: Annotated[str, typer.Option(help="First day (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option(help="Last day, inclusive (YYYY-MM-DD).")],
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
    import uuid

    first, last = _date_range(start, end)
    settings = load_settings()
    database = open_database(settings)
    program, _ = _stored_program(database)
    if yes and confirm is None:
        raise InputError(
            "--confirm", [Problem("--confirm", f"--yes needs --confirm {first}..{last} (the range typed exactly)")]
        )
    if _answers_here(yes):
        _authorize(database, "clear_range", program=program)
    close_databases()
    _require_an_answerer(yes, f"clearing {first}..{last}")
    _prefect_environment(settings)
    from rotaguard.flows.clear_assignments import ClearParams, clear_assignments

    run_id = str(uuid.uuid4())
    params = _flow_params(
        ClearParams,
        start=first,
        end=last,
        people=people or None,
        include_locked=include_locked,
        confirm_range_as=_actor() if yes else None,
        confirmation=confirm if yes else None,
        approval_timeout_seconds=approval_timeout,
        run_id=run_id,
    )

    def typed_answer(approve: bool) -> dict:
        typed = typer.prompt(f"Type the range to confirm ({params.range_text})", default="") if approve else ""
        return {
            "approve": approve,
            "approver": _actor(),
            "typed_range": typed.strip() or "0000-00-00..0000-00-00",
            "comment": "answered at the terminal",
        }

    outcome = _run_gated(
        clear_assignments,
        params,
        yes=yes,
        question=f"Delete these assignments of {params.range_text}?",
        request_id=run_id,
        answer=typed_answer,
    )
    _print_outcome(
        outcome,
        json_output,
        success="cleared",
        message=f"Cleared {outcome.counts.get('deleted', 0)} assignments of {params.range_text} (backup {outcome.backup_id}).",
    )


@app.command()
def serve(json_output: JsonOption = False) -> None:
    """Serve the Prefect deployments (generate, validate and the swap flows) until stopped, to run them
    from the Prefect UI. Needs PREFECT_API_URL; --json only shapes a failure (serving prints no result)."""
    settings = load_settings()
    require_current_schema(open_database(settings))
    close_databases()  # checked; the flow runs open their own connections
    # An operator watches this terminal: Prefect's runner and the flow runs log here at INFO.
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "INFO")
    _prefect_environment(settings)
    from rotaguard.deployments.definitions import check_prefect_api, serve_all

    url = check_prefect_api()
    sys.stderr.write(f"rotaguard: serving the deployments through {url}; stop with Ctrl-C\n")
    serve_all()


@app.command()
def recover(json_output: JsonOption = False) -> None:
    """Put back the range of every generation that died mid-write (kill -9, power loss)."""
    from rotaguard.cli.prefect_api import free_schedule_writes
    from rotaguard.db.locks import SCHEDULE_WRITES, LockLease
    from rotaguard.recovery import recover_interrupted

    settings, store = _backup_store()
    _authorize(store.database, "recover")
    freed = free_schedule_writes(settings, _prefect_environment)  # the Prefect slot of a holder provably gone
    with LockLease(store.database, name=SCHEDULE_WRITES, holder=f"recover-{os.getpid()}", wait_seconds=120) as lease:
        if not lease.held:
            raise RotaGuardError(
                "a schedule write is in progress: recover needs the schedule-writes lock; try again later"
            )
        results = recover_interrupted(store.database, store, actor=_actor())
    if json_output:
        emit_json({"ok": True, "recovered": [r.__dict__ for r in results], "freed": freed})
    elif results or freed:
        for sentence in freed:
            console.print(f"schedule-writes: {sentence}")
        for result in results:
            console.print(f"{result.run_id}: {result.action}: {result.detail}")
    else:
        console.print("Nothing to recover.")


app.command("stop")(_prefect_api_stop)


@audit_app.command("verify")
def audit_verify(json_output: JsonOption = False) -> None:
    """Recompute the audit log's hash chain and check it still reaches the audit anchor the
    backups wrote; exit 1 when any event was altered or removed."""
    from rotaguard.db.anchor import AnchorError, anchor_path, check_anchor, read_anchor

    settings = load_settings()
    database = open_database(settings)
    require_current_schema(database)
    directory = settings.resolved_backup_dir
    anchor, anchor_error = None, None
    try:
        anchor = read_anchor(directory)
    except AnchorError as exc:
        anchor_error = str(exc)
    with database.read() as session:
        check = AuditLog(session).verify()
        anchored = check_anchor(session, anchor) if anchor is not None else None
    if not check.ok:
        reason, first_bad_id = f"audit chain broken: {check.reason}", check.first_bad_id
    elif anchor_error is not None:
        reason, first_bad_id = anchor_error, None
    elif anchored is not None and not anchored.ok:
        reason, first_bad_id = anchored.reason, anchored.first_bad_id
    else:
        reason, first_bad_id = "", None
    ok = not reason
    if json_output:
        emit_json(
            {
                "ok": ok,
                "events": check.events,
                "first_bad_id": first_bad_id,
                "reason": reason,
                "chain_ok": check.ok,
                "anchor": {"path": str(anchor_path(directory)), **anchor.as_dict()} if anchor is not None else None,
                "anchor_ok": None if anchored is None else anchored.ok,
                "missing_ids": list(anchored.missing_ids) if anchored is not None else [],
            }
        )
    elif ok and anchor is None:
        console.print(
            f"Audit chain intact: {check.events} events. No audit anchor yet in {directory} (every backup writes one): "
            "a removed tail of the log cannot be detected until then."
        )
    elif ok:
        head = anchor.head
        reaches = f"event {head.event_id}, {head.events} events" if head.event_id is not None else "an empty log"
        console.print(
            f"Audit chain intact: {check.events} events; it reaches the audit anchor ({reaches}, backup {anchor.backup_id})."
        )
    if not ok:
        raise RotaGuardError(reason)


@audit_app.command("list")
def audit_list(
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Newest events to show.")] = 20,
    json_output: JsonOption = False,
) -> None:
    """Show the newest audit events."""
    database = open_database(load_settings())
    require_current_schema(database)
    with database.read() as session:
        events = AuditLog(session).events(limit=limit)
        rows = [
            {
                "id": e.id,
                "at": e.occurred_at.isoformat(),
                "actor": e.actor,
                "action": e.action,
                "subject": e.subject,
                "details": e.details,
            }
            for e in events
        ]
    if json_output:
        emit_json(rows)
    else:
        console.print(
            table(
                "Audit events",
                ["id", "at", "actor", "action", "subject"],
                [[r["id"], r["at"], r["actor"], r["action"], r["subject"]] for r in rows],
            )
        )


def _backup_store():
    from rotaguard.backups import BackupStore

    settings = load_settings()
    database = open_database(settings)
    require_current_schema(database)
    store = BackupStore(
        database=database,
        directory=settings.resolved_backup_dir,
        retention_days=settings.backup_retention_days,
        min_keep=settings.backup_min_keep,
    )
    return settings, store


def _manifest_rows(store, manifests) -> list[list]:
    return [
        [m.id, m.label, m.created_at.isoformat(), f"{m.size_bytes:,}", m.status.value, m.offsite.value]
        for m in manifests
    ]


@backup_app.command("create")
def backup_create(
    label: Annotated[str, typer.Option(help="regular, sacred or pre-op:<what>.")] = "regular",
    json_output: JsonOption = False,
) -> None:
    """Take a backup, verify it (checksum, full read, trial restore, digests) and copy it off-site."""
    from rotaguard.backups.offsite import copy_offsite

    settings, store = _backup_store()
    _authorize(store.database, "backup create")
    manifest = store.create(label=label)
    manifest, offsite_error = copy_offsite(settings, store, manifest)
    if json_output:
        emit_json(manifest.as_json(store.directory))
    else:
        console.print(
            f"Backup {manifest.id}: {manifest.status.value}, {manifest.size_bytes:,} bytes, off-site {manifest.offsite.value}."
        )
    if offsite_error:
        sys.stderr.write(f"rotaguard: warning: off-site copy pending: {offsite_error.splitlines()[0]}\n")


@backup_app.command("list")
def backup_list(json_output: JsonOption = False) -> None:
    """Every backup in the backup directory, oldest first."""
    _, store = _backup_store()
    manifests = store.list()
    if json_output:
        emit_json([m.as_json(store.directory) for m in manifests])
    else:
        console.print(
            table(
                f"Backups in {store.directory}",
                ["id", "label", "created (UTC)", "bytes", "status", "off-site"],
                _manifest_rows(store, manifests),
            )
        )


@backup_app.command("verify")
def backup_verify(
    backup_id: Annotated[str, typer.Argument(help="The backup's id.")], json_output: JsonOption = False
) -> None:
    """Run the four checks; exit 1 when the backup is not good (it is then marked bad)."""
    _, store = _backup_store()
    _authorize(store.database, "backup verify")
    _verify_and_show(store, backup_id, json_output, title=f"Verify {backup_id}", bad=f"backup {backup_id} is bad")


def _verify_and_show(store, backup_id: str, json_output: bool, *, title: str, bad: str) -> None:
    """Run the four checks on a backup and show them; exit 1 when it is not good (it is then marked bad)."""
    manifest, checks = store.verify(backup_id)
    if json_output:
        emit_json({**manifest.as_json(store.directory), "checks": [c.__dict__ for c in checks]})
    else:
        console.print(
            table(title, ["check", "status", "detail"], [[c.name, "ok" if c.ok else "FAIL", c.detail] for c in checks])
        )
    if manifest.status.value != "verified":
        raise RotaGuardError(f"{bad}: {manifest.failure}")


@backup_app.command("restore")
def backup_restore(
    backup_id: Annotated[str, typer.Argument(help="The backup's id.")],
    scope: Annotated[str, typer.Option(help="full, or assignments of --start..--end.")] = "full",
    start: Annotated[str | None, typer.Option(help="First day (assignments scope).")] = None,
    end: Annotated[str | None, typer.Option(help="Last day (assignments scope).")] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Approve as the invoking user instead of pausing.")] = False,
    approval_timeout: Annotated[int, typer.Option(min=10, max=604800, help="Seconds to wait for approval.")] = 3600,
    json_output: JsonOption = False,
) -> None:
    """Restore a verified backup through the restore-backup flow: it verifies the backup, takes a fresh
    pre-restore backup, asks for approval showing the row counts that change, restores and proves
    the result. Exit 0 only when restored."""
    first = _parse_date("--start", start) if start else None
    last = _parse_date("--end", end) if end else None
    if scope not in ("full", "assignments"):
        raise InputError("--scope", [Problem("--scope", f"{scope!r} is not full or assignments")])
    settings, store = _backup_store()
    store.get(backup_id)  # an unknown id is the user's mistake: say so before any flow runs
    if _answers_here(yes):
        _authorize(store.database, "restore")
    close_databases()
    _require_an_answerer(yes, f"restoring from {backup_id}")
    _prefect_environment(settings)
    import uuid

    from rotaguard.flows.restore_backup import RestoreParams, restore_backup

    params = _flow_params(
        RestoreParams,
        backup_id=backup_id,
        scope=scope,
        start=first,
        end=last,
        auto_approve_as=_actor() if yes else None,
        approval_timeout_seconds=approval_timeout,
        request_id=str(uuid.uuid4()),
    )
    outcome = _run_gated(
        restore_backup,
        params,
        yes=yes,
        question=f"Restore {params.what} from {backup_id}?",
        request_id=params.request_id,
        answer=lambda approve: {"approve": approve, "approver": _actor(), "comment": "answered at the terminal"},
    )
    if json_output:
        emit_json({"ok": outcome.status == "restored", **outcome.model_dump(mode="json")})
    elif outcome.status == "restored":
        console.print(
            f"Restored {params.what} from {backup_id}; the state before is backup {outcome.pre_restore_backup_id}."
        )
    if outcome.status != "restored":
        raise RotaGuardError(f"not restored: {outcome.status}: {outcome.reason}")


@backup_app.command("prune")
def backup_prune(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be deleted and why.")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Delete backups older than the retention period.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Apply retention: never below 2 verified backups, never the sacred baseline, old ones only with --yes."""
    settings, store = _backup_store()
    if yes:  # asked to delete: whether this actor may is known before the plan
        _authorize(store.database, "backup prune")
    plan = store.plan_prune(offsite_required=bool(settings.s3_bucket))
    listing = {
        "delete": [{"id": m.id, "reason": why} for m, why in plan.delete],
        "keep": [{"id": m.id, "reason": why} for m, why in plan.keep],
    }
    if dry_run or not plan.delete:
        if json_output:
            emit_json({"ok": True, "dry_run": True, **listing})
        else:
            rows = [[m.id, "delete", why] for m, why in plan.delete] + [[m.id, "keep", why] for m, why in plan.keep]
            console.print(table("Retention plan", ["id", "action", "why"], rows))
        return
    if not yes:
        raise RotaGuardError(
            f"{len(plan.delete)} backups are older than {store.retention_days} days: rerun with --yes to delete them (--dry-run lists them)"
        )
    deleted = store.prune(plan, actor=_actor())
    if json_output:
        emit_json({"ok": True, "deleted": deleted, **listing})
    else:
        console.print(f"Deleted {len(deleted)} backups: {', '.join(deleted)}.")


@offsite_app.command("sync")
def offsite_sync(json_output: JsonOption = False) -> None:
    """Copy every verified backup whose off-site copy is missing or pending to S3."""
    from rotaguard.backups.offsite import copy_offsite

    settings, store = _backup_store()
    _authorize(store.database, "backup offsite sync")
    if not settings.s3_bucket:
        raise RotaGuardError("ROTAGUARD_S3_BUCKET is not set: there is nowhere to copy to")
    results, failures = [], []
    for manifest in store.list():
        if manifest.status.value != "verified" or manifest.offsite.value == "copied":
            continue
        updated, error = copy_offsite(settings, store, manifest)
        results.append({"id": updated.id, "offsite": updated.offsite.value, "error": error})
        if error:
            failures.append(f"{updated.id}: {error.splitlines()[0]}")
    if json_output:
        emit_json({"ok": not failures, "copies": results})
    else:
        console.print(f"{sum(1 for r in results if r['offsite'] == 'copied')} copied, {len(failures)} pending.")
    if failures:
        raise RotaGuardError(f"{len(failures)} off-site copies are pending: {failures[0]}")


@offsite_app.command("fetch")
def offsite_fetch(
    backup_id: Annotated[str, typer.Argument(help="The backup's id (rotaguard_...).")],
    allow_plaintext: Annotated[
        bool,
        typer.Option(
            "--allow-plaintext", help="With an encryption key set, also accept a copy made before encryption was on."
        ),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Bring a backup back from S3 (decrypted when sealed, checked against its manifest), then run the
    four checks on it: only a verified backup can be restored."""
    from rotaguard.backups.offsite import fetch_offsite

    settings, store = _backup_store()
    _authorize(store.database, "backup offsite fetch")
    fetch_offsite(settings, backup_id, store.directory, allow_plaintext=True if allow_plaintext else None)
    _verify_and_show(
        store, backup_id, json_output, title=f"Fetched {backup_id}", bad=f"fetched backup {backup_id} is bad"
    )


def _report(error: RotaGuardError, *, json_requested: bool) -> None:
    fail_line(str(error))
    problems = error.problems if isinstance(error, InputError) else []
    if isinstance(error, InputError):
        for line in error.detail_lines:
            sys.stderr.write(f"  {line}\n")
    if json_requested and not json_already_emitted():
        emit_json(
            {"ok": False, "error": str(error), "problems": [{"path": p.path, "message": p.message} for p in problems]}
        )


def _is_usage_error(error: Exception) -> bool:
    return any(cls.__name__ == "ClickException" for cls in type(error).__mro__) and hasattr(error, "format_message")


def main(args: list[str] | None = None) -> int:
    """Run the CLI and return its exit code instead of raising."""
    reset_json_state()
    json_requested = "--json" in (sys.argv[1:] if args is None else args)
    try:
        app(args=args, prog_name="rotaguard", standalone_mode=False)
    except RotaGuardError as error:
        _report(error, json_requested=json_requested)
        return error.exit_code
    except typer.Exit as exit_:
        return exit_.exit_code
    except typer.Abort:
        fail_line("aborted")
        return 130
    except OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        fail_line(f"database unavailable: {reason}")
        return 1
    except SQLAlchemyError as error:
        fail_line(f"database error: {type(error).__name__}: {str(error).splitlines()[0]}")
        return 1
    except Exception as error:
        if _is_usage_error(error):
            # Typer vendors click in recent releases, so its exception classes are matched by shape.
            if type(error).__name__ != "NoArgsIsHelpError":
                context = getattr(error, "ctx", None)
                hint = f" (see `{context.command_path} --help`)" if context is not None else ""
                fail_line(f"{error.format_message()}{hint}")
            return getattr(error, "exit_code", 2)
        # A bug, not a user's mistake: still one line unless asked for detail.
        if os.environ.get("ROTAGUARD_DEBUG"):
            traceback.print_exc()
        fail_line(f"internal error: {type(error).__name__}: {error} (set ROTAGUARD_DEBUG=1 for the traceback)")
        return EXIT_INTERNAL
    finally:
        close_databases()
    return 0


def run() -> None:
    sys.exit(main())
