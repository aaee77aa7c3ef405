"""Health checks shared by ``rotaguard health`` and the flows' health gate."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from rotaguard.db import Database
from rotaguard.db.migrate import current_revision, head_revision
from rotaguard.settings import Settings

# Headroom over the database's own size that another backup needs (dump plus temporary copy).
BACKUP_SPACE_FACTOR = 2
MIN_FREE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def as_dict(self) -> dict:
        return asdict(self)


def _database_size(database: Database) -> int | None:
    with database.engine.connect() as connection:
        if database.kind == "postgresql":
            return connection.execute(text("SELECT pg_database_size(current_database())")).scalar()
        if database.kind == "sqlite":
            page_count = connection.exec_driver_sql("PRAGMA page_count").scalar()
            page_size = connection.exec_driver_sql("PRAGMA page_size").scalar()
            return page_count * page_size
    return None


def _writable(directory: Path) -> str | None:
    """None when a file can be created in ``directory`` (made if missing); else the reason."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".health-", delete=True) as probe:
            probe.write(b"ok")
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def run_checks(settings: Settings, database: Database) -> list[Check]:
    checks: list[Check] = []
    database_size: int | None = None
    try:
        with database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        database_size = _database_size(database)
        checks.append(Check("database", True, f"{database.kind} reachable"))
    except SQLAlchemyError as exc:
        reason = str(exc.orig if getattr(exc, "orig", None) else exc).strip().splitlines()[0]
        checks.append(Check("database", False, f"cannot connect: {reason}"))
    if checks[-1].ok:
        current, head = current_revision(database), head_revision()
        if current == head:
            checks.append(Check("schema", True, f"at head {head}"))
        elif current is None:
            checks.append(Check("schema", False, "not initialised: run `rotaguard init`"))
        else:
            checks.append(Check("schema", False, f"at {current}, code expects {head}: run `rotaguard init`"))
    else:
        checks.append(Check("schema", False, "not checked: database unreachable"))

    backup_dir = settings.resolved_backup_dir
    if (reason := _writable(backup_dir)) is not None:
        checks.append(Check("backup_dir", False, f"{backup_dir} is not writable: {reason}"))
    else:
        free = shutil.disk_usage(backup_dir).free
        needed = max(MIN_FREE_BYTES, BACKUP_SPACE_FACTOR * (database_size or 0))
        ok = free >= needed
        detail = f"{backup_dir}: {free // (1024 * 1024)} MiB free, {needed // (1024 * 1024)} MiB needed"
        checks.append(Check("backup_dir", ok, detail))
    if settings.s3_bucket:
        from rotaguard.backups.offsite import OffsiteStore

        problem = OffsiteStore(settings).reachable()
        checks.append(Check("s3", problem is None, f"bucket {settings.s3_bucket} " + ("reachable" if problem is None else f"unreachable: {problem}")))
    return checks
