"""The corruption matrix: every damaged backup is rejected by verify (0 accepted)."""

import random
import re
import shutil

import pytest

from rotaguard.backups import BackupStatus, BackupStore
from rotaguard.backups.manifest import file_sha256, write_manifest

FLIP_OFFSETS = 20


def _cases(size: int) -> list[tuple[str, object]]:
    rng = random.Random(size)
    cases: list[tuple[str, object]] = [(f"truncated at {p}%", ("truncate", size * p // 100)) for p in (10, 50, 90)]
    cases += [(f"byte flipped at {o}", ("flip", o)) for o in sorted(rng.sample(range(size), FLIP_OFFSETS))]
    cases.append(("empty file", ("truncate", 0)))
    return cases


def _damage(path, action) -> None:
    kind, where = action
    data = bytearray(path.read_bytes())
    if kind == "truncate":
        path.write_bytes(bytes(data[:where]))
    else:
        data[where] ^= 0xFF
        path.write_bytes(bytes(data))


def _backup(store: BackupStore, style: str):
    if style == "uncompressed" and store.engine.kind == "postgresql":  # -Z0
        original = store.engine.dump
        store.engine.dump = lambda target: original(target, compress=False)
    return store.create()


@pytest.mark.parametrize("dump_style", ["default", "uncompressed"])
def test_corruption_matrix(store, dump_style):
    """PostgreSQL dumps are compressed by default; SQLite backups are page images either way."""
    good = _backup(store, dump_style)
    path = good.path_in(store.directory)
    pristine = path.read_bytes()
    accepted = []
    cases = _cases(len(pristine))
    for name, action in cases:
        path.write_bytes(pristine)
        write_manifest(good, store.directory)
        _damage(path, action)
        marked, checks = store.verify(good.id)
        if marked.status is not BackupStatus.BAD:
            accepted.append(name)
    assert len(cases) == 24 and accepted == []


@pytest.mark.parametrize("case", ["truncated at 50%", "truncated at 90%", "dump of another database"])
def test_damage_is_caught_beyond_the_checksum(store, case, tmp_path, database_factory):
    """Even when the manifest's checksum is rewritten to match, the deeper checks refuse."""
    good = store.create()
    path = good.path_in(store.directory)
    if case == "dump of another database":
        from rotaguard.db import Database

        other = Database(database_factory())
        other_store = BackupStore(database=other, directory=tmp_path / "other")
        shutil.copyfile(other_store.create().path_in(other_store.directory), path)
        other.dispose()
    else:
        data = path.read_bytes()
        path.write_bytes(data[: len(data) * int(case.split()[2].rstrip("%")) // 100])
    write_manifest(good.model_copy(update={"sha256": file_sha256(path)}), store.directory)
    marked, checks = store.verify(good.id)
    assert marked.status is BackupStatus.BAD
    assert marked.failure and "\n" not in marked.failure
    assert store.get(good.id).status is BackupStatus.BAD
    failed = next(c for c in checks if not c.ok)
    assert failed.name in ("read_whole", "trial_restore", "digests")
    if case == "dump of another database":
        assert failed.name == "digests"


@pytest.mark.parametrize("db_kind", ["postgresql"])
def test_a_damaged_clean_statement_is_refused_by_the_trial_restore(store, db_kind):
    """The live restore runs --clean's DROP statements; a trial restore that skipped them passed a
    dump the live restore then failed on. A byte flipped in a table's name in one of them is
    caught by the trial restore (a SQLite backup has no such statements)."""
    good = store.create()
    path = good.path_in(store.directory)
    data = bytearray(path.read_bytes())
    drop = data.find(b"public.assignments DROP CONSTRAINT ")
    assert drop >= 0, "no --clean DROP statement in the dump's table of contents"
    data[drop + len(b"public.assign")] ^= 0xFF
    path.write_bytes(bytes(data))
    write_manifest(good.model_copy(update={"sha256": file_sha256(path)}), store.directory)
    marked, checks = store.verify(good.id)
    assert marked.status is BackupStatus.BAD
    assert {c.name: c.ok for c in checks} == {
        "identity": True,
        "sha256": True,
        "read_whole": True,
        "trial_restore": False,
    }
    assert "\n" not in marked.failure


@pytest.mark.parametrize("db_kind", ["sqlite"])
def test_a_backup_whose_rows_cannot_be_read_is_marked_bad_with_one_line(store, db_kind):
    """Issue 26, item 2: a NUL inside a stored timestamp passes SQLite's integrity check (it is a
    value, not the file's structure), then the trial restore's reader raised ValueError out of
    verify: exit 70, and the manifest stayed verified."""
    good = store.create()
    path = good.path_in(store.directory)
    data = bytearray(path.read_bytes())
    stamp = re.search(rb"20\d\d-\d\d-\d\d \d\d:\d\d:\d\d", data)
    assert stamp is not None, "no timestamp in the backup file"
    data[stamp.start() + 9] = 0
    path.write_bytes(bytes(data))
    write_manifest(good.model_copy(update={"sha256": file_sha256(path)}), store.directory)
    marked, checks = store.verify(good.id)
    assert marked.status is BackupStatus.BAD and store.get(good.id).status is BackupStatus.BAD
    failed = next(c for c in checks if not c.ok)
    assert failed.name == "trial_restore" and failed.detail.startswith("unreadable: ValueError")
    assert "\n" not in marked.failure and marked.failure.startswith("trial_restore: unreadable")
    assert [c.name for c in checks] == ["identity", "sha256", "read_whole", "trial_restore"]
