"""Named locks held in the database, so that every writer (Prefect flow or not) takes turns."""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import timedelta

from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from rotaguard.db import processes
from rotaguard.db.engine import Database
from rotaguard.db.tables import OperationLockRow, utcnow

SCHEDULE_WRITES = "schedule-writes"


def acquire_lock(
    database: Database, *, name: str, holder: str, ttl: timedelta, wait_seconds: float, poll_seconds: float = 0.2
) -> bool:
    """Take ``name`` for ``holder`` until ``ttl`` from now; wait up to ``wait_seconds``. A lock past
    its expiry, or whose holding process is provably gone (killed on this machine), is taken over.
    True when held."""
    deadline = time.monotonic() + wait_seconds
    host, pid = processes.host_key(), os.getpid()
    while True:
        try:
            with database.write() as session:
                now = utcnow()
                row = session.get(OperationLockRow, name, with_for_update=True)
                if row is None:
                    session.add(
                        OperationLockRow(
                            name=name, holder=holder, acquired_at=now, expires_at=now + ttl, host=host, pid=pid
                        )
                    )
                    return True
                if row.holder == holder or row.expires_at <= now or processes.is_gone(row.host, row.pid):
                    row.holder, row.acquired_at, row.expires_at = holder, now, now + ttl
                    row.host, row.pid = host, pid
                    return True
        except (IntegrityError, OperationalError):
            pass  # another writer got there first; try again
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll_seconds)


def release_lock(database: Database, *, name: str, holder: str) -> bool:
    """Give ``name`` back; only its holder can. True when it was held by ``holder``."""
    with database.write() as session:
        row = session.get(OperationLockRow, name, with_for_update=True)
        if row is None or row.holder != holder:
            return False
        session.delete(row)
        return True


def lock_holder(database: Database, *, name: str) -> str | None:
    with database.read() as session:
        row = session.get(OperationLockRow, name)
        if row is None or row.expires_at <= utcnow() or processes.is_gone(row.host, row.pid):
            return None
        return row.holder


class LockLease:
    """Hold ``name`` while the block runs, renewing a short lease from a background thread, so a
    holder that dies (kill -9) lets go within ``ttl`` instead of holding the lock for hours."""

    def __init__(
        self,
        database: Database,
        *,
        name: str,
        holder: str,
        ttl: timedelta = timedelta(seconds=90),
        wait_seconds: float = 30,
    ) -> None:
        self.database, self.name, self.holder, self.ttl, self.wait_seconds = database, name, holder, ttl, wait_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.held = False

    def __enter__(self) -> LockLease:
        self.held = acquire_lock(
            self.database, name=self.name, holder=self.holder, ttl=self.ttl, wait_seconds=self.wait_seconds
        )
        if self.held:
            self._thread = threading.Thread(target=self._renew, name=f"lease-{self.name}", daemon=True)
            self._thread.start()
        return self

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl.total_seconds() / 3):
            try:
                acquire_lock(self.database, name=self.name, holder=self.holder, ttl=self.ttl, wait_seconds=0)
            except Exception:  # a missed renewal is retried; the lease only lapses after ttl
                continue

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self.held:
            try:
                release_lock(self.database, name=self.name, holder=self.holder)
            except SQLAlchemyError as error:
                # The database went away with the lock held: the lease lapses by itself, and the
                # error that matters is the one that ended the work, not this one.
                logging.getLogger(__name__).warning(
                    "could not release lock %s (it lapses with its lease): %s", self.name, str(error).splitlines()[0]
                )
