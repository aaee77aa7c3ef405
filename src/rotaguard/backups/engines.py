"""Dump and restore engines, chosen from the database URL: PostgreSQL (pg_dump/pg_restore) and
SQLite (the online backup API)."""

from __future__ import annotations

import ctypes
import datetime as dt
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, delete, insert, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from rotaguard.backups.manifest import TableDigest, table_digests
from rotaguard.db import Database
from rotaguard.db.audit import AuditHead, audit_head
from rotaguard.db.identity import DatabaseIdentity, read_identity
from rotaguard.db.tables import (
    AssignmentRow,
    AuditEventRow,
    Base,
    OperationLockRow,
    RotationPlanRow,
    ScheduleRunRow,
)
from rotaguard.errors import RotaGuardError


class BackupError(RotaGuardError):
    """A backup or restore step failed; the message says which and why."""


def _fsync_file(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


_PR_SET_PDEATHSIG = 1
# Looked up once here: the child between fork and exec should only make the one call.
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def _die_with_parent() -> None:
    """Run in the child before exec: a pg_restore or pg_dump whose rotaguard process is killed
    (SIGKILL, OOM) dies with it instead of committing a restore nobody finishes (audit events
    re-appended, records synced) or writing a dump nobody records."""
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


# What pg_dump, pg_restore and libpq read from the environment: PATH (to find each other), the
# locale (encodings; messages are always English: see tool_environment), HOME (~/.pgpass,
# ~/.pg_service.conf, ~/.postgresql certificates), TZ and the PG* connection settings. Nothing
# else: the rest of RotaGuard's environment holds secrets (the backup encryption key, S3 and SMTP
# credentials) a child has no use for.
_TOOL_ENVIRONMENT = frozenset({"PATH", "HOME", "TZ", "LANG"})
_TOOL_ENVIRONMENT_PREFIXES = ("LC_", "PG")
_LOCALE_CATEGORIES = ("LC_CTYPE", "LC_NUMERIC", "LC_TIME", "LC_COLLATE", "LC_MONETARY")


def tool_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The part of ``environ`` (default: this process's) that the PostgreSQL client tools may see,
    with their messages in English."""
    environ = os.environ if environ is None else environ
    kept = {
        name: value
        for name, value in environ.items()
        if name in _TOOL_ENVIRONMENT or name.startswith(_TOOL_ENVIRONMENT_PREFIXES)
    }
    # RotaGuard reports the tools' "error:" line, and in one language. LANGUAGE (left out above)
    # outranks every locale but C for messages, and LC_ALL outranks LC_MESSAGES: LC_ALL's value
    # goes to the other categories, so encodings, dates and sorting stay as the user set them.
    every_category = kept.pop("LC_ALL", None)
    if every_category:
        kept.update(dict.fromkeys(_LOCALE_CATEGORIES, every_category))
    kept["LC_MESSAGES"] = "C"
    return kept


# The live restore's options. The trial restore runs with the same ones (into an empty scratch
# database), so verification executes every statement the live restore will, the --clean DROPs
# included: a backup damaged there is refused before anything is touched.
_PG_RESTORE_OPTIONS = (
    "--clean",
    "--if-exists",
    "--single-transaction",
    "--exit-on-error",
    "--no-owner",
    "--no-privileges",
)


ASSIGNMENT_COLUMNS = (
    "person_id",
    "date",
    "slot",
    "rotation_id",
    "source",
    "locked",
    "run_id",
    "created_at",
    "updated_at",
)
# The block schedule's rows; a range holds the rows that start in it (rotaguard.db.PlanRepository).
PLAN_COLUMNS = (
    "person_id",
    "start_date",
    "end_date",
    "rotation_id",
    "source",
    "locked",
    "run_id",
    "created_at",
    "updated_at",
)


class Engine:
    kind = "abstract"

    def __init__(self, database: Database) -> None:
        self.database = database
        # The audit chain's head in the snapshot the last ``dump`` wrote (for the manifest and the anchor).
        self.dumped_audit_head: AuditHead | None = None
        # The database's identity in that snapshot (None: a database from before migration 0007).
        self.dumped_identity: DatabaseIdentity | None = None

    @property
    def name(self) -> str:
        raise NotImplementedError

    def dump(self, target: Path) -> dict[str, TableDigest]:
        """Write a consistent snapshot to ``target``; return that snapshot's table digests."""
        raise NotImplementedError

    def read_whole(self, path: Path) -> None:
        raise NotImplementedError

    def live_digests(self) -> dict[str, TableDigest]:
        """The live database's digests, computed the way this engine's manifests are."""
        with self.database.engine.connect() as connection:
            return self.digests(connection)

    def digests(self, connection) -> dict[str, TableDigest]:
        return table_digests(connection)

    def trial_digests(self, path: Path) -> dict[str, TableDigest]:
        """Restore into a throwaway database and digest it."""
        return self.trial(path)[0]

    def trial(self, path: Path) -> tuple[dict[str, TableDigest], DatabaseIdentity | None]:
        """Restore into a throwaway database; its digests, and the identity it holds (None: none)."""
        raise NotImplementedError

    def live_identity(self) -> DatabaseIdentity | None:
        """This database's identity (None: its schema is from before migration 0007)."""
        with self.database.engine.connect() as connection:
            return read_identity(connection)

    def restore_full(self, path: Path) -> None:
        raise NotImplementedError

    def assignment_rows(self, path: Path, start: dt.date, end: dt.date) -> list[dict]:
        raise NotImplementedError

    def plan_rows(self, path: Path, start: dt.date, end: dt.date) -> list[dict] | None:
        """The backup's rotation-plan rows starting in ``start..end``; None when the backup is from
        before the plan existed (schema 0005 or older), which says nothing about the plan."""
        raise NotImplementedError

    def restore_assignments(
        self,
        path: Path,
        start: dt.date,
        end: dt.date,
        *,
        audit: Callable[[Session, int], None] | None = None,
        plan: bool = False,
    ) -> int:
        """Replace the assignments of ``start..end`` with the backup's, in one transaction; ``audit``
        records it in that same transaction (a crash leaves neither the rows nor the event alone).
        With ``plan``, the rotation-plan rows starting in the range too, when the backup holds a plan
        (a backup from before the plan existed leaves the plan as it is)."""
        rows = self.assignment_rows(path, start, end)
        plan_rows = self.plan_rows(path, start, end) if plan else None
        with self.database.write() as session:
            runs = {run_id for (run_id,) in session.execute(select(ScheduleRunRow.id))}
            session.execute(delete(AssignmentRow).where(AssignmentRow.date >= start, AssignmentRow.date <= end))
            for row in [*rows, *(plan_rows or [])]:
                if row["run_id"] not in runs:
                    row["run_id"] = None
            if rows:
                session.execute(insert(AssignmentRow), rows)
            if plan_rows is not None:
                session.execute(
                    delete(RotationPlanRow).where(
                        RotationPlanRow.start_date >= start, RotationPlanRow.start_date <= end
                    )
                )
                if plan_rows:
                    session.execute(insert(RotationPlanRow), plan_rows)
            if audit is not None:
                audit(session, len(rows))
        return len(rows)

    def restore_plan(
        self, path: Path, start: dt.date, end: dt.date, *, audit: Callable[[Session, int], None] | None = None
    ) -> int:
        """Replace the rotation-plan rows starting in ``start..end`` with the backup's, in one
        transaction, and nothing else (a year plan's run wrote only those; the duties stay as they
        are); ``audit`` records it in that same transaction. Refused, touching nothing, when the
        backup is from before the plan existed: it cannot say what the plan was."""
        plan_rows = self.plan_rows(path, start, end)
        if plan_rows is None:
            raise BackupError(f"{path.name} is from before the rotation plan existed: it cannot restore the plan")
        with self.database.write() as session:
            runs = {run_id for (run_id,) in session.execute(select(ScheduleRunRow.id))}
            for row in plan_rows:
                if row["run_id"] not in runs:
                    row["run_id"] = None
            session.execute(
                delete(RotationPlanRow).where(RotationPlanRow.start_date >= start, RotationPlanRow.start_date <= end)
            )
            if plan_rows:
                session.execute(insert(RotationPlanRow), plan_rows)
            if audit is not None:
                audit(session, len(plan_rows))
        return len(plan_rows)

    def audit_events(self) -> list[dict]:
        with self.database.read() as session:
            return [
                {
                    c: getattr(e, c)
                    for c in ("id", "occurred_at", "actor", "action", "subject", "details", "prev_hash", "hash")
                }
                for e in session.scalars(select(AuditEventRow).order_by(AuditEventRow.id))
            ]

    def reappend_audit(self, events: list[dict]) -> int:
        """Put back audit events newer than the restored copy: the chain stays whole and append-only.

        INSERTs only (the append-only triggers allow them), under their original ids, so the
        audit anchor beside the backups (an id and its hash) still matches after a restore.
        """
        with self.database.write() as session:
            present = dict(session.execute(select(AuditEventRow.hash, AuditEventRow.id)).all())
            missing = [dict(e) for e in events if e["hash"] not in present]
            if missing:
                taken = set(present.values())
                if any(e["id"] in taken for e in missing):
                    # Not a prefix of the chain we had (it never happens to an append-only log):
                    # append with fresh ids rather than fail half-way; `audit verify` will tell.
                    for event in missing:
                        event.pop("id")
                session.execute(insert(AuditEventRow), missing)
                self._after_explicit_ids(session)
        return len(missing)

    def _after_explicit_ids(self, session) -> None:
        """Rows were inserted with explicit ids: make the next generated id follow them."""

    def operation_locks(self) -> list[dict]:
        columns = OperationLockRow.__table__.columns
        with self.database.read() as session:
            return [dict(row._mapping) for row in session.execute(select(*columns))]

    def put_back_locks(self, rows: list[dict]) -> None:
        """A full restore must not hand out or take away the locks of writers running now."""
        with self.database.write() as session:
            session.execute(delete(OperationLockRow))
            if rows:
                session.execute(insert(OperationLockRow), rows)


class SqliteEngine(Engine):
    kind = "sqlite"

    @property
    def path(self) -> Path:
        return Path(make_url(self.database.url).database or "")

    @property
    def name(self) -> str:
        return self.path.name

    @staticmethod
    def _open_read_only(path: Path) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)

    def dump(self, target: Path) -> dict[str, TableDigest]:
        self.dumped_audit_head = None
        source = sqlite3.connect(self.path)
        destination = None
        try:
            # Opened inside: a backup directory that went read-only refuses the file right here.
            destination = sqlite3.connect(target)
            source.backup(destination)
            # A self-contained file: no -wal or -shm beside it.
            destination.execute("PRAGMA journal_mode = DELETE")
            destination.commit()
        except sqlite3.Error as exc:
            raise BackupError(f"SQLite backup of {self.path} into {target.parent} failed: {exc}") from None
        finally:
            if destination is not None:
                destination.close()
            source.close()
        digests = self._digests(target)
        self.dumped_audit_head = self._read(target, audit_head)
        self.dumped_identity = self._read(target, read_identity)
        return digests

    def _read(self, path: Path, reader):
        engine = create_engine("sqlite://", creator=lambda: self._open_read_only(path))
        try:
            with engine.connect() as connection:
                return reader(connection)
        finally:
            engine.dispose()

    def _digests(self, path: Path) -> dict[str, TableDigest]:
        return self._read(path, table_digests)

    def read_whole(self, path: Path) -> None:
        try:
            connection = self._open_read_only(path)
            try:
                result = connection.execute("PRAGMA integrity_check").fetchall()
                tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            finally:
                connection.close()
        except sqlite3.Error as exc:
            raise BackupError(f"not a readable SQLite database: {exc}") from None
        if result != [("ok",)]:
            raise BackupError(f"SQLite integrity check failed: {result[0][0]}")
        if "alembic_version" not in tables:
            raise BackupError("not a RotaGuard database (no alembic_version table)")

    def trial(self, path: Path) -> tuple[dict[str, TableDigest], DatabaseIdentity | None]:
        with tempfile.TemporaryDirectory(prefix="rotaguard-verify-") as scratch:
            copy = Path(scratch) / "trial.db"
            try:
                source = self._open_read_only(path)
                destination = sqlite3.connect(copy)
                source.backup(destination)
                destination.close()
                source.close()
            except sqlite3.Error as exc:
                raise BackupError(f"trial restore failed: {exc}") from None
            return self._digests(copy), self._read(copy, read_identity)

    def restore_full(self, path: Path) -> None:
        self.database.dispose()
        try:
            source = self._open_read_only(path)
            destination = sqlite3.connect(self.path)
            source.backup(destination)
            destination.execute("PRAGMA journal_mode = WAL")
            destination.close()
            source.close()
        except sqlite3.Error as exc:
            raise BackupError(f"SQLite restore failed: {exc}") from None

    def assignment_rows(self, path: Path, start: dt.date, end: dt.date) -> list[dict]:
        engine = create_engine("sqlite://", creator=lambda: self._open_read_only(path))
        try:
            with engine.connect() as connection:
                columns = [getattr(AssignmentRow.__table__.c, name) for name in ASSIGNMENT_COLUMNS]
                query = select(*columns).where(AssignmentRow.date >= start, AssignmentRow.date <= end)
                return [dict(row._mapping) for row in connection.execute(query)]
        finally:
            engine.dispose()

    def plan_rows(self, path: Path, start: dt.date, end: dt.date) -> list[dict] | None:
        engine = create_engine("sqlite://", creator=lambda: self._open_read_only(path))
        try:
            with engine.connect() as connection:
                if not inspect(connection).has_table(RotationPlanRow.__tablename__):
                    return None
                columns = [getattr(RotationPlanRow.__table__.c, name) for name in PLAN_COLUMNS]
                query = select(*columns).where(RotationPlanRow.start_date >= start, RotationPlanRow.start_date <= end)
                return [dict(row._mapping) for row in connection.execute(query)]
        finally:
            engine.dispose()


_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)")


