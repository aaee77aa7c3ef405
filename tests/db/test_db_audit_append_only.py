"""The audit log is append-only in the database itself, and any tampering shows in the chain."""

import datetime as dt
import random
from collections import Counter

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import IntegrityError

from audit_tamper import append_events, audit_triggers, triggers_bypassed
from rotaguard.db import AuditLog, Database
from rotaguard.db.migrate import alembic_config, current_revision, downgrade, upgrade
from rotaguard.db.tables import AuditEventRow

REFUSED = "audit_events is append-only"


def _snapshot(database):
    with database.read() as session:
        return [(e.id, e.actor, e.action, e.details, e.hash) for e in reversed(AuditLog(session).events())]


def test_an_orm_update_is_refused(database):
    append_events(database, 3)
    before = _snapshot(database)
    with pytest.raises(IntegrityError, match=f"{REFUSED}: UPDATE is refused"):
        with database.write() as session:
            session.get(AuditEventRow, 2).actor = "mallory"
    with pytest.raises(IntegrityError, match=f"{REFUSED}: UPDATE is refused"):
        with database.write() as session:
            session.execute(update(AuditEventRow).values(details={}))
    assert _snapshot(database) == before


def test_a_delete_is_refused(database):
    append_events(database, 3)
    before = _snapshot(database)
    with pytest.raises(IntegrityError, match=f"{REFUSED}: DELETE is refused"):
        with database.write() as session:
            session.delete(session.get(AuditEventRow, 3))
    with pytest.raises(IntegrityError, match=f"{REFUSED}: DELETE is refused"):
        with database.write() as session:
            session.execute(delete(AuditEventRow).where(AuditEventRow.id >= 2))
    assert _snapshot(database) == before


def test_emptying_the_table_is_refused(database):
    """PostgreSQL: TRUNCATE (a statement trigger). SQLite has no TRUNCATE: its equivalent, a
    DELETE without WHERE (normally the "truncate optimisation"), must fire the trigger too."""
    append_events(database, 3)
    statement = "TRUNCATE audit_events" if database.kind == "postgresql" else "DELETE FROM audit_events"
    refused = "TRUNCATE" if database.kind == "postgresql" else "DELETE"
    with pytest.raises(IntegrityError, match=f"{REFUSED}: {refused} is refused"):
        with database.write() as session:
            session.execute(text(statement))
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(AuditEventRow)) == 3
        assert AuditLog(session).verify().ok


def test_appending_still_works_and_the_bypass_leaves_the_triggers_on(database):
    append_events(database, 2)
    names = audit_triggers(database)
    assert len(names) == 2
    with triggers_bypassed(database) as session:
        session.get(AuditEventRow, 1).actor = "changed under the bypass"
    assert audit_triggers(database) == names
    with pytest.raises(IntegrityError, match=REFUSED):
        with database.write() as session:
            session.get(AuditEventRow, 2).actor = "mallory"
    append_events(database, 1, start=2)
    with database.read() as session:
        assert AuditLog(session).verify().first_bad_id == 1


def _tampered(field: str, row: AuditEventRow):
    if field == "actor":
        return row.actor + "~"
    if field == "action":
        return "x" + row.action
    if field == "subject":
        return row.subject + "!"
    if field == "details":
        return {**row.details, "n": row.details["n"] + 1000}
    if field == "occurred_at":
        return row.occurred_at + dt.timedelta(seconds=1)
    if field in ("hash", "prev_hash"):
        value = getattr(row, field)
        return value[:-1] + ("0" if value[-1] != "0" else "1")
    raise AssertionError(field)


FIELDS = ("actor", "action", "details", "occurred_at", "hash", "subject", "prev_hash")
CASES = 100
CHAIN = 150


def test_tampering_with_any_event_is_detected(database):
    """100 single-field edits to random events, each on the intact chain (the original value
    is put back after each case): every one found, at the edited event."""
    append_events(database, CHAIN)
    with database.read() as session:
        ids = [e.id for e in reversed(AuditLog(session).events())]
        assert AuditLog(session).verify().ok and len(ids) == CHAIN
    rng = random.Random(20261122)
    detected, wrong, fields = 0, [], Counter()
    for case in range(CASES):
        target = rng.choice(ids)
        field = rng.choice(FIELDS)
        fields[field] += 1
        with triggers_bypassed(database) as session:
            row = session.get(AuditEventRow, target)
            original = getattr(row, field)
            setattr(row, field, _tampered(field, row))
        with database.read() as session:
            check = AuditLog(session).verify()
        if not check.ok:
            detected += 1
            if check.first_bad_id != target:
                wrong.append((case, field, target, check.first_bad_id, check.reason))
        with triggers_bypassed(database) as session:
            setattr(session.get(AuditEventRow, target), field, original)
        with database.read() as session:
            assert AuditLog(session).verify().ok, (
                f"case {case}: the original {field} of event {target} was not restored"
            )
    assert (detected, wrong) == (CASES, [])
    assert set(fields) == set(FIELDS)
    assert audit_triggers(database)


def test_the_migration_is_0003_on_top_of_0002():
    script = ScriptDirectory.from_config(alembic_config()).get_revision("0003")
    assert script.down_revision == "0002" and script.path.endswith("0003_audit_append_only.py")


def test_the_migration_upgrades_and_downgrades(empty_database_url):
    database = Database(empty_database_url)
    try:
        upgrade(database, "0002")
        assert current_revision(database) == "0002" and audit_triggers(database) == set()
        upgrade(database, "0003")
        expected = (
            {"audit_events_no_update_delete", "audit_events_no_truncate"}
            if database.kind == "postgresql"
            else {"audit_events_no_update", "audit_events_no_delete"}
        )
        assert current_revision(database) == "0003" and audit_triggers(database) == expected
        append_events(database, 2)
        with pytest.raises(IntegrityError, match=REFUSED):
            with database.write() as session:
                session.execute(delete(AuditEventRow))

        downgrade(database, "0002")
        assert current_revision(database) == "0002" and audit_triggers(database) == set()
        with database.write() as session:
            session.execute(delete(AuditEventRow).where(AuditEventRow.id == 2))
        if database.kind == "postgresql":
            with database.engine.connect() as connection:
                assert connection.scalar(text("SELECT to_regprocedure('audit_events_append_only()')")) is None

        upgrade(database)
        assert audit_triggers(database) == expected
        with pytest.raises(IntegrityError, match=REFUSED):
            with database.write() as session:
                session.execute(delete(AuditEventRow))
    finally:
        database.dispose()
