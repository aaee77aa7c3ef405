"""The nightly-backup and restore-backup flows against a real Prefect API, on SQLite and PostgreSQL.

Their pauses are answered through the API exactly as the Prefect UI's Resume form does
(`resume_flow_run` with `run_input`); the flow runs in a thread of the test's process.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from sqlalchemy import select

from backupdata import old_backups
from dbstate import table_rows
from factories import program_document
from pausing import Running
from rotaguard.backups import BackupStatus
from rotaguard.db import AssignmentRepository, AuditLog, Database
from rotaguard.db.locks import SCHEDULE_WRITES, acquire_lock, release_lock
from rotaguard.db.tables import AssignmentRow, AuditEventRow
from rotaguard.flows.nightly_backup import NightlyBackupParams, nightly_backup
from rotaguard.flows.restore_backup import RestoreParams, restore_backup
from rotaguard.interchange.document import parse_document
from rotaguard.interchange.importer import import_document
from rotaguard.tasks.context import open_store

MARCH_12, MARCH_13 = dt.date(2026, 3, 12), dt.date(2026, 3, 13)
# Operational tables a full restore keeps as they are now (see BackupStore.restore).
OPERATIONAL = ("audit_events", "backup_records", "operation_locks")


def _seed(database_url: str) -> Database:
    database = Database(database_url)
    import_document(database, parse_document(json.dumps(program_document())), actor="test", source="factory")
    return database


def _old_backups(database: Database, count: int) -> list[str]:
    return old_backups(open_store(database), count)


def _artifact_rows(flow_run_id: str, key: str) -> list[dict]:
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[uuid.UUID(flow_run_id)]), key=ArtifactFilterKey(any_=[key])
            )
        )
    assert artifacts, f"no {key} artifact on run {flow_run_id}"
    data = artifacts[0].data
    return json.loads(data) if isinstance(data, str) else data


def _actions(database: Database) -> list[tuple[str, str]]:
    with database.read() as session:
        return [(e.actor, e.action) for e in reversed(AuditLog(session).events())]


# ---------------------------------------------------------------- nightly-backup


def test_nightly_backup_with_nothing_old_creates_a_verified_backup_and_does_not_pause(flow_env):
    database = _seed(flow_env)
    outcome = nightly_backup(NightlyBackupParams())
    store = open_store(database)
    manifest = store.get(outcome.backup_id)
    assert manifest.status is BackupStatus.VERIFIED and manifest.label == "regular"
    assert outcome.offsite == "none" and outcome.deleted == [] and outcome.deletion_decision == "nothing to delete"
    rows = _artifact_rows(outcome.flow_run_id, "nightly-backup")
    assert [(r["backup"], r["action"]) for r in rows] == [(outcome.backup_id, "kept")]
    database.dispose()


def test_nightly_backup_pauses_before_deleting_and_deletes_only_after_confirmation(flow_env):
    from prefect.flow_runs import resume_flow_run

    database = _seed(flow_env)
    baseline, *old = _old_backups(
        database, 4
    )  # the oldest stays as the baseline; the newest old one stays among the newest 2
    deletable = old[:2]
    store = open_store(database)
    request_id = str(uuid.uuid4())
    run = Running(lambda: nightly_backup(NightlyBackupParams(request_id=request_id)))
    pending = run.paused(request_id)
    for backup_id in deletable:
        assert f"| {backup_id} |" in pending.description
    assert f"| {baseline} |" not in pending.description and f"| {old[2]} |" not in pending.description
    assert "older than 30" in pending.description
    # The form refuses a blank name: the run stays paused and nothing is deleted.
    with pytest.raises(RuntimeError, match="Validation failed for field 'confirmed_by'"):
        resume_flow_run(uuid.UUID(pending.flow_run_id), run_input={"delete": True, "confirmed_by": "   "})
    assert all(store.get(i) for i in deletable)
    outcome = run.answer(request_id, {"delete": True, "confirmed_by": "A-01", "comment": "ok"})
    assert sorted(outcome.deleted) == sorted(deletable) and outcome.not_deleted == []
    remaining = {m.id for m in store.list()}
    assert not remaining & set(deletable)
    assert {baseline, old[2], outcome.backup_id} <= remaining
    for backup_id in deletable:
        assert not (store.directory / f"{backup_id}.dump").exists()
    actions = _actions(database)
    assert ("A-01", "backup.prune_decision") in actions and ("A-01", "backup.prune") in actions
    rows = {(r["backup"], r["action"]) for r in _artifact_rows(outcome.flow_run_id, "nightly-backup")}
    assert {(i, "deleted") for i in deletable} | {(baseline, "kept"), (outcome.backup_id, "kept")} <= rows
    database.dispose()


@pytest.mark.parametrize("answer", ["rejected", "timed out"])
def test_a_rejected_or_unanswered_deletion_deletes_nothing(flow_env, answer):
    database = _seed(flow_env)
    _, *old = _old_backups(database, 3)
    store = open_store(database)
    before = {m.id for m in store.list()}
    request_id = str(uuid.uuid4())
    timeout = 10 if answer == "timed out" else 600
    run = Running(
        lambda: nightly_backup(NightlyBackupParams(request_id=request_id, confirmation_timeout_seconds=timeout))
    )
    if answer == "rejected":
        outcome = run.answer(request_id, {"delete": False, "confirmed_by": "Night Coordinator"})
        assert outcome.deletion_decision == "deletion rejected by Night Coordinator"
    else:
        outcome = run.outcome()
        assert outcome.deletion_decision == "deletion not confirmed in time"
    assert outcome.deleted == [] and outcome.not_deleted == [old[0]]
    assert before <= {m.id for m in store.list()}
    assert "backup.prune" not in [a for _, a in _actions(database)]
    database.dispose()


def test_nightly_backup_copies_off_site_and_keeps_what_is_pending(flow_env, s3_endpoint, monkeypatch):
    import boto3

    bucket = f"nightly-{uuid.uuid4().hex[:12]}"
    boto3.client(
        "s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
    ).create_bucket(Bucket=bucket)
    for name, value in {
        "S3_BUCKET": bucket,
        "S3_ENDPOINT_URL": s3_endpoint,
        "S3_REGION": "us-east-1",
        "S3_ACCESS_KEY_ID": "synthetic-key",
        "S3_SECRET_ACCESS_KEY": "synthetic-secret",
    }.items():
        monkeypatch.setenv(f"ROTAGUARD_{name}", value)
    database = _seed(flow_env)
    first = nightly_backup(NightlyBackupParams())
    assert first.offsite == "copied" and first.pending_offsite == []
    # S3 goes away: the local backup is still made and verified, its copy is pending, nothing is deleted.
    monkeypatch.setenv("ROTAGUARD_S3_ENDPOINT_URL", "http://127.0.0.1:9")
    second = nightly_backup(NightlyBackupParams())
    store = open_store(database)
    assert store.get(second.backup_id).status is BackupStatus.VERIFIED
    assert second.offsite == "pending" and second.pending_offsite == [second.backup_id] and second.deleted == []
    rows = {(r["backup"], r["action"]) for r in _artifact_rows(second.flow_run_id, "nightly-backup")}
    assert (second.backup_id, "pending off-site") in rows
    database.dispose()


# ---------------------------------------------------------------- restore-backup


def _data_tables(database: Database) -> dict:
    return {name: rows for name, rows in table_rows(database).items() if name not in OPERATIONAL}


def _change_schedule(database: Database) -> None:
    with database.write() as session:
        session.execute(AssignmentRow.__table__.delete().where(AssignmentRow.date == MARCH_12))
        session.execute(AssignmentRow.__table__.update().where(AssignmentRow.date == MARCH_13).values(locked=True))


def test_full_restore_pauses_with_row_counts_and_restores_after_approval(flow_env):
    database = _seed(flow_env)
    store = open_store(database)
    backup = store.create(label="regular")
    wanted = _data_tables(database)
    _change_schedule(database)
    changed = _data_tables(database)
    assert changed != wanted
    request_id = str(uuid.uuid4())
    run = Running(lambda: restore_backup(RestoreParams(backup_id=backup.id, request_id=request_id)))
    pending = run.paused(request_id)
    now = len(changed["assignments"])
    assert f"| assignments | {now:,} | {backup.tables['assignments'].rows:,} |" in pending.description
    assert _data_tables(database) == changed  # nothing restored while waiting
    outcome = run.answer(request_id, {"approve": True, "approver": "A-01", "comment": "roll back the bad edit"})
    assert outcome.status == "restored", outcome.reason
    assert outcome.approved_by == "A-01"
    assert _data_tables(database) == wanted
    pre_restore = store.get(outcome.pre_restore_backup_id)
    assert pre_restore.status is BackupStatus.VERIFIED and pre_restore.label == "pre-op:restore"
    assert pre_restore.tables["assignments"].rows == len(changed["assignments"])
    actions = _actions(database)
    assert ("A-01", "backup.restore_approval") in actions and ("A-01", "backup.restore") in actions
    with database.read() as session:
        assert AuditLog(session).verify().ok
    changes = _artifact_rows(outcome.flow_run_id, "restore-changes")
    assert {"assignments", "people", "audit_events"} <= {c["table"] for c in changes}
    database.dispose()


def test_range_restore_changes_only_that_range(flow_env):
    database = _seed(flow_env)
    store = open_store(database)
    backup = store.create(label="regular")
    with database.read() as session:
        march_12 = AssignmentRepository(session).digest(start=MARCH_12, end=MARCH_12)
    _change_schedule(database)
    with database.read() as session:
        march_13_changed = AssignmentRepository(session).digest(start=MARCH_13, end=MARCH_13)
    request_id = str(uuid.uuid4())
    run = Running(
        lambda: restore_backup(
            RestoreParams(backup_id=backup.id, scope="assignments", start=MARCH_12, end=MARCH_12, request_id=request_id)
        )
    )
    pending = run.paused(request_id)
    assert f"| assignments {MARCH_12}..{MARCH_12} | 0 | 2 | +2 |" in pending.description
    outcome = run.answer(request_id, {"approve": True, "approver": "A-01"})
    assert outcome.status == "restored", outcome.reason
    with database.read() as session:
        assert AssignmentRepository(session).digest(start=MARCH_12, end=MARCH_12) == march_12
        assert AssignmentRepository(session).digest(start=MARCH_13, end=MARCH_13) == march_13_changed
    database.dispose()


def test_a_rejected_restore_changes_nothing(flow_env):
    database = _seed(flow_env)
    store = open_store(database)
    backup = store.create(label="regular")
    _change_schedule(database)
    changed = _data_tables(database)
    request_id = str(uuid.uuid4())
    run = Running(lambda: restore_backup(RestoreParams(backup_id=backup.id, request_id=request_id)))
    outcome = run.answer(request_id, {"approve": False, "approver": "A-01", "comment": "wrong backup"})
    assert outcome.status == "rejected" and outcome.reason == "rejected by A-01"
    assert _data_tables(database) == changed
    assert ("A-01", "backup.restore_approval") in _actions(database)
    assert "backup.restore" not in [a for _, a in _actions(database)]
    database.dispose()


def test_a_corrupt_backup_is_refused_before_anything_is_touched(flow_env):
    database = _seed(flow_env)
    store = open_store(database)
    backup = store.create(label="regular")
    path = backup.path_in(store.directory)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    _change_schedule(database)
    changed = _data_tables(database)
    backups_before = {m.id for m in store.list()}
    outcome = restore_backup(RestoreParams(backup_id=backup.id, auto_approve_as="A-01"))
    assert outcome.status == "failed" and "not a good backup" in outcome.reason
    assert outcome.pre_restore_backup_id is None
    assert _data_tables(database) == changed
    assert {m.id for m in store.list()} == backups_before  # no pre-restore backup either
    database.dispose()


def test_a_restore_that_does_not_verify_is_undone_from_the_pre_restore_backup(flow_env, monkeypatch):
    from rotaguard.backups.store import BackupStore

    database = _seed(flow_env)
    store = open_store(database)
    backup = store.create(label="regular")
    _change_schedule(database)
    changed = _data_tables(database)
    real_check = BackupStore.check_restored
    calls = []

    def first_check_fails(self, manifest, **kwargs):
        calls.append(manifest.id)
        return "assignments (injected difference)" if len(calls) == 1 else real_check(self, manifest, **kwargs)

    monkeypatch.setattr(BackupStore, "check_restored", first_check_fails)
    outcome = restore_backup(RestoreParams(backup_id=backup.id, auto_approve_as="A-01"))
    assert outcome.status == "rolled_back" and "injected difference" in outcome.reason
    assert calls == [backup.id, outcome.pre_restore_backup_id]
    assert _data_tables(database) == changed
    assert ("rotaguard", "backup.restore_undone") in _actions(database)
    database.dispose()


def test_a_restore_waits_for_the_schedule_writes_lock(flow_env):
    database = _seed(flow_env)
    backup = open_store(database).create(label="regular")
    assert acquire_lock(
        database, name=SCHEDULE_WRITES, holder="someone-else", ttl=dt.timedelta(minutes=5), wait_seconds=0
    )
    try:
        outcome = restore_backup(RestoreParams(backup_id=backup.id, auto_approve_as="A-01", lock_wait_seconds=1))
    finally:
        release_lock(database, name=SCHEDULE_WRITES, holder="someone-else")
    assert outcome.status == "rejected" and "another schedule write" in outcome.reason
    with database.read() as session:
        assert (
            session.scalars(select(AuditEventRow).where(AuditEventRow.action.like("backup.restore%"))).first() is None
        )
    database.dispose()


def test_the_restore_parameters_are_bounded():
    with pytest.raises(ValueError, match="needs start and end"):
        RestoreParams(backup_id="rotaguard_20260101_000000", scope="assignments")
    with pytest.raises(ValueError, match="takes no start or end"):
        RestoreParams(backup_id="rotaguard_20260101_000000", start=MARCH_12, end=MARCH_12)
    with pytest.raises(ValueError, match="before start"):
        RestoreParams(backup_id="rotaguard_20260101_000000", scope="assignments", start=MARCH_13, end=MARCH_12)
    with pytest.raises(ValueError, match="at most 366"):
        RestoreParams(
            backup_id="rotaguard_20260101_000000",
            scope="assignments",
            start=MARCH_12,
            end=MARCH_12 + dt.timedelta(days=366),
        )
    with pytest.raises(ValueError, match="string_pattern_mismatch|should match pattern"):
        RestoreParams(backup_id="../../etc/passwd")
