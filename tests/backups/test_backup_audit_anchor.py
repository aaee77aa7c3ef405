"""The audit anchor beside the backups, and restores with the append-only triggers in place."""

import datetime as dt
import json

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from audit_tamper import append_events, audit_triggers, delete_tail, triggers_bypassed
from factories import dumps, program_document
from rotaguard.db import AuditLog, Database
from rotaguard.db.anchor import ANCHOR_FILE, check_anchor, read_anchor
from rotaguard.db.tables import AssignmentRow, AuditEventRow


def _head(database):
    with database.read() as session:
        return AuditLog(session).head()


def _chain(database):
    with database.read() as session:
        return [(e.id, e.hash) for e in reversed(AuditLog(session).events())]


def _anchor_check(store):
    with store.database.read() as session:
        return check_anchor(session, read_anchor(store.directory))


def test_a_backup_writes_the_audit_head_to_its_manifest_and_the_anchor(store, seeded_database):
    append_events(seeded_database, 4)
    head = _head(seeded_database)
    assert head.events == 5 and head.event_id is not None
    manifest = store.create()
    assert manifest.audit_head.model_dump() == head.as_dict()
    assert store.get(manifest.id).audit_head == manifest.audit_head  # the manifest on disk
    anchor = read_anchor(store.directory)
    assert anchor.head == head and anchor.backup_id == manifest.id
    raw = json.loads((store.directory / ANCHOR_FILE).read_text())
    assert raw["event_id"] == head.event_id and raw["hash"] == head.hash and raw["events"] == 5
    assert not list(store.directory.glob(".*partial"))
    assert _anchor_check(store).ok


def test_the_anchor_moves_forward_only(store, seeded_database):
    first = store.create()
    assert read_anchor(store.directory).backup_id == first.id and first.audit_head.events == 1
    append_events(seeded_database, 3)
    second = store.create()
    assert read_anchor(store.directory).backup_id == second.id and read_anchor(store.directory).head.events == 4
    removed = delete_tail(seeded_database, 2)
    third = store.create()  # the chain is shorter now: the anchor must stay where it was
    assert third.audit_head.events == 2
    anchor = read_anchor(store.directory)
    assert anchor.backup_id == second.id and anchor.head.events == 4
    check = _anchor_check(store)
    assert not check.ok and list(check.missing_ids) == removed and "truncated" in check.reason
    # Appending past the old count does not move it either: the anchored event is gone.
    append_events(seeded_database, 5, start=10)
    store.create()
    assert read_anchor(store.directory).backup_id == second.id
    assert not _anchor_check(store).ok


def test_a_rewritten_chain_is_caught_by_the_anchor(store, seeded_database):
    """Re-hashing the whole chain after an edit keeps it internally consistent; the anchor is not."""
    append_events(seeded_database, 3)
    store.create()
    from rotaguard.db.audit import GENESIS_HASH, event_hash

    with triggers_bypassed(seeded_database) as session:
        rows = list(session.scalars(select(AuditEventRow).order_by(AuditEventRow.id)))
        # Unique hashes: clear them first, then write the new chain.
        for row in rows:
            row.prev_hash, row.hash = f"tmp-p{row.id}", f"tmp-h{row.id}"
        session.flush()
        rows[1].details = {"n": 42}
        prev = GENESIS_HASH
        for row in rows:
            row.prev_hash = prev
            row.hash = prev = event_hash(
                prev_hash=prev,
                occurred_at=row.occurred_at,
                actor=row.actor,
                action=row.action,
                subject=row.subject,
                details=row.details,
            )
    with seeded_database.read() as session:
        assert AuditLog(session).verify().ok
    check = _anchor_check(store)
    assert not check.ok and "rewritten" in check.reason and check.first_bad_id == rows[-1].id


# ---------------------------------------------------------------------------- the CLI


def _import(cli, tmp_path):
    path = tmp_path / "p.json"
    path.write_text(dumps(program_document()))
    assert cli("program", "import", str(path)).code == 0


def test_verify_without_an_anchor_says_so_and_passes(cli, tmp_path):
    """A database nothing was audited in yet has no anchor; its first audited write makes one."""
    result = cli("audit", "verify")
    assert result.code == 0 and "No audit anchor yet" in result.out and result.err == ""
    report = json.loads(cli("audit", "verify", "--json").out)
    assert report["ok"] is True and report["anchor"] is None and report["anchor_ok"] is None
    assert report["triggers_ok"] is True and report["trigger_problems"] == []
    _import(cli, tmp_path)
    report = json.loads(cli("audit", "verify", "--json").out)
    assert report["ok"] is True and report["anchor_ok"] is True
    assert report["anchor"]["event_id"] == 1 and report["anchor"]["backup_id"] == ""


