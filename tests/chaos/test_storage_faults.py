"""Storage faults around backups, on SQLite and PostgreSQL, with real file systems.

What tests/backups and tests/flows already cover is not repeated here: a process file-size
limit (EFBIG) during `backup create`, every corruption caught by `verify`, a byte-flipped backup
refused by the restore flow, S3 on a closed port. The gaps filled here:

- a disk that is really full (ENOSPC from a small tmpfs) while backing up, and while restoring:
  both the backup directory (no room for the pre-restore backup) and the database's own storage
  (SQLite: its file on the tmpfs; PostgreSQL: the database in a tablespace on the tmpfs);
- a backup directory that becomes read-only between operations (the tmpfs remounted read-only:
  root ignores permission bits, not a read-only mount);
- truncated and damaged backups chosen for restore: refused before anything is touched;
- S3 answering 500 or 403: the local backup is still verified, the copy pending, nothing pruned.

Mounting needs root with CAP_SYS_ADMIN; without it these tests skip loudly (and fail under CI).
"""

from __future__ import annotations

import contextlib
import http.server
import os
import shutil
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from backupdata import old_backups
from dbstate import digest, table_rows
from factories import dumps, program_document
from rotaguard.backups import BackupError, BackupStatus, BackupStore, Offsite
from rotaguard.backups import offsite as offsite_module
from rotaguard.backups.manifest import file_sha256, write_manifest
from rotaguard.backups.offsite import OffsiteStore
from rotaguard.db import Database
from rotaguard.db.tables import AssignmentRow
from rotaguard.interchange.document import parse_document
from rotaguard.interchange.importer import import_document
from rotaguard.settings import Settings

MIB = 1024 * 1024


# ---------------------------------------------------------------- small file systems


class SmallDisk:
    """A tmpfs of a fixed size mounted on a fresh directory; filled on demand."""

    def __init__(self, root: Path, size_bytes: int) -> None:
        self.root = root
        self.size_bytes = size_bytes
        self.filler = root / "filler"

    def free_bytes(self) -> int:
        stats = os.statvfs(self.root)
        return stats.f_bavail * stats.f_frsize

    def fill(self, leave_bytes: int = 0) -> None:
        """Take all but ``leave_bytes`` of what is free (the rest of a page is all tmpfs can give)."""
        take = max(0, self.free_bytes() - leave_bytes)
        with self.filler.open("ab") as handle:
            while take > 0:
                chunk = min(take, MIB)
                handle.write(b"\0" * chunk)
                take -= chunk

    def empty(self) -> None:
        self.filler.unlink(missing_ok=True)

    def read_only(self) -> None:
        _mount("-o", "remount,ro", str(self.root))

    def writable(self) -> None:
        _mount("-o", "remount,rw", str(self.root))


def _mount(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["mount", *args], capture_output=True, text=True, check=False)


@pytest.fixture
def small_disk() -> Iterator:
    """Makes SmallDisk mounts; unmounts them afterwards. The mount points are directly under the
    temporary directory, so the PostgreSQL server (user postgres) can reach a tablespace there."""
    mounted: list[SmallDisk] = []

    def make(size_bytes: int = 64 * MIB) -> SmallDisk:
        root = Path(tempfile.mkdtemp(prefix="rotaguard-chaos-disk-"))
        root.chmod(0o755)
        result = _mount("-t", "tmpfs", "-o", f"size={size_bytes},mode=0777", "tmpfs", str(root))
        if result.returncode != 0:
            reason = f"cannot mount a tmpfs (needs root with CAP_SYS_ADMIN): {result.stderr.strip()}"
            if os.environ.get("CI"):
                pytest.fail(f"{reason} (CI is set: the storage fault tests must not skip)")
            pytest.skip(f"!!! SKIPPING STORAGE FAULT TESTS: {reason}")
        disk = SmallDisk(root, size_bytes)
        mounted.append(disk)
        return disk

    yield make
    for disk in reversed(mounted):
        subprocess.run(["umount", "-l", str(disk.root)], capture_output=True, check=False)
        with contextlib.suppress(OSError):
            disk.root.rmdir()


