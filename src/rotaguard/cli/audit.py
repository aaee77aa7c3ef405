"""``rotaguard audit``: read and verify the hash-chained audit log."""

from __future__ import annotations

from typing import Annotated

import typer

from rotaguard.cli.context import load_settings, open_database, require_current_schema
from rotaguard.cli.output import JsonOption, console, emit_json, table
from rotaguard.db import AuditLog
from rotaguard.errors import RotaGuardError

audit_app = typer.Typer(help="Read and verify the hash-chained audit log.", no_args_is_help=True)


@audit_app.command("verify")
def audit_verify(json_output: JsonOption = False) -> None:
    """Recompute the audit log's hash chain, check it still reaches the audit anchor (moved by every
    audited write and every backup) and that the append-only triggers are in force; exit 1 when any
    event was altered or removed, or the triggers are missing."""
    from rotaguard.db.anchor import AnchorError, anchor_path, check_anchor, read_anchor
    from rotaguard.db.audit import append_only_problems

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
        trigger_problems = append_only_problems(session)
    if not check.ok:
        reason, first_bad_id = f"audit chain broken: {check.reason}", check.first_bad_id
    elif anchor_error is not None:
        reason, first_bad_id = anchor_error, None
    elif anchored is not None and not anchored.ok:
        reason, first_bad_id = anchored.reason, anchored.first_bad_id
    elif trigger_problems:
        reason, first_bad_id = f"audit log not protected: {'; '.join(trigger_problems)}", None
    else:
        reason, first_bad_id = "", None
    if reason and trigger_problems and not reason.startswith("audit log not protected"):
        reason += f"; and the audit log is not protected: {'; '.join(trigger_problems)}"
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
                "triggers_ok": not trigger_problems,
                "trigger_problems": trigger_problems,
            }
        )
    elif ok and anchor is None:
        console.print(
            f"Audit chain intact: {check.events} events; append-only triggers in force. No audit anchor yet in "
            f"{directory} (every audited write and every backup writes one): a removed tail of the log cannot be "
            "detected until then."
        )
    elif ok and anchor is not None:
        head = anchor.head
        reaches = f"event {head.event_id}, {head.events} events" if head.event_id is not None else "an empty log"
        source = f"backup {anchor.backup_id}" if anchor.backup_id else f"written {anchor.written_at.isoformat()}"
        console.print(
            f"Audit chain intact: {check.events} events; it reaches the audit anchor ({reaches}, {source}); "
            "append-only triggers in force."
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
