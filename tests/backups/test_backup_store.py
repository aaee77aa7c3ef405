"""Create, verify, restore and prune on SQLite and PostgreSQL."""

import datetime as dt
import json

import pytest
from sqlalchemy import delete, insert, select, update

from rotaguard.backups import BackupError, BackupStatus
from rotaguard.backups.manifest import manifest_path, write_manifest
from rotaguard.db import AuditLog
from rotaguard.db.migrate import head_revision
from rotaguard.db.tables import AssignmentRow, BackupRecordRow


def test_create_writes_a_verified_backup_with_its_manifest(store, seeded_database):
    manifest = store.create()
    path = manifest.path_in(store.directory)
    assert path.is_file() and manifest_path(path).is_file()
    assert manifest.status is BackupStatus.VERIFIED and manifest.verified_at is not None
    assert manifest.id.startswith("rotaguard_") and manifest.file == f"{manifest.id}.dump"
    assert manifest.tables["people"].rows == 3 and manifest.tables["assignments"].rows == 3
    assert manifest.schema_revision == head_revision() and manifest.database_kind == seeded_database.kind
    assert not list(store.directory.glob(".*partial"))
    with seeded_database.read() as session:
        record = session.get(BackupRecordRow, manifest.id)
        assert record.status == "verified" and record.sha256 == manifest.sha256


def test_names_follow_the_label(store):
    assert store.create(label="sacred", verify=False).id.startswith("rotaguard_SACRED_")
    assert store.create(label="pre-op:generate-2026-03-12", verify=False).id.startswith(
        "rotaguard_pre-generate-2026-03-12_"
    )
    with pytest.raises(Exception, match="is not regular, sacred or pre-op"):
        store.create(label="../evil")


def test_manifest_digests_match_the_live_database(store, seeded_database):
    manifest = store.create()
    live = store.engine.live_digests()
    # The backup record written after the dump is the only difference.
    assert {k: v for k, v in live.items() if k != "backup_records"} == {
        k: v for k, v in manifest.tables.items() if k != "backup_records"
    }


def test_full_restore_round_trip_keeps_the_audit_chain(store, seeded_database, fresh_database):
    manifest = store.create()
    before = {k: v for k, v in manifest.tables.items() if k not in ("backup_records", "audit_events")}
    with seeded_database.write() as session:
        session.execute(delete(AssignmentRow))
        AuditLog(session).append(actor="test", action="test.after_backup", subject="x")
    store.restore(manifest.id, actor="tester")
    restored = store.engine.live_digests()
    assert {k: v for k, v in restored.items() if k in before} == before
    with fresh_database.read() as session:
        log = AuditLog(session)
        assert log.verify().ok
        actions = [e.action for e in reversed(log.events())]
    assert actions == ["program.import", "test.after_backup", "backup.restore"]


def test_range_restore_replaces_only_the_range(store, seeded_database, fresh_database):
    manifest = store.create()
    march_12 = dt.date(2026, 3, 12)
    with seeded_database.write() as session:
        session.execute(delete(AssignmentRow).where(AssignmentRow.date == march_12))
        session.execute(update(AssignmentRow).where(AssignmentRow.date == dt.date(2026, 3, 11)).values(locked=False))
        session.execute(
            insert(AssignmentRow),
            [
                {
                    "person_id": "R1-01",
                    "date": march_12,
                    "slot": "PM",
                    "rotation_id": "WARDS",
                    "source": "manual",
                    "locked": False,
                }
            ],
        )
    store.restore(manifest.id, scope="assignments", start=march_12, end=march_12, actor="tester")
    with fresh_database.read() as session:
        rows = session.execute(
            select(AssignmentRow.person_id, AssignmentRow.date, AssignmentRow.slot, AssignmentRow.locked)
        ).all()
    assert sorted(r for r in rows if r[1] == march_12) == [
        ("F-01", march_12, "AM", False),
        ("R1-01", march_12, "AM", False),
    ]
    # Outside the range the later change stays.
    assert [r for r in rows if r[1] == dt.date(2026, 3, 11)] == [("R2-01", dt.date(2026, 3, 11), "CALL", False)]