# ---------------------------------------------------------------- data and helpers


def _seed(database: Database) -> Database:
    import_document(database, parse_document(dumps(program_document())), actor="test", source="factory")
    return database


def _change_schedule(database: Database) -> None:
    """Something a restore would undo."""
    with database.write() as session:
        session.execute(AssignmentRow.__table__.update().values(locked=True))


def _files(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir() if path.name != "filler")


def _store(database: Database, directory: Path) -> BackupStore:
    return BackupStore(database=database, directory=directory)


@pytest.fixture
def seeded(database) -> Database:
    return _seed(database)


def _one_line(error: BaseException) -> str:
    message = str(error)
    assert "\n" not in message and "Traceback" not in message, message
    return message


# ---------------------------------------------------------------- disk full while backing up


def test_a_really_full_disk_during_a_backup_fails_cleanly_and_keeps_the_last_good_one(seeded, small_disk):
    disk = small_disk()
    store = _store(seeded, disk.root / "backups")
    good = store.create()
    before = _files(store.directory)
    disk.fill(leave_bytes=good.size_bytes // 3)
    with pytest.raises(BackupError) as caught:
        store.create()
    message = _one_line(caught.value)
    assert "No space left on device" in message or "disk is full" in message, message
    assert _files(store.directory) == before  # no partial file, no manifest of a backup that is not there
    disk.empty()
    assert file_sha256(good.path_in(store.directory)) == good.sha256
    assert store.verify(good.id)[0].status is BackupStatus.VERIFIED


# ---------------------------------------------------------------- disk full while restoring


def test_no_room_for_the_pre_restore_backup_refuses_the_restore_before_anything_is_touched(seeded, small_disk):
    disk = small_disk()
    store = _store(seeded, disk.root / "backups")
    chosen = store.create()
    _change_schedule(seeded)
    changed = digest(seeded)
    listed = [m.id for m in store.list()]
    disk.fill(leave_bytes=chosen.size_bytes // 3)
    with pytest.raises(BackupError) as caught:
        store.restore(chosen.id, actor="chaos")
    assert "No space left on device" in _one_line(caught.value) or "disk is full" in str(caught.value)
    assert digest(seeded) == changed
    disk.empty()
    assert [m.id for m in store.list()] == listed


@contextlib.contextmanager
def _database_on(disk: SmallDisk, db_kind: str, template_url: str, request) -> Iterator[Database]:
    """A copy of the test's seeded database whose storage is on ``disk``."""
    if db_kind == "sqlite":
        path = disk.root / "live.db"
        source = Database(template_url)
        source.dispose()
        shutil.copyfile(Path(source.engine.url.database), path)
        database = Database(f"sqlite:///{path}")
        try:
            yield database
        finally:
            database.dispose()
        return
    server = request.getfixturevalue("postgres_server")
    tablespace_dir = disk.root / "tablespace"
    tablespace_dir.mkdir()
    shutil.chown(tablespace_dir, "postgres", "postgres")
    name = f"rotaguard_chaos_{uuid.uuid4().hex[:10]}"
    tablespace = f"{name}_ts"
    source_name = Database(template_url).engine.url.database
    admin = Database(server.url("postgres"))
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"CREATE TABLESPACE \"{tablespace}\" LOCATION '{tablespace_dir}'"))
        connection.execute(
            text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{source_name}'")
        )
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{source_name}" TABLESPACE "{tablespace}"'))
    database = Database(server.url(name))
    try:
        yield database
    finally:
        database.dispose()
        with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'DROP TABLESPACE IF EXISTS "{tablespace}"'))
        admin.dispose()