# ---------------------------------------------------------------------------- issue 26, item 6


def _anchored_database(database_url, tmp_path) -> Database:
    """A handle on the test's database that moves the anchor as the CLI and the flows do."""
    return Database(database_url, audit_anchor_dir=tmp_path / "home" / "backups")


def test_every_audited_write_moves_the_anchor_so_a_tail_deleted_without_any_backup_is_reported(
    cli, tmp_path, database_url
):
    """No backup at all: the events written after the last one were the ones an attacker could remove unseen."""
    _import(cli, tmp_path)
    database = _anchored_database(database_url, tmp_path)
    try:
        append_events(database, 6)
        assert read_anchor(tmp_path / "home" / "backups").head == _head(database)
        assert cli("audit", "verify").code == 0
        removed = delete_tail(database, 2)  # triggers bypassed for the one transaction, then back on
    finally:
        database.dispose()
    assert not list((tmp_path / "home" / "backups").glob("*.dump"))  # never a backup
    result = cli("audit", "verify")
    assert result.code == 1 and result.out == "" and result.err.count("\n") == 1
    assert result.err.startswith("rotaguard: error: audit log truncated: ")
    assert f"events {removed[0]}-{removed[-1]} are missing" in result.err and "after an audited write" in result.err
    payload = json.loads(cli("audit", "verify", "--json").out)
    assert payload["chain_ok"] is True and payload["anchor_ok"] is False and payload["missing_ids"] == removed
    health = cli("health", "--json")
    assert health.code == 1 and "unhealthy: audit: audit log truncated" in health.err
    audit = json.loads(health.out)["audit"]
    assert audit["ok"] is False and audit["anchor_ok"] is False and audit["triggers_ok"] is True
    # Writing on does not paper over it: the anchor stays at the removed events.
    _import(cli, tmp_path)
    assert cli("audit", "verify").code == 1


def _drop_one_trigger(database: Database) -> str:
    name = "audit_events_no_delete" if database.kind == "sqlite" else "audit_events_no_update_delete"
    with database.write() as session:
        on = "" if database.kind == "sqlite" else " ON audit_events"
        session.connection().exec_driver_sql(f"DROP TRIGGER {name}{on}")
    return name


def test_missing_append_only_triggers_fail_audit_verify_and_health(cli, tmp_path, database_url):
    _import(cli, tmp_path)
    health = json.loads(cli("health", "--json").out)["audit"]
    assert health["ok"] is True and health["triggers_ok"] is True and health["anchor_ok"] is True
    database = Database(database_url)
    try:
        name = _drop_one_trigger(database)
        assert name not in audit_triggers(database)
    finally:
        database.dispose()
    result = cli("audit", "verify")
    assert result.code == 1 and result.out == "" and result.err.count("\n") == 1
    assert result.err == f"rotaguard: error: audit log not protected: trigger {name} is missing\n"
    payload = json.loads(cli("audit", "verify", "--json").out)
    assert payload["chain_ok"] is True and payload["triggers_ok"] is False
    assert payload["trigger_problems"] == [f"trigger {name} is missing"]
    health = cli("health", "--json")
    assert health.code == 1 and f"audit: audit log not protected: trigger {name} is missing" in health.err
    assert json.loads(health.out)["audit"]["trigger_problems"] == [f"trigger {name} is missing"]


@pytest.mark.parametrize("db_kind", ["postgresql"])
def test_disabled_triggers_and_replica_mode_by_default_fail_audit_verify(cli, tmp_path, database_url):
    """PostgreSQL's other two ways to keep the triggers from firing: ALTER TABLE ... DISABLE TRIGGER,
    and session_replication_role = replica as the database's default."""
    _import(cli, tmp_path)
    database = Database(database_url)
    try:
        with database.write() as session:
            session.connection().exec_driver_sql("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_truncate")
        result = cli("audit", "verify")
        assert result.code == 1
        assert result.err == "rotaguard: error: audit log not protected: trigger audit_events_no_truncate is disabled\n"
        with database.write() as session:
            session.connection().exec_driver_sql("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_truncate")
            name = session.connection().exec_driver_sql("SELECT current_database()").scalar()
            session.connection().exec_driver_sql(f'ALTER DATABASE "{name}" SET session_replication_role = replica')
    finally:
        database.dispose()
    result = cli("audit", "verify")
    assert result.code == 1 and "session_replication_role is replica by default" in result.err