def test_restore_takes_a_pre_restore_backup_first(store):
    manifest = store.create()
    safety = store.restore(manifest.id, actor="tester")
    assert safety.label == "pre-op:restore" and safety.status is BackupStatus.VERIFIED
    assert {m.id for m in store.list()} == {manifest.id, safety.id}


def test_a_bad_backup_is_marked_and_the_good_one_kept(store):
    good = store.create()
    bad = store.create()
    path = bad.path_in(store.directory)
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    marked, checks = store.verify(bad.id)
    assert marked.status is BackupStatus.BAD and "sha256" in marked.failure
    assert store.get(good.id).status is BackupStatus.VERIFIED and good.path_in(store.directory).exists()
    with pytest.raises(BackupError, match="not a good backup"):
        store.restore(bad.id, actor="tester")


def _age(store, manifest, days):
    older = manifest.model_copy(update={"created_at": manifest.created_at - dt.timedelta(days=days)})
    write_manifest(older, store.directory)
    return older


def test_retention_rules(store):
    baseline = _age(store, store.create(), 90)
    old = [_age(store, store.create(), 60 - i) for i in range(3)]
    recent = [store.create() for _ in range(2)]
    plan = store.plan_prune()
    deleted = {m.id for m, _ in plan.delete}
    assert deleted == {m.id for m in old}
    reasons = {m.id: why for m, why in plan.keep}
    assert reasons[baseline.id] == "the sacred baseline"
    assert all("newest 2 verified" in reasons[m.id] for m in recent)
    assert sorted(store.prune(plan, actor="tester")) == sorted(deleted)
    assert {m.id for m in store.list()} == {baseline.id, *(m.id for m in recent)}


def test_nothing_is_pruned_while_the_newest_backup_is_unverified(store):
    for days in (60, 50, 40):
        _age(store, store.create(), days)
    store.create(verify=False)
    assert store.plan_prune().delete == []


def test_never_fewer_than_two_verified(store):
    first, second = (_age(store, store.create(), d) for d in (90, 80))
    plan = store.plan_prune()
    assert plan.delete == [] and {m.id for m, _ in plan.keep} == {first.id, second.id}


def test_pending_offsite_copies_are_kept(store):
    olds = [_age(store, store.create(), d) for d in (90, 60, 50)]
    for _ in range(2):
        store.create()
    assert {m.id for m, _ in store.plan_prune(offsite_required=True).delete} == set()
    assert {m.id for m, _ in store.plan_prune().delete} == {olds[1].id, olds[2].id}


def test_ids_are_checked_before_any_path_is_built(store):
    with pytest.raises(Exception, match="is not a backup id"):
        store.get("../../etc/passwd")
    with pytest.raises(BackupError, match="no backup"):
        store.get("rotaguard_19990101_000000")


def test_list_json_fields_through_the_cli(cli, prefect_api, tmp_path, monkeypatch):
    from factories import dumps, program_document

    path = tmp_path / "p.json"
    path.write_text(dumps(program_document()))
    cli("program", "import", str(path))
    created = cli("backup", "create", "--json")
    assert created.code == 0, created.err
    listed = json.loads(cli("backup", "list", "--json").out)
    assert {"id", "path", "label", "sha256", "status", "offsite"} <= set(listed[0])
    assert listed[0]["status"] == "verified" and listed[0]["offsite"] == "none"
    assert cli("backup", "verify", listed[0]["id"]).code == 0
    refused = cli("backup", "restore", listed[0]["id"])
    assert refused.code == 1 and "needs approval: rerun with --yes" in refused.err
    assert cli("backup", "restore", listed[0]["id"], "--yes", "--json").code == 0
    assert cli("audit", "verify").code == 0
