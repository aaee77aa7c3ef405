"""Tampering with the audit log the way an attacker with database superuser rights could:
with the append-only triggers switched off for one transaction, then back on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from rotaguard.db import AuditLog, Database
from rotaguard.db.tables import AuditEventRow


def audit_triggers(database: Database) -> set[str]:
    """The names of the triggers on audit_events."""
    with database.engine.connect() as connection:
        if database.kind == "postgresql":
            query = "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_events'::regclass AND NOT tgisinternal"
        else:
            query = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_events'"
        return {name for (name,) in connection.execute(text(query))}


@contextmanager
def triggers_bypassed(database: Database) -> Iterator[Session]:
    """A write transaction in which the append-only triggers do not fire.

    PostgreSQL: ``SET LOCAL session_replication_role = replica`` (superuser only; ends with the
    transaction). SQLite: drop the triggers and create them again before the commit.
    """
    with database.write() as session:
        connection = session.connection()
        if database.kind == "postgresql":
            connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
            yield session
            session.flush()
            return
        triggers = connection.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_events'"
        ).all()
        assert triggers, "no append-only triggers to bypass"
        for name, _ in triggers:
            connection.exec_driver_sql(f'DROP TRIGGER "{name}"')
        yield session
        session.flush()
        for _, sql in triggers:
            connection.exec_driver_sql(sql)


def append_events(database: Database, count: int, *, start: int = 0) -> None:
    with database.write() as session:
        log = AuditLog(session)
        for index in range(start, start + count):
            log.append(
                actor="coordinator", action="test.event", subject=f"s{index}", details={"n": index, "ünï": "cödé"}
            )


def delete_tail(database: Database, count: int) -> list[int]:
    """Remove the newest ``count`` events; the rest stays a consistent chain. Returns their ids."""
    with triggers_bypassed(database) as session:
        ids = list(session.scalars(select(AuditEventRow.id).order_by(AuditEventRow.id.desc()).limit(count)))
        for event_id in ids:
            session.delete(session.get(AuditEventRow, event_id))
    return sorted(ids)