def test_a_full_database_disk_during_a_restore_leaves_the_database_as_it_was(
    db_kind, seeded, database_url, small_disk, tmp_path, request
):
    """SQLite writes the restored pages into its own file and PostgreSQL (pg_restore
    --single-transaction) into the database's tablespace: with no room there, the restore fails
    with one line and the database holds exactly what it held before."""
    disk = small_disk()
    seeded.dispose()
    with _database_on(disk, db_kind, database_url, request) as live:
        store = _store(live, tmp_path / "backups")
        chosen = store.create()
        _change_schedule(live)
        # As the restore flow does: the pre-restore backup first (it goes to the backup directory,
        # not to the full disk), then the restore itself with no room left to write the tables.
        pre_restore = store.create(label="pre-op:restore")
        disk.fill(leave_bytes=8 * 1024)
        changed = table_rows(live)
        with pytest.raises(BackupError) as caught:
            store.restore(chosen.id, actor="chaos", pre_restore=pre_restore)
        message = _one_line(caught.value)
        assert any(s in message for s in ("No space left on device", "disk is full", "could not extend file")), message
        live.dispose()
        assert table_rows(live) == changed
        disk.empty()
        # With room again the same restore goes through.
        store.restore(chosen.id, actor="chaos")
        assert store.check_restored(chosen, scope="full") is None


# ---------------------------------------------------------------- a backup directory turned read-only


def test_a_backup_directory_that_became_read_only(seeded, small_disk, cli, monkeypatch):
    disk = small_disk()
    directory = disk.root / "backups"
    store = _store(seeded, directory)
    good = store.create()
    _change_schedule(seeded)
    changed = digest(seeded)
    disk.read_only()
    try:
        monkeypatch.setenv("ROTAGUARD_BACKUP_DIR", str(directory))
        created = cli("backup", "create")
        assert created.code == 1 and created.err.startswith("rotaguard: error: ") and created.err.count("\n") == 1, (
            created.err
        )
        # PostgreSQL's dump says EROFS; SQLite's backup API cannot open its target file there.
        assert (
            "Read-only file system" in created.err or "unable to open database file" in created.err
        ) and "Traceback" not in created.err
        # A restore from it is refused before anything is touched: no pre-restore backup can be kept.
        with pytest.raises(BackupError) as caught:
            store.restore(good.id, actor="chaos")
        assert any(
            reason in _one_line(caught.value) for reason in ("Read-only file system", "unable to open database file")
        )
        assert digest(seeded) == changed
        assert _files(directory) == sorted([good.file, f"{good.file}.manifest.json", "audit-anchor.json"])
    finally:
        disk.writable()
    assert store.verify(good.id)[0].status is BackupStatus.VERIFIED


# ---------------------------------------------------------------- damaged backups chosen for restore


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _flip_and_rewrite_checksum(path: Path) -> None:
    """Flip a byte of stored content (a flip in free space would change nothing): a person's id in
    a SQLite page; in a PostgreSQL dump, whose table data is compressed, a table's name in one of
    the DROP statements only the live restore's --clean runs (verification once skipped them)."""
    data = bytearray(path.read_bytes())
    where = data.find(b"R2-01")
    if where < 0:
        drop = data.find(b"public.assignments DROP CONSTRAINT ")
        assert drop >= 0, "no --clean DROP statement found in the PostgreSQL dump"
        where = drop + len(b"public.assign")
    data[where] ^= 0xFF
    path.write_bytes(bytes(data))


DAMAGE = {
    "truncated to half": (_truncate, False),
    "truncated, checksum rewritten to match": (_truncate, True),
    "byte flipped, checksum rewritten to match": (_flip_and_rewrite_checksum, True),
    "emptied": (lambda path: path.write_bytes(b""), False),
}


