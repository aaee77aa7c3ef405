"""Whose backup it is (issue 26, item 3), on SQLite and PostgreSQL: every backup's manifest records
the database's identity (migration 0007) and a fingerprint made with the database's secret; verify
and restore refuse another database's backup, and a manifest renamed or altered, in one line and
before anything is written."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest

from dbstate import digest, table_rows
from factories import dumps, program_document
from rotaguard.backups import BackupError, BackupStatus, BackupStore
from rotaguard.backups.manifest import manifest_path, read_manifest, write_manifest
from rotaguard.backups.store import RESTORE_MARKER
from rotaguard.db import Database
from rotaguard.db.identity import read_identity
from rotaguard.interchange.document import parse_document
from rotaguard.interchange.importer import import_document


def _identity(database: Database):
    with database.engine.connect() as connection:
        return read_identity(connection)


@pytest.fixture
def other_store(database_factory, tmp_path):
    """Another database of the same kind, with the same program, and its own backup directory."""
    other = Database(database_factory())
    import_document(other, parse_document(dumps(program_document())), actor="test", source="factory")
    yield BackupStore(database=other, directory=tmp_path / "other-backups")
    other.dispose()


def _plant(foreign: BackupStore, backup_id: str, store: BackupStore, as_id: str) -> None:
    """Put another database's backup into ``store``'s directory under ``as_id``: its dump copied, its
    manifest renamed to that id (what the issue did by hand)."""
    manifest = foreign.get(backup_id)
    shutil.copyfile(manifest.path_in(foreign.directory), store.directory / f"{as_id}.dump")
    write_manifest(manifest.model_copy(update={"id": as_id, "file": f"{as_id}.dump"}), store.directory)


def _rows_but_backup_records(database: Database) -> dict[str, list]:
    return {name: rows for name, rows in table_rows(database).items() if name != "backup_records"}


def _listing(store: BackupStore) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(store.directory.iterdir())}


def test_a_backup_records_whose_it_is_and_verify_checks_it_first(store):
    manifest = store.create()
    live = _identity(store.database)
    assert manifest.identity is not None and manifest.identity.database_id == live.database_id
    assert manifest.identity.program == "Synthetic Test Program" and len(manifest.identity.fingerprint) == 64
    assert live.secret not in json.dumps(manifest.model_dump(mode="json"))  # the key never leaves the database
    verified, checks = store.verify(manifest.id)
    assert verified.status is BackupStatus.VERIFIED
    assert [c.name for c in checks] == ["identity", "sha256", "read_whole", "trial_restore", "digests"]
    assert checks[0].detail.startswith(f"a backup of this database {live.database_id.split('-')[0]} (")


def test_another_databases_backup_renamed_to_this_ones_id_is_refused_by_verify_and_restore(store, other_store):
    ours = store.create()
    _plant(other_store, other_store.create().id, store, ours.id)
    theirs, here = _identity(other_store.database), _identity(store.database)
    assert theirs.database_id != here.database_id
    before, files = digest(store.database), _listing(store)
    with pytest.raises(BackupError) as refused:
        store.restore(ours.id, scope="full", actor="A-01")
    message = str(refused.value)
    assert "\n" not in message and message.startswith(
        f"refusing to restore {ours.id}: {ours.id} is a backup of database "
    )
    assert theirs.database_id.split("-")[0] in message and here.database_id.split("-")[0] in message
    assert digest(store.database) == before and _listing(store) == files  # no pre-restore backup, no marker
    assert not (store.directory / RESTORE_MARKER).exists()
    marked, checks = store.verify(ours.id)
    assert marked.status is BackupStatus.BAD and [c.name for c in checks] == ["identity"]
    assert marked.failure.startswith(f"identity: {ours.id} is a backup of database {theirs.database_id.split('-')[0]}")
    # Marked bad, it is refused by restore's verification too (restore's identity check comes first).
    with pytest.raises(BackupError, match="is a backup of database"):
        store.restore(
            ours.id, scope="assignments", start=ours.created_at.date(), end=ours.created_at.date(), actor="A-01"
        )


def test_a_manifest_renamed_or_altered_fails_its_fingerprint(store, other_store):
    ours = store.create()
    # Renamed within this database: the same dump under another id.
    renamed = f"{ours.id}_copy"
    shutil.copyfile(ours.path_in(store.directory), store.directory / f"{renamed}.dump")
    write_manifest(ours.model_copy(update={"id": renamed, "file": f"{renamed}.dump"}), store.directory)
    marked, checks = store.verify(renamed)
    assert marked.status is BackupStatus.BAD and checks[0].name == "identity" and not checks[0].ok
    assert "fingerprint does not match" in marked.failure
    # Another database's manifest claiming this database's id: the fingerprint needs this database's secret.
    _plant(other_store, other_store.create().id, store, ours.id)
    planted = read_manifest(manifest_path(store.directory / f"{ours.id}.dump"))
    assert planted.identity is not None
    claimed = planted.identity.model_copy(update={"database_id": _identity(store.database).database_id})
    write_manifest(planted.model_copy(update={"identity": claimed}), store.directory)
    marked, _ = store.verify(ours.id)
    assert marked.status is BackupStatus.BAD and "fingerprint does not match" in marked.failure


def test_a_manifest_stripped_of_its_identity_is_refused(store):
    """Without identity a manifest passes only as one from before 0007: taken no later than this database's
    identity, of a dump that holds none. Taken later, it is refused at once; else its dump gives it away."""
    ours = store.create()
    later = ours.created_at + dt.timedelta(minutes=1)
    write_manifest(ours.model_copy(update={"identity": None, "created_at": later}), store.directory)
    marked, checks = store.verify(ours.id)
    assert marked.status is BackupStatus.BAD and [c.name for c in checks] == ["identity"]
    assert "names no database, yet it was taken at" in marked.failure
    with pytest.raises(BackupError, match="names no database, yet it was taken at"):
        store.restore(ours.id, scope="full", actor="A-01")
    # Dated before the identity and still marked verified: restore verifies it again, and its dump holds an identity.
    earlier = _identity(store.database).created_at - dt.timedelta(minutes=1)
    stripped = ours.model_copy(update={"identity": None, "created_at": earlier})
    write_manifest(stripped, store.directory)
    before = _rows_but_backup_records(store.database)
    with pytest.raises(BackupError, match="its manifest names no database"):
        store.restore(ours.id, scope="full", actor="A-01")
    assert _rows_but_backup_records(store.database) == before  # only its own record, marked bad
    assert store.get(ours.id).failure.startswith("digests: the dump is of database ")


def test_the_cli_refuses_a_foreign_backup_in_one_line_and_writes_nothing(cli, tmp_path, database_url, other_store):
    path = tmp_path / "p.json"
    path.write_text(dumps(program_document()))
    assert cli("program", "import", str(path)).code == 0
    ours = json.loads(cli("backup", "create", "--json").out)["id"]
    database = Database(database_url)
    store = BackupStore(database=database, directory=tmp_path / "home" / "backups")
    try:
        _plant(other_store, other_store.create().id, store, ours)
        before, files = digest(database), _listing(store)
        restore = cli("backup", "restore", ours, "--yes")
        assert restore.code == 1 and restore.out == "" and restore.err.count("\n") == 1
        assert restore.err.startswith(f"rotaguard: error: refusing to restore {ours}: {ours} is a backup of database ")
        assert digest(database) == before and _listing(store) == files  # refused before any flow ran
        verify = cli("backup", "verify", ours)
        assert verify.code == 1 and verify.err.count("\n") == 1
        assert verify.err.startswith(f"rotaguard: error: backup {ours} is bad: identity: {ours} is a backup of")
    finally:
        database.dispose()
