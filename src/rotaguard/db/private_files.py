"""Files only their owner may read, written whole or not at all: the backups, their manifests, the
audit anchor and the restore marker hold every person's schedule and the audit log."""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import uuid
from pathlib import Path

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIRECTORY_MODE = 0o700
_NO_HARD_LINKS = frozenset({errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS})


def writer_host() -> str:
    """This machine's name as a temporary file's name carries it."""
    # Dots separate the parts of a temporary file's name.
    return socket.gethostname().replace(".", "-") or "localhost"


def temporary_path(target: Path) -> Path:
    """A temporary name beside ``target`` for one write: ``.<name>.<token>.<host>.<pid>.partial``."""
    # The token keeps two writes of one file apart, threads of one process included; the host and
    # pid let `rotaguard recover` delete what a dead writer left (BackupStore.remove_dead_partials).
    return target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.{writer_host()}.{os.getpid()}.partial")


def create_private_file(path: Path) -> None:
    """Create ``path`` empty (or empty it) with mode 0600, for a writer that opens it by name."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, PRIVATE_FILE_MODE)
    try:
        # A file that was already there keeps its old mode otherwise.
        os.fchmod(descriptor, PRIVATE_FILE_MODE)
    finally:
        os.close(descriptor)


def write_private_atomically(target: Path, text: str, *, new: bool = False) -> None:
    """Write ``text`` to ``target`` (mode 0600) under a temporary name, fsync, rename: a reader sees
    the old file or the new one, never half of one. The temporary file goes if the write fails.
    With ``new``, a ``target`` that exists (another writer's) is left alone: FileExistsError."""
    temporary = temporary_path(target)
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE_FILE_MODE)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if new:
            _claim(temporary, target)
        else:
            temporary.replace(target)
        descriptor = os.open(target.parent, os.O_RDONLY)  # the rename itself survives a power loss
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
    except BaseException:
        # On a read-only or vanished directory the removal fails too; the write's error is the one to report.
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        raise


def _claim(temporary: Path, target: Path) -> None:
    """Give ``temporary`` the name ``target`` unless that name exists (FileExistsError)."""
    try:
        # A hard link, unlike a rename, fails when the name is taken: of two writers claiming one
        # name at once, exactly one gets it.
        os.link(temporary, target)
    except FileExistsError:
        raise
    except OSError as error:
        if error.errno not in _NO_HARD_LINKS:
            raise
        # FAT, exFAT and some network filesystems have no hard links: check, then rename, which
        # leaves only the moment between the two for a rival.
        if target.exists():
            raise FileExistsError(errno.EEXIST, "exists", str(target)) from None
        temporary.replace(target)
        return
    temporary.unlink()
