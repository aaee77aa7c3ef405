"""``rotaguard backup``: create, list, verify, restore and prune verified backups; copy them off-site."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from rotaguard.cli.common import ApprovalTimeoutOption, YesOption, actor, authorize, backup_store, parse_date
from rotaguard.cli.gated import GatedFlow, run_gated_command
from rotaguard.cli.output import JsonOption, console, emit_json, table
from rotaguard.errors import InputError, Problem, RotaGuardError

if TYPE_CHECKING:
    from rotaguard.backups import BackupStore, Manifest
    from rotaguard.flows.restore_backup import RestoreOutcome, RestoreParams

backup_app = typer.Typer(
    help="Create, verify, restore and prune verified backups; copy them off-site.", no_args_is_help=True
)
offsite_app = typer.Typer(help="Off-site copies in S3.", no_args_is_help=True)
backup_app.add_typer(offsite_app, name="offsite")

# The labels a backup may carry: two fixed ones and the open-ended pre-op:<what> of the backups
# operations take first (rotaguard.backups.store.LABEL is the rule).
FIXED_LABELS = ("regular", "sacred")
PRE_OP_LABEL = "pre-op:"


class RestoreScope(StrEnum):
    FULL = "full"
    ASSIGNMENTS = "assignments"


def _checked_label(ctx: typer.Context, label: str) -> str:
    """A parameter callback: refuse a label no backup may carry before anything is opened (but not
    while the shell completes a command line)."""
    from rotaguard.backups.store import LABEL

    if not ctx.resilient_parsing and not LABEL.fullmatch(label):
        raise InputError("--label", [Problem("--label", f"{label!r} is not regular, sacred or pre-op:<what>")])
    return label


def _label_completions(incomplete: str) -> list[str]:
    return [label for label in (*FIXED_LABELS, PRE_OP_LABEL) if label.startswith(incomplete)]


@backup_app.command("create")
def backup_create(
    label: Annotated[
        str,
        typer.Option(
            metavar="<regular|sacred|pre-op:WHAT>",
            help="regular, sacred (the baseline retention never deletes) or pre-op:<what> (lowercase letters, "
            "digits, '.', '_', '-'; at most 30).",
            callback=_checked_label,
            autocompletion=_label_completions,
        ),
    ] = "regular",
    json_output: JsonOption = False,
) -> None:
    """Take a backup, verify it (checksum, full read, trial restore, digests) and copy it off-site."""
    from rotaguard.backups.offsite import copy_offsite

    settings, store = backup_store()
    authorize(store.database, "backup create")
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


def _manifest_rows(manifests: list[Manifest]) -> list[list[str]]:
    return [
        [m.id, m.label, m.created_at.isoformat(), f"{m.size_bytes:,}", m.status.value, m.offsite.value]
        for m in manifests
    ]


@backup_app.command("list")
def backup_list(json_output: JsonOption = False) -> None:
    """Every backup in the backup directory, oldest first."""
    _, store = backup_store()
    manifests = store.list()
    if json_output:
        emit_json([m.as_json(store.directory) for m in manifests])
    else:
        console.print(
            table(
                f"Backups in {store.directory}",
                ["id", "label", "created (UTC)", "bytes", "status", "off-site"],
                _manifest_rows(manifests),
            )
        )


@backup_app.command("verify")
def backup_verify(
    backup_id: Annotated[str, typer.Argument(help="The backup's id.")], json_output: JsonOption = False
) -> None:
    """Run the four checks; exit 1 when the backup is not good (it is then marked bad)."""
    _, store = backup_store()
    authorize(store.database, "backup verify")
    _verify_and_show(store, backup_id, json_output, title=f"Verify {backup_id}", bad=f"backup {backup_id} is bad")


def _verify_and_show(store: BackupStore, backup_id: str, json_output: bool, *, title: str, bad: str) -> None:
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


def _restore_flow() -> GatedFlow[RestoreParams, RestoreOutcome]:
    from rotaguard.flows.restore_backup import RestoreParams, restore_backup

    return GatedFlow(restore_backup, RestoreParams, request_id_field="request_id")


@backup_app.command("restore")
def backup_restore(
    backup_id: Annotated[str, typer.Argument(help="The backup's id.")],
    scope: Annotated[RestoreScope, typer.Option(help="full, or assignments of --start..--end.")] = RestoreScope.FULL,
    start: Annotated[str | None, typer.Option(help="First day (assignments scope).")] = None,
    end: Annotated[str | None, typer.Option(help="Last day (assignments scope).")] = None,
    yes: YesOption = False,
    approval_timeout: ApprovalTimeoutOption = 3600,
    json_output: JsonOption = False,
) -> None:
    """Restore a verified backup through the restore-backup flow: it verifies the backup, takes a fresh
    pre-restore backup, asks for approval showing the row counts that change, restores and proves
    the result. Exit 0 only when restored."""
    first = parse_date("--start", start) if start else None
    last = parse_date("--end", end) if end else None
    settings, store = backup_store()
    from rotaguard.backups import BackupError

    manifest = store.get(backup_id)  # an unknown id is the user's mistake: say so before any flow runs
    try:
        # So is another database's backup (or a manifest renamed or altered): refused before anything is written.
        store.check_identity(manifest)
    except BackupError as error:
        raise RotaGuardError(f"refusing to restore {backup_id}: {error}") from None
    params, outcome = run_gated_command(
        settings=settings,
        database=store.database,
        subject="restore",
        what=f"restoring from {backup_id}",
        yes=yes,
        load_flow=_restore_flow,
        values={
            "backup_id": backup_id,
            "scope": scope.value,
            "start": first,
            "end": last,
            "auto_approve_as": actor() if yes else None,
            "approval_timeout_seconds": approval_timeout,
        },
        question=lambda params: f"Restore {params.what} from {backup_id}?",
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
    settings, store = backup_store()
    if yes:  # asked to delete: whether this actor may is known before the plan
        authorize(store.database, "backup prune")
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
    deleted = store.prune(plan, actor=actor())
    if json_output:
        emit_json({"ok": True, "deleted": deleted, **listing})
    else:
        console.print(f"Deleted {len(deleted)} backups: {', '.join(deleted)}.")


@offsite_app.command("sync")
def offsite_sync(json_output: JsonOption = False) -> None:
    """Copy every verified backup whose off-site copy is missing or pending to S3."""
    from rotaguard.backups.offsite import copy_offsite

    settings, store = backup_store()
    authorize(store.database, "backup offsite sync")
    if not settings.s3_bucket:
        raise RotaGuardError("ROTAGUARD_S3_BUCKET is not set: there is nowhere to copy to")
    results: list[dict[str, str | None]] = []
    failures: list[str] = []
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

    settings, store = backup_store()
    authorize(store.database, "backup offsite fetch")
    fetch_offsite(settings, backup_id, store.directory, allow_plaintext=True if allow_plaintext else None)
    _verify_and_show(
        store, backup_id, json_output, title=f"Fetched {backup_id}", bad=f"fetched backup {backup_id} is bad"
    )