def postgres_table_digests(connection) -> dict[str, TableDigest]:
    """Row counts and digests computed inside PostgreSQL: a SHA-256 per row's text form, then
    one SHA-256 over them in primary-key order. Millions of rows take seconds, not minutes."""
    digests = {}
    # A dump from before a migration lacks its tables: digested as it was then (its whole rows).
    present = set(
        connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")).scalars()
    )
    for table in Base.metadata.sorted_tables:
        if table.name not in present:
            continue
        order = ", ".join(f't."{column.name}"' for column in table.primary_key.columns)
        count, digest = connection.execute(
            text(
                f"SELECT count(*), encode(sha256(coalesce(string_agg(sha256(convert_to(t::text, 'UTF8')), ''::bytea "
                f"ORDER BY {order}), ''::bytea)), 'hex') FROM \"{table.name}\" AS t"
            )
        ).one()
        digests[table.name] = TableDigest(rows=count, sha256=digest)
    return digests


class PostgresEngine(Engine):
    kind = "postgresql"

    def digests(self, connection) -> dict[str, TableDigest]:
        return postgres_table_digests(connection)

    @property
    def url(self):
        return make_url(self.database.url)

    @property
    def name(self) -> str:
        return self.url.database or ""

    def _libpq(self, database: str | None = None) -> tuple[str, dict]:
        url = self.url.set(drivername="postgresql", password=None)
        if database is not None:
            url = url.set(database=database)
        env = tool_environment()
        if self.url.password:
            env["PGPASSWORD"] = self.url.password
        return url.render_as_string(hide_password=False), env

    def _tool(self, name: str) -> str:
        tool = shutil.which(name)
        if tool is None:
            raise BackupError(f"{name} is not on PATH: install the PostgreSQL client tools (Debian: postgresql-client)")
        output = subprocess.run(
            [tool, "--version"], capture_output=True, text=True, env=tool_environment(), check=False
        ).stdout
        match = _VERSION.search(output)
        tool_major = int(match.group(1)) if match else 0
        with self.database.engine.connect() as connection:
            server_major = int(connection.execute(text("SHOW server_version_num")).scalar_one()) // 10000
        if tool_major < server_major:
            raise BackupError(
                f"{name} {tool_major} is older than the PostgreSQL {server_major} server: "
                f"install postgresql-client-{server_major} or newer"
            )
        return tool

    def _run(self, command: list[str], env: dict, what: str) -> subprocess.CompletedProcess:
        # errors="replace": a damaged dump can make pg_restore echo bytes that are not UTF-8.
        result = subprocess.run(
            command, capture_output=True, text=True, errors="replace", env=env, check=False, preexec_fn=_die_with_parent
        )
        if result.returncode != 0:
            reason = (result.stderr or result.stdout).strip().splitlines()
            # The first "error:" line says what went wrong; the last is often the statement that failed.
            cause = next(
                (line for line in reason if "error:" in line),
                reason[-1] if reason else f"exit code {result.returncode}",
            )
            raise BackupError(f"{what} failed: {cause.strip()}")
        return result

    def dump(self, target: Path, *, compress: bool = True) -> dict[str, TableDigest]:
        self.dumped_audit_head, self.dumped_identity = None, None
        pg_dump = self._tool("pg_dump")
        dsn, env = self._libpq()
        connection = self.database.engine.connect().execution_options(isolation_level="REPEATABLE READ")
        try:
            with connection.begin():
                # pg_dump reads the very snapshot the digests are taken from.
                snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar()
                command = [pg_dump, "-Fc", f"--snapshot={snapshot}", "-f", str(target), f"--dbname={dsn}"]
                if not compress:
                    command.insert(2, "-Z0")
                # pg_dump and the digests read the same snapshot at the same time; the exporting
                # transaction stays open until pg_dump is done with it.
                dumping = subprocess.Popen(
                    command,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    env=env,
                    preexec_fn=_die_with_parent,
                )
                try:
                    digests = postgres_table_digests(connection)
                    head = audit_head(connection)
                    identity = read_identity(connection)
                finally:
                    _, stderr = dumping.communicate()
                if dumping.returncode != 0:
                    reason = stderr.strip().splitlines()
                    raise BackupError(f"pg_dump failed: {reason[-1] if reason else f'exit code {dumping.returncode}'}")
        finally:
            connection.close()
        self.dumped_audit_head, self.dumped_identity = head, identity
        return digests

    def _after_explicit_ids(self, session) -> None:
        # pg_restore set the sequence to the backup's value; the re-appended events used ids past it.
        session.execute(
            text("SELECT setval(pg_get_serial_sequence('audit_events', 'id'), (SELECT max(id) FROM audit_events))")
        )

    def read_whole(self, path: Path) -> None:
        pg_restore = self._tool("pg_restore")
        self._run(
            [pg_restore, "-f", os.devnull, str(path)],
            tool_environment(),
            "reading the whole dump (pg_restore -f /dev/null)",
        )

    @contextmanager
    def _scratch(self) -> Iterator[str]:
        name = f"rotaguard_scratch_{uuid.uuid4().hex[:12]}"
        admin = create_engine(self.url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                yield name
            finally:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            admin.dispose()

    def trial(self, path: Path) -> tuple[dict[str, TableDigest], DatabaseIdentity | None]:
        pg_restore = self._tool("pg_restore")
        with self._scratch() as scratch:
            dsn, env = self._libpq(scratch)
            self._run(
                [pg_restore, *_PG_RESTORE_OPTIONS, f"--dbname={dsn}", str(path)],
                env,
                "trial restore into a scratch database",
            )
            engine = create_engine(self.url.set(database=scratch))
            try:
                with engine.connect() as connection:
                    return postgres_table_digests(connection), read_identity(connection)
            finally:
                engine.dispose()

    def dumped_tables(self, path: Path) -> set[str]:
        """The tables the dump holds, from its table of contents."""
        listing = self._run([self._tool("pg_restore"), "--list", str(path)], tool_environment(), "listing the dump")
        tables = set()
        for line in listing.stdout.splitlines():
            # "215; 1259 16390 TABLE public people postgres"; comments start with ";".
            parts = line.split()
            if not line.startswith(";") and len(parts) >= 6 and parts[3] == "TABLE":
                tables.add(parts[5])
        return tables

    def restore_full(self, path: Path) -> None:
        pg_restore = self._tool("pg_restore")
        dsn, env = self._libpq()
        # A dump from before a migration lacks the tables it added: --clean cannot drop the dump's
        # tables while those reference them, so they go first. The database becomes the backup's,
        # at its schema revision (``rotaguard init`` upgrades it); what they held is in the
        # pre-restore backup a restore always takes first.
        newer = [table.name for table in Base.metadata.sorted_tables if table.name not in self.dumped_tables(path)]
        if newer:
            with self.database.engine.begin() as connection:
                for name in reversed(newer):
                    connection.execute(text(f'DROP TABLE IF EXISTS "{name}" CASCADE'))
        self.database.dispose()
        self._run(
            [pg_restore, *_PG_RESTORE_OPTIONS, f"--dbname={dsn}", str(path)],
            env,
            "pg_restore",
        )

    def assignment_rows(self, path: Path, start: dt.date, end: dt.date) -> list[dict]:
        """Stream the assignments table's COPY data out of the dump; keep the range's rows."""
        records = self._copy_rows(path, "assignments", "date", start, end)
        return [_typed_assignment(record) for record in records or []]

    def plan_rows(self, path: Path, start: dt.date, end: dt.date) -> list[dict] | None:
        records = self._copy_rows(path, RotationPlanRow.__tablename__, "start_date", start, end)
        return None if records is None else [_typed_plan_row(record) for record in records]

    def _copy_rows(
        self, path: Path, table: str, date_column: str, start: dt.date, end: dt.date
    ) -> list[dict[str, str | None]] | None:
        """One table's COPY data from the dump, the rows whose ``date_column`` is in the range, as
        text; None when the dump holds no such table (it is from before the table's migration)."""
        pg_restore = self._tool("pg_restore")
        rows: list[dict[str, str | None]] = []
        columns: list[str] | None = None
        first, last = start.isoformat(), end.isoformat()
        header = re.compile(rf'^COPY (?:"?[A-Za-z_][A-Za-z0-9_]*"?\.)?"?{re.escape(table)}"? \(')
        # stderr to a file: a pipe nobody reads until stdout ends would stall a chatty pg_restore.
        # Leaving the block (a bad line, say) closes the file and reaps the child.
        with (
            tempfile.TemporaryFile(mode="w+") as errors,
            subprocess.Popen(
                [pg_restore, "--data-only", f"--table={table}", "-f", "-", str(path)],
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
                env=tool_environment(),
                preexec_fn=_die_with_parent,
            ) as process,
        ):
            assert process.stdout is not None
            for line in process.stdout:
                if columns is None:
                    if header.match(line):
                        columns = [c.strip().strip('"') for c in line[line.index("(") + 1 : line.index(")")].split(",")]
                        date_index = columns.index(date_column)
                    continue
                if line.startswith("\\."):
                    break
                values = line.rstrip("\n").split("\t")
                if not first <= values[date_index] <= last:
                    continue
                rows.append({name: _copy_value(value) for name, value in zip(columns, values, strict=True)})
            process.stdout.close()
            returncode = process.wait()
            errors.seek(0)
            stderr = errors.read()
        if returncode != 0:
            raise BackupError(
                f"reading {table} from the dump failed: {stderr.strip().splitlines()[-1] if stderr.strip() else 'pg_restore error'}"
            )
        return rows if columns is not None else None


# COPY's text format: a backslash escapes one character, a letter for a control character, or
# an octal or hex byte. One pass: replacing one escape at a time misreads \\t (an escaped
# backslash, then t) as a tab.
_COPY_ESCAPE = re.compile(r"\\(?:([0-7]{1,3})|x([0-9A-Fa-f]{1,2})|(.))", re.DOTALL)
_COPY_LETTERS = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def _copy_value(value: str) -> str | None:
    """One column of a COPY text line as the text it stands for (None for \\N)."""
    if value == "\\N":
        return None
    # Called for every column of every row: most values hold no escape at all.
    return _COPY_ESCAPE.sub(_unescape_copy, value) if "\\" in value else value


def _unescape_copy(match: re.Match) -> str:
    octal, hexadecimal, character = match.groups()
    if octal:
        return chr(int(octal, 8))
    if hexadecimal:
        return chr(int(hexadecimal, 16))
    return _COPY_LETTERS.get(character, character)


def _typed_assignment(record: dict) -> dict:
    return {
        "person_id": record["person_id"],
        "date": dt.date.fromisoformat(record["date"]),
        "slot": record["slot"],
        "rotation_id": record["rotation_id"],
        "source": record["source"],
        "locked": record["locked"] == "t",
        "run_id": record["run_id"],
        "created_at": dt.datetime.fromisoformat(record["created_at"]),
        "updated_at": dt.datetime.fromisoformat(record["updated_at"]),
    }


def _typed_plan_row(record: dict) -> dict:
    return {
        "person_id": record["person_id"],
        "start_date": dt.date.fromisoformat(record["start_date"]),
        "end_date": dt.date.fromisoformat(record["end_date"]),
        "rotation_id": record["rotation_id"],
        "source": record["source"],
        "locked": record["locked"] == "t",
        "run_id": record["run_id"],
        "created_at": dt.datetime.fromisoformat(record["created_at"]),
        "updated_at": dt.datetime.fromisoformat(record["updated_at"]),
    }


def engine_for(database: Database) -> Engine:
    if database.kind == "sqlite":
        return SqliteEngine(database)
    if database.kind == "postgresql":
        return PostgresEngine(database)
    raise BackupError(f"no backup engine for {database.kind} databases")