@pytest.fixture
def restore_env(prefect_api, database_url, tmp_path, monkeypatch) -> str:
    monkeypatch.setenv("ROTAGUARD_DATABASE_URL", database_url)
    monkeypatch.setenv("ROTAGUARD_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ROTAGUARD_BACKUP_DIR", str(tmp_path / "backups"))
    return str(tmp_path / "backups")


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_backup_chosen_for_restore_is_refused_before_anything_is_touched(seeded, restore_env, damage):
    """Through the restore-backup flow (what `rotaguard backup restore` and the UI run). The
    byte-flip with the old checksum is tests/flows/test_backup_flows.py's case; these are the rest."""
    from rotaguard.flows.restore_backup import RestoreParams, restore_backup

    store = _store(seeded, Path(restore_env))
    chosen = store.create()
    damage_file, rewrite_checksum = DAMAGE[damage]
    path = chosen.path_in(store.directory)
    damage_file(path)
    if rewrite_checksum:  # only the deeper checks (full read, trial restore, digests) can tell
        write_manifest(chosen.model_copy(update={"sha256": file_sha256(path)}), store.directory)
    _change_schedule(seeded)
    changed = _without_backup_records(seeded)
    listed = [m.id for m in store.list()]
    outcome = restore_backup(RestoreParams(backup_id=chosen.id, auto_approve_as="A-01"))
    assert outcome.status == "failed" and "not a good backup" in outcome.reason and "\n" not in outcome.reason
    assert outcome.pre_restore_backup_id is None
    assert [m.id for m in store.list()] == listed  # no pre-restore backup was taken
    assert store.get(chosen.id).status is BackupStatus.BAD
    # Everything but the backup's own record (now marked bad) is as it was; no restore audited.
    assert _without_backup_records(seeded) == changed


def _without_backup_records(database: Database) -> dict:
    return {name: rows for name, rows in table_rows(database).items() if name != "backup_records"}


# ---------------------------------------------------------------- S3 answering errors


class _ErrorAnswers(http.server.BaseHTTPRequestHandler):
    status = 500

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        code = "InternalError" if self.status == 500 else "AccessDenied"
        body = f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>synthetic {self.status}</Message></Error>'.encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _answer

    def log_message(self, *args) -> None:
        pass


@contextlib.contextmanager
def _s3_answering(status: int) -> Iterator[tuple[str, list]]:
    """A loopback HTTP server answering every S3 request with ``status``; yields its URL and the requests seen."""
    seen: list[str] = []
    handler = type("Handler", (_ErrorAnswers,), {"status": status})
    original = handler._answer

    def counting(self) -> None:
        seen.append(self.command)
        original(self)

    handler.do_GET = handler.do_PUT = handler.do_POST = handler.do_HEAD = handler.do_DELETE = counting
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def _s3_settings(endpoint: str) -> Settings:
    return Settings(
        s3_bucket="rotaguard-chaos",
        s3_endpoint_url=endpoint,
        s3_region="us-east-1",
        s3_access_key_id="synthetic-test-key",
        s3_secret_access_key="synthetic-test-secret",
    )


@pytest.mark.parametrize("status", [500, 403])
def test_s3_answering_errors_leaves_the_copy_pending_and_prunes_nothing(seeded, tmp_path, monkeypatch, status):
    monkeypatch.setattr(offsite_module, "BACKOFF_SECONDS", (0.01, 0.01, 0.01))
    store = _store(seeded, tmp_path / "backups")
    old = old_backups(store, 3)  # old enough for retention to delete one, were it copied off-site
    with _s3_answering(status) as (endpoint, seen):
        offsite = OffsiteStore(_s3_settings(endpoint))
        new = store.create()
        # With the new one the newest two are old[2] and it: old[1] is retention's to delete.
        assert [m.id for m, _ in store.plan_prune().delete] == [old[1]], (
            "the scenario needs a backup retention would delete"
        )
        for manifest in (store.get(old[1]), new):
            copied, error = offsite.copy(manifest, store.directory)
            assert copied.offsite is Offsite.PENDING and error, f"{manifest.id}: {copied.offsite}"
            assert "\n" not in error.strip() and (
                str(status) in error or "AccessDenied" in error or "InternalError" in error
            ), error
            store.update(copied)
    assert seen, "the error server was never asked"
    assert store.get(old[1]).offsite is Offsite.PENDING and store.get(new.id).offsite is Offsite.PENDING
    assert store.get(new.id).status is BackupStatus.VERIFIED
    assert store.verify(new.id)[0].status is BackupStatus.VERIFIED
    plan = store.plan_prune(offsite_required=True)
    assert plan.delete == []
    assert (old[1], "its off-site copy is pending") in [(m.id, why) for m, why in plan.keep]
    assert {m.id for m in store.list()} == set(old) | {new.id}