def test_a_deleted_tail_is_reported_by_audit_verify(cli, tmp_path, database_url):
    _import(cli, tmp_path)
    database = Database(database_url)
    try:
        append_events(database, 12)
        assert cli("backup", "create").code == 0
        intact = cli("audit", "verify")
        assert intact.code == 0 and "reaches the audit anchor (event" in intact.out
        removed = delete_tail(database, 3)
        with database.read() as session:
            assert AuditLog(session).verify().ok  # what is left is a consistent chain
    finally:
        database.dispose()
    result = cli("audit", "verify")
    assert result.code == 1 and result.out == ""
    assert result.err.count("\n") == 1 and result.err.startswith("rotaguard: error: audit log truncated: ")
    assert f"events {removed[0]}-{removed[-1]} are missing" in result.err
    report = cli("audit", "verify", "--json")
    assert report.code == 1
    payload = json.loads(report.out)
    assert payload["ok"] is False and payload["chain_ok"] is True and payload["anchor_ok"] is False
    assert payload["missing_ids"] == removed and payload["first_bad_id"] == removed[0]
    assert "truncated" in payload["reason"]
    # Another backup does not paper over it.
    assert cli("backup", "create").code == 0
    assert cli("audit", "verify").code == 1


def test_a_damaged_anchor_fails_verify(cli, tmp_path):
    _import(cli, tmp_path)
    assert cli("backup", "create").code == 0
    anchor = tmp_path / "home" / "backups" / ANCHOR_FILE
    anchor.write_text("{not json")
    result = cli("audit", "verify")
    assert result.code == 1 and result.err.count("\n") == 1 and "audit anchor" in result.err and "damaged" in result.err
    # A backup leaves the damaged anchor for a person to look at.
    assert cli("backup", "create").code == 0
    assert anchor.read_text() == "{not json"


# ---------------------------------------------------------------------------- restores


def test_full_restore_with_the_triggers_keeps_ids_chain_and_anchor(store, seeded_database, fresh_database):
    append_events(seeded_database, 2)
    manifest = store.create()
    # A rolled-back append after the backup leaves a gap in the ids on PostgreSQL (its sequence
    # is not transactional): the restore must put the newer events back under their own ids.
    with pytest.raises(RuntimeError):
        with seeded_database.write() as session:
            AuditLog(session).append(actor="test", action="test.rolled_back")
            raise RuntimeError("roll back")
    append_events(seeded_database, 3, start=10)
    with seeded_database.write() as session:
        session.execute(delete(AssignmentRow))
    store.create()  # the anchor now holds the newer head
    before = _chain(seeded_database)
    triggers = audit_triggers(seeded_database)
    assert triggers

    store.restore(manifest.id, actor="tester")

    after = _chain(fresh_database)
    assert after[: len(before)] == before and len(after) == len(before) + 1
    with fresh_database.read() as session:
        assert AuditLog(session).verify().ok
        assert (
            session.scalar(select(AuditEventRow.action).order_by(AuditEventRow.id.desc()).limit(1)) == "backup.restore"
        )
    assert _anchor_check(store).ok
    assert audit_triggers(fresh_database) == triggers
    with pytest.raises(IntegrityError, match="append-only"):
        with fresh_database.write() as session:
            session.execute(update(AuditEventRow).values(actor="mallory"))
    append_events(fresh_database, 1, start=20)  # ids continue after the re-appended ones
    with fresh_database.read() as session:
        assert AuditLog(session).verify().ok


def test_range_restore_with_the_triggers_keeps_the_chain(store, seeded_database, fresh_database):
    manifest = store.create()
    march_12 = dt.date(2026, 3, 12)
    with seeded_database.write() as session:
        session.execute(delete(AssignmentRow).where(AssignmentRow.date == march_12))
    append_events(seeded_database, 2)
    before = _chain(seeded_database)
    store.restore(manifest.id, scope="assignments", start=march_12, end=march_12, actor="tester")
    with fresh_database.read() as session:
        assert len(session.scalars(select(AssignmentRow).where(AssignmentRow.date == march_12)).all()) == 2
        assert AuditLog(session).verify().ok
    assert _chain(fresh_database)[: len(before)] == before
    assert _anchor_check(store).ok


def test_restore_and_verify_through_the_cli(cli, prefect_api, tmp_path):
    _import(cli, tmp_path)
    created = json.loads(cli("backup", "create", "--json").out)
    assert created["audit_head"]["events"] == 1
    assert cli("backup", "restore", created["id"], "--yes").code == 0
    assert (
        cli(
            "backup",
            "restore",
            created["id"],
            "--scope",
            "assignments",
            "--start",
            "2026-03-12",
            "--end",
            "2026-03-12",
            "--yes",
        ).code
        == 0
    )
    report = json.loads(cli("audit", "verify", "--json").out)
    assert report["ok"] is True and report["anchor_ok"] is True and report["events"] >= 3
