"""The files RotaGuard writes beside the backups: private modes, and temporary names that are
unique per write and named for their writer, so `rotaguard recover` tidies what a dead one left."""

import datetime as dt
import errno
import os
import stat
import subprocess
import threading
from pathlib import Path

import pytest

from rotaguard.backups import BackupStatus, BackupStore
from rotaguard.backups import store as store_module
from rotaguard.backups.manifest import manifest_path, read_manifest, write_manifest
from rotaguard.db import private_files
from rotaguard.db.anchor import ANCHOR_FILE
from rotaguard.db.private_files import create_private_file, temporary_path, write_private_atomically, writer_host


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def permissive_umask():
    """A umask that leaves files 0664 and directories 0775 unless the code asks for less."""
    previous = os.umask(0o002)
    yield
    os.umask(previous)


@pytest.fixture
def dead_pid() -> int:
    """The id of a process that has exited (and been reaped)."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_a_backup_directory_rotaguard_makes_and_every_file_in_it_are_private(store, permissive_umask):
    assert not store.directory.exists()
    chosen = store.create()
    # A full restore writes a pre-restore backup and, while it runs, the restore marker.
    pre_restore = store.restore(chosen.id, actor="tester")
    assert _mode(store.directory) == 0o700
    written = sorted(path.name for path in store.directory.iterdir())
    expected = {
        chosen.file,
        manifest_path(Path(chosen.file)).name,
        pre_restore.file,
        manifest_path(Path(pre_restore.file)).name,
        ANCHOR_FILE,
    }
    assert set(written) == expected, written
    assert {name: oct(_mode(store.directory / name)) for name in written} == dict.fromkeys(written, "0o600")


def test_a_backup_directory_that_exists_keeps_its_mode_and_the_files_are_private(store, permissive_umask):
    store.directory.mkdir(mode=0o750)
    manifest = store.create()
    assert _mode(store.directory) == 0o750
    assert _mode(manifest.path_in(store.directory)) == 0o600
    assert _mode(manifest_path(manifest.path_in(store.directory))) == 0o600
    assert _mode(store.directory / ANCHOR_FILE) == 0o600


def test_a_file_that_was_already_there_is_emptied_and_made_private(tmp_path, permissive_umask):
    leftover = tmp_path / "leftover"
    leftover.write_text("older content")
    leftover.chmod(0o644)
    create_private_file(leftover)
    assert leftover.read_bytes() == b"" and _mode(leftover) == 0o600


def test_temporary_names_differ_per_write_and_name_their_writer(tmp_path):
    target = tmp_path / "rotaguard_x.dump.manifest.json"
    first, second = temporary_path(target), temporary_path(target)
    assert first != second
    for name in (first.name, second.name, temporary_path(tmp_path / ANCHOR_FILE).name):
        assert name.startswith(".") and name.endswith(f".{writer_host()}.{os.getpid()}.partial"), name


def test_writers_of_one_manifest_at_once_do_not_clobber_each_other(store):
    """With one fixed temporary name, one writer renamed or truncated the other's half-written file."""
    manifest = store.create(verify=False)
    failures: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for attempt in range(25):
                write_manifest(
                    manifest.model_copy(update={"failure": f"writer {worker}, write {attempt}"}), store.directory
                )
        except BaseException as exc:  # any error at all is reported by the assertion below
            failures.append(exc)

    writers = [threading.Thread(target=write, args=(worker,)) for worker in range(6)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert failures == []
    assert read_manifest(manifest_path(manifest.path_in(store.directory))).failure.endswith("write 24")
    assert not list(store.directory.glob(".*.partial"))


def test_two_backups_begun_in_the_same_second_get_two_ids_and_both_verify(store, fresh_database, monkeypatch):
    """The second one's id check ran while the first was still dumping, so both chose one id; the
    manifest written first claims it and the other takes the next suffix, instead of replacing it."""
    monkeypatch.setattr(store_module, "_now", lambda: dt.datetime(2026, 11, 22, 23, 59, 59, tzinfo=dt.UTC))
    rival = BackupStore(database=fresh_database, directory=store.directory)
    rivals: list = []
    dump_for_real = store.engine.dump

    def dump_after_a_rival_claims_the_id(path):
        rivals.append(rival.create(verify=False))
        return dump_for_real(path)

    monkeypatch.setattr(store.engine, "dump", dump_after_a_rival_claims_the_id)
    first = store.create(verify=False)
    assert [rivals[0].id, first.id] == ["rotaguard_20261122_235959", "rotaguard_20261122_235959_2"]
    assert sorted(manifest.id for manifest in store.list()) == [rivals[0].id, first.id]
    for backup_id in (rivals[0].id, first.id):
        manifest, checks = store.verify(backup_id)
        assert manifest.status is BackupStatus.VERIFIED, [check for check in checks if not check.ok]
    assert not list(store.directory.glob(".*.partial"))


@pytest.mark.parametrize("hard_links", ["supported", "refused with EPERM (FAT, exFAT)"])
def test_a_new_file_never_replaces_one_that_exists(tmp_path, monkeypatch, hard_links):
    if hard_links != "supported":

        def no_hard_links(source, target):
            raise PermissionError(errno.EPERM, "Operation not permitted")

        monkeypatch.setattr(private_files.os, "link", no_hard_links)
    target = tmp_path / "claimed.json"
    write_private_atomically(target, "first\n", new=True)
    with pytest.raises(FileExistsError):
        write_private_atomically(target, "second\n", new=True)
    assert target.read_text() == "first\n" and _mode(target) == 0o600
    assert [path.name for path in tmp_path.iterdir()] == ["claimed.json"]


def test_recover_deletes_a_dead_writers_temporary_manifest_and_anchor_and_keeps_a_live_ones(
    store, dead_pid, monkeypatch
):
    manifest = store.create()
    live = [
        temporary_path(manifest_path(manifest.path_in(store.directory))),
        temporary_path(store.directory / ANCHOR_FILE),
    ]
    with monkeypatch.context() as patched:
        patched.setattr(os, "getpid", lambda: dead_pid)
        dead = [
            temporary_path(manifest_path(manifest.path_in(store.directory))),
            temporary_path(store.directory / ANCHOR_FILE),
        ]
    for path in live + dead:
        path.write_text("{}")
    assert sorted(store.remove_dead_partials()) == sorted(path.name for path in dead)
    assert all(path.exists() for path in live) and not any(path.exists() for path in dead)
    assert store.get(manifest.id).status is BackupStatus.VERIFIED
