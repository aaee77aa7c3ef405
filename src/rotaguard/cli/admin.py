"""Running RotaGuard itself: ``init``, ``health``, ``serve`` and ``recover``."""

from __future__ import annotations

import os
import sys

import typer

from rotaguard.cli.common import actor, authorize, backup_store, prefect_environment
from rotaguard.cli.context import close_databases, display_url, load_settings, open_database, require_current_schema
from rotaguard.cli.output import JsonOption, console, emit_json, table
from rotaguard.db.migrate import current_revision, upgrade
from rotaguard.errors import RotaGuardError
from rotaguard.health import run_checks

commands = typer.Typer()


@commands.command()
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


@commands.command()
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


@commands.command()
def serve(json_output: JsonOption = False) -> None:
    """Serve the Prefect deployments (generate, validate and the swap flows) until stopped, to run them
    from the Prefect UI. Needs PREFECT_API_URL; --json only shapes a failure (serving prints no result)."""
    settings = load_settings()
    require_current_schema(open_database(settings))
    close_databases()  # checked; the flow runs open their own connections
    # An operator watches this terminal: Prefect's runner and the flow runs log here at INFO.
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "INFO")
    prefect_environment(settings)
    from rotaguard.deployments.definitions import check_prefect_api, serve_all

    url = check_prefect_api()
    sys.stderr.write(f"rotaguard: serving the deployments through {url}; stop with Ctrl-C\n")
    serve_all()


@commands.command()
def recover(json_output: JsonOption = False) -> None:
    """Put back the range of every generation that died mid-write (kill -9, power loss)."""
    from rotaguard.cli.prefect_api import free_schedule_writes
    from rotaguard.db.locks import SCHEDULE_WRITES, LockLease
    from rotaguard.recovery import recover_interrupted

    settings, store = backup_store()
    authorize(store.database, "recover")
    freed = free_schedule_writes(settings, prefect_environment)  # the Prefect slot of a holder provably gone
    with LockLease(store.database, name=SCHEDULE_WRITES, holder=f"recover-{os.getpid()}", wait_seconds=120) as lease:
        if not lease.held:
            raise RotaGuardError(
                "a schedule write is in progress: recover needs the schedule-writes lock; try again later"
            )
        results = recover_interrupted(store.database, store, actor=actor())
    if json_output:
        emit_json({"ok": True, "recovered": [r.__dict__ for r in results], "freed": freed})
    elif results or freed:
        for sentence in freed:
            console.print(f"schedule-writes: {sentence}")
        for result in results:
            console.print(f"{result.run_id}: {result.action}: {result.detail}")
    else:
        console.print("Nothing to recover.")
