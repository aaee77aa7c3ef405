"""The backup store: create, list, verify, restore and prune backups in one directory.

The manifests on disk are the source of truth (a full restore rewinds the database's own
backup records, so they are re-synchronised from the manifests afterwards).
"""

from __future__ import annotations

import builtins
import datetime as dt
import hmac
import json
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from rotaguard.backups.engines import BackupError, Engine, _fsync_directory, _fsync_file, engine_for
from rotaguard.backups.manifest import (
    MANIFEST_SUFFIX,
    AuditHeadRecord,
    BackupStatus,
    IdentityRecord,
    Manifest,
    Offsite,
    file_sha256,
    fingerprint,
    manifest_path,
    read_manifest,
    write_manifest,
)
from rotaguard.db import AuditLog, Database
from rotaguard.db.anchor import AnchorError, AuditAnchor, advance_anchor, check_anchor
from rotaguard.db.audit import AuditHead
from rotaguard.db.identity import DatabaseIdentity
from rotaguard.db.migrate import current_revision
from rotaguard.db.private_files import (
    PRIVATE_DIRECTORY_MODE,
    create_private_file,
    write_private_atomically,
    writer_host,
)
from rotaguard.db.tables import AssignmentRow, BackupRecordRow, Base, RotationPlanRow
from rotaguard.errors import InputError, Problem

BACKUP_ID = re.compile(r"^rotaguard_[A-Za-z0-9_.\-]{1,120}$")
# What a pre-op label may name is short enough that the backup id (rotaguard_pre-<what>_<time>
# and a collision suffix) fits the 64 characters its record holds.
LABEL = re.compile(r"^(regular|sacred|pre-op:[a-z0-9][a-z0-9._\-]{0,29})$")
# A full restore in progress: what it must finish (the audit events newer than the backup) if the
# process dies after the database was replaced. Beside the backups, because the restore itself
# replaces every table the marker could live in.
RESTORE_MARKER = "restore-in-progress.json"
_RECORD_STATUS = {BackupStatus.UNVERIFIED: "created", BackupStatus.VERIFIED: "verified", BackupStatus.BAD: "bad"}


def _one_line(text: str, limit: int = 300) -> str:
    """A reason fit for one line of output and a manifest field."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _discard(*paths: Path) -> None:
    """Remove what a failed write left, where possible: on a read-only or vanished directory the
    removal fails too, and the error that matters is the write's (recovery tidies up later)."""
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def backup_name(label: str, when: dt.datetime) -> str:
    if label == "sacred":
        return f"rotaguard_SACRED_{when:%Y%m%d}"
    if label.startswith("pre-op:"):
        return f"rotaguard_pre-{label.removeprefix('pre-op:')}_{when:%Y%m%d_%H%M%S}"
    return f"rotaguard_{when:%Y%m%d_%H%M%S}"


def _identity_record(identity: DatabaseIdentity | None, backup_id: str, contents: dict) -> IdentityRecord | None:
    """What a new manifest records of the database it was taken of (None: a database from before 0007)."""
    if identity is None:
        return None
    return IdentityRecord(
        database_id=identity.database_id,
        program=identity.program,
        fingerprint=fingerprint(
            identity.secret,
            backup_id=backup_id,
            file=f"{backup_id}.dump",
            created_at=contents["created_at"],
            database_kind=contents["database_kind"],
            database_id=identity.database_id,
            program=identity.program,
        ),
    )


def _whose(kind: str, name: str, database_id: str | None, program: str | None) -> str:
    """A database named for a one-line message: its UUID's first part, kind and name, and program."""
    who = f"database {database_id.split('-')[0]}" if database_id else "a database without identity"
    return f"{who} ({kind}:{name}, program {program!r})" if program else f"{who} ({kind}:{name}, no program)"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


# Kept across a full restore: the log of what happened (newer events are put back), the records
# of the backups (rebuilt from the manifests) and the locks of the writers running now.
OPERATIONAL_TABLES = ("audit_events", "backup_records", "operation_locks")
ASSIGNMENT_IDENTITY = ("person_id", "date", "slot", "rotation_id", "source", "locked")
PLAN_IDENTITY = ("person_id", "start_date", "end_date", "rotation_id", "source", "locked")


@dataclass(frozen=True)
class RowCountChange:
    """What a restore would change in one table (or in the range's assignments)."""

    table: str
    now: int
    in_backup: int
    note: str = ""

    def as_dict(self) -> dict:
        return {
            "table": self.table,
            "now": self.now,
            "in_backup": self.in_backup,
            "change": self.in_backup - self.now,
            "note": self.note,
        }


@dataclass
class PrunePlan:
    delete: list[tuple[Manifest, str]] = field(default_factory=list)
    keep: list[tuple[Manifest, str]] = field(default_factory=list)


class BackupStore:
    def __init__(self, *, database: Database, directory: Path, retention_days: int = 30, min_keep: int = 2) -> None:
        self.database = database
        self.directory = directory
        self.retention_days = retention_days
        self.min_keep = max(2, min_keep)
        self.engine: Engine = engine_for(database)

    # ------------------------------------------------------------------ reading

    # Below this method, ``list`` in the class body names it: annotations there say builtins.list.
    def list(self) -> list[Manifest]:
        if not self.directory.exists():
            return []
        manifests = []
        for path in sorted(self.directory.glob(f"rotaguard_*{MANIFEST_SUFFIX}")):
            try:
                manifests.append(read_manifest(path))
            except ValueError:
                continue  # a damaged manifest describes nothing we can trust
        return sorted(manifests, key=lambda m: (m.created_at, m.id))

    def get(self, backup_id: str) -> Manifest:
        if not BACKUP_ID.fullmatch(backup_id):
            raise InputError("backup id", [Problem("backup id", f"{backup_id!r} is not a backup id (rotaguard_...)")])
        path = manifest_path(self.directory / f"{backup_id}.dump")
        if not path.is_file():
            raise BackupError(f"no backup {backup_id} in {self.directory}")
        return read_manifest(path)

    # ------------------------------------------------------------------ writing

    def _save(self, manifest: Manifest) -> Manifest:
        write_manifest(manifest, self.directory)
        self._record(manifest)
        return manifest

    def _record(self, manifest: Manifest) -> None:
        values = {
            "label": manifest.label,
            "created_at": manifest.created_at,
            "database_kind": manifest.database_kind,
            "database_name": manifest.database_name,
            "schema_revision": manifest.schema_revision,
            "path": str(manifest.path_in(self.directory)),
            "size_bytes": manifest.size_bytes,
            "sha256": manifest.sha256,
            "status": _RECORD_STATUS[manifest.status],
            "manifest": manifest.model_dump(mode="json"),
            "verified_at": manifest.verified_at,
            "offsite_status": manifest.offsite.value,
            "offsite_key": manifest.offsite_key,
        }
        with self.database.write() as session:
            row = session.get(BackupRecordRow, manifest.id)
            if row is None:
                session.add(BackupRecordRow(id=manifest.id, **values))
            else:
                for name, value in values.items():
                    setattr(row, name, value)

    def sync_records(self) -> None:
        """Make the database's backup records match the manifests on disk."""
        manifests = {m.id: m for m in self.list()}
        for manifest in manifests.values():
            self._record(manifest)
        with self.database.write() as session:
            for row in session.scalars(select(BackupRecordRow)):
                if row.id not in manifests and row.status != "deleted":
                    row.status = "deleted"

    def create(self, *, label: str = "regular", verify: bool = True) -> Manifest:
        """Dump to a temporary name and fsync it; write the manifest; rename; verify when asked."""
        if not LABEL.fullmatch(label):
            raise InputError("--label", [Problem("--label", f"{label!r} is not regular, sacred or pre-op:<what>")])
        try:
            # A directory made here is its owner's alone; one that exists keeps the mode it was given.
            self.directory.mkdir(mode=PRIVATE_DIRECTORY_MODE, parents=True, exist_ok=True)
        except OSError as exc:
            raise BackupError(f"the backup directory {self.directory} is unavailable: {exc.strerror or exc}") from None
        when = _now()
        backup_id = backup_name(label, when)
        suffix = 1
        while (self.directory / f"{backup_id}.dump").exists() or manifest_path(
            self.directory / f"{backup_id}.dump"
        ).exists():
            suffix += 1
            backup_id = f"{backup_name(label, when)}_{suffix}"
        final = self.directory / f"{backup_id}.dump"
        partial = self._partial_dump(backup_id)
        try:
            # Created 0600 before the engine writes into it: never readable by others, not even while written.
            create_private_file(partial)
            digests = self.engine.dump(partial)
            _fsync_file(partial)
        except OSError as exc:
            _discard(partial)
            raise BackupError(
                f"writing {final.name} failed: {exc.strerror or exc}; the previous backups are untouched"
            ) from None
        except BaseException:
            _discard(partial)
            raise
        head = self.engine.dumped_audit_head
        contents = {
            "label": label,
            "created_at": when,
            "database_kind": self.engine.kind,
            "database_name": self.engine.name,
            "schema_revision": current_revision(self.database),
            "size_bytes": partial.stat().st_size,
            "sha256": file_sha256(partial),
            "tables": digests,
            "audit_head": AuditHeadRecord(**head.as_dict()) if head is not None else None,
        }
        dumped_identity = self.engine.dumped_identity
        # The manifest first, then the file under its final name: a dump file never exists without
        # its manifest, and recovery finishes the rename of a partial file its manifest vouches for.
        claimed = False
        try:
            while True:
                manifest = Manifest(
                    id=backup_id,
                    file=f"{backup_id}.dump",
                    identity=_identity_record(dumped_identity, backup_id, contents),
                    **contents,
                )
                try:
                    write_manifest(manifest, self.directory, new=True)
                    claimed = True
                    break
                except FileExistsError:
                    # A backup begun in the same second claimed this id after the check above.
                    suffix += 1
                    backup_id = f"{backup_name(label, when)}_{suffix}"
                    renamed = self._partial_dump(backup_id)
                    partial.rename(renamed)
                    partial = renamed
            final = self.directory / manifest.file
            partial.replace(final)
            _fsync_directory(self.directory)
            self._record(manifest)
        except OSError as exc:
            # Before the claim, the names beside ours may be another writer's: only our partial file is ours.
            _discard(partial, *([final, manifest_path(final)] if claimed else []))
            raise BackupError(f"writing the manifest of {backup_id} failed: {exc.strerror or exc}") from None
        self._advance_anchor(manifest)
        if verify:
            manifest, checks = self.verify(backup_id)
            if manifest.status is not BackupStatus.VERIFIED:
                failed = next(c for c in checks if not c.ok)
                raise BackupError(f"backup {backup_id} failed verification: {failed.name}: {failed.detail}")
        return manifest

    def _partial_dump(self, backup_id: str) -> Path:
        """Where ``backup_id``'s dump is written before its manifest claims it: named for its writer
        (machine and process), so recovery deletes only a dead writer's leftovers."""
        return self.directory / f".{backup_id}.dump.{writer_host()}.{os.getpid()}.partial"

    def _advance_anchor(self, manifest: Manifest) -> None:
        """Move the audit anchor beside the backups up to this backup's audit head (never back)."""
        if manifest.audit_head is None:
            return
        candidate = AuditAnchor(
            head=AuditHead(**manifest.audit_head.model_dump()),
            backup_id=manifest.id,
            written_at=manifest.created_at,
            database=f"{manifest.database_kind}:{manifest.database_name}",
        )

        def confirm(anchor: AuditAnchor):
            with self.database.read() as session:
                return check_anchor(session, anchor)

        try:
            advance_anchor(self.directory, candidate, confirm=confirm)
        except AnchorError as exc:
            raise BackupError(f"backup {manifest.id} was written, but {exc}") from None

    def verify(self, backup_id: str) -> tuple[Manifest, builtins.list[Check]]:
        """All four checks; a failure marks the backup bad and deletes nothing."""
        manifest = self.get(backup_id)
        path = manifest.path_in(self.directory)
        checks: list[Check] = []

        def run(name: str, action) -> bool:
            try:
                detail = action()
                checks.append(Check(name, True, detail or "ok"))
                return True
            except (BackupError, OSError) as exc:
                checks.append(Check(name, False, _one_line(str(exc))))
                return False
            except Exception as exc:
                # A backup that cannot be read is bad whatever the reader raised: a byte cut from a
                # SQLite file surfaced as ValueError (an ISO date ending in NUL) and left it "verified".
                checks.append(Check(name, False, _one_line(f"unreadable: {type(exc).__name__}: {exc}")))
                return False

        def checksum() -> str:
            if not path.is_file():
                raise BackupError(f"{path.name} is missing")
            actual = file_sha256(path)
            if actual != manifest.sha256:
                raise BackupError(f"SHA-256 {actual[:12]}... does not match the manifest's {manifest.sha256[:12]}...")
            return manifest.sha256

        trial: dict = {}
        trial_identity: list[DatabaseIdentity | None] = []

        def trial_restore() -> str:
            digests, identity = self.engine.trial(path)
            trial.update(digests)
            trial_identity.append(identity)
            return f"{len(trial)} tables restored"

        def compare() -> str:
            differing = [
                f"{name} ({trial[name].rows if name in trial else 'missing'} rows vs {digest.rows})"
                for name, digest in manifest.tables.items()
                if trial.get(name) != digest
            ]
            if differing:
                raise BackupError(f"tables differ from the manifest: {', '.join(differing)}")
            self._check_dumped_identity(manifest, trial_identity[0] if trial_identity else None)
            return f"{sum(d.rows for d in manifest.tables.values())} rows in {len(manifest.tables)} tables match"

        # Whose backup it is comes first: a foreign one is refused in one line, before its file is read.
        ok = run("identity", lambda: self.check_identity(manifest)) and run("sha256", checksum)
        if ok:
            # Reading the whole file and the trial restore are independent: run them side by side.
            with ThreadPoolExecutor(max_workers=2) as pool:
                reading = pool.submit(run, "read_whole", lambda: self.engine.read_whole(path))
                restoring = pool.submit(run, "trial_restore", trial_restore)
                ok = reading.result() and restoring.result()
            checks.sort(key=lambda c: ["identity", "sha256", "read_whole", "trial_restore"].index(c.name))
            ok = ok and run("digests", compare)
        failure = None
        if not ok:
            failed = next(c for c in checks if not c.ok)
            failure = f"{failed.name}: {failed.detail}"
        manifest = manifest.model_copy(
            update={
                "status": BackupStatus.VERIFIED if ok else BackupStatus.BAD,
                "verified_at": _now() if ok else manifest.verified_at,
                "failure": failure,
            }
        )
        self._save(manifest)
        return manifest, checks

    def check_identity(self, manifest: Manifest) -> str:
        """That ``manifest`` is this database's own (issue 26, item 3): of its kind, naming its UUID,
        with a fingerprint only its secret makes. BackupError naming what differs, else what was found.

        A manifest without identity (written by a RotaGuard from before migration 0007) is accepted
        only when it was taken no later than this database's identity was written: a backup taken
        since always carries one. (Its dump is checked to hold none in the digests step.)
        """
        live = self.engine.live_identity()
        here = _whose(
            self.engine.kind, self.engine.name, live.database_id if live else None, live.program if live else None
        )
        if manifest.database_kind != self.engine.kind:
            raise BackupError(
                f"{manifest.id} is a {manifest.database_kind} backup; this database is {self.engine.kind}"
            )
        record = manifest.identity
        if live is None:
            return "this database has no identity yet (schema before 0007): whose backup it is was not checked"
        if record is None:
            assert live.created_at is not None  # the identity row's column is NOT NULL
            if manifest.created_at > live.created_at:
                raise BackupError(
                    f"{manifest.id} names no database, yet it was taken at {manifest.created_at.isoformat()}, after "
                    f"this database's identity was written ({live.created_at.isoformat()}): it is not a backup of "
                    f"{here}"
                )
            return (
                f"taken before this database had an identity (schema {manifest.schema_revision}): accepted without "
                "a check of whose backup it is"
            )
        if record.database_id != live.database_id:
            theirs = _whose(manifest.database_kind, manifest.database_name, record.database_id, record.program)
            raise BackupError(f"{manifest.id} is a backup of {theirs}, not of this {here}")
        expected = fingerprint(
            live.secret,
            backup_id=manifest.id,
            file=manifest.file,
            created_at=manifest.created_at,
            database_kind=manifest.database_kind,
            database_id=record.database_id,
            program=record.program,
        )
        if not hmac.compare_digest(expected, record.fingerprint):
            raise BackupError(
                f"{manifest.id}'s fingerprint does not match: its manifest was renamed or altered (id, file, time "
                "or program), or written by another database"
            )
        return f"a backup of this {here}"

    @staticmethod
    def _check_dumped_identity(manifest: Manifest, dumped: DatabaseIdentity | None) -> None:
        """The dump holds the database and program its manifest names (nothing, for a manifest without)."""
        record = manifest.identity
        if record is None:
            if dumped is not None:
                raise BackupError(
                    f"the dump is of database {dumped.database_id.split('-')[0]}, its manifest names no database"
                )
            return
        if dumped is None or dumped.database_id != record.database_id:
            found = f"database {dumped.database_id.split('-')[0]}" if dumped else "no database identity"
            raise BackupError(f"the dump holds {found}, its manifest names database {record.database_id.split('-')[0]}")
        if dumped.program != record.program:
            raise BackupError(f"the dump holds program {dumped.program!r}, its manifest names {record.program!r}")

    def latest_verified(self, *, max_age: dt.timedelta | None = None) -> Manifest | None:
        now = _now()
        for manifest in reversed(self.list()):
            if manifest.status is BackupStatus.VERIFIED and (max_age is None or now - manifest.created_at <= max_age):
                return manifest
        return None

    def ensure_recent(self, *, label: str, max_age: dt.timedelta) -> Manifest:
        """A verified backup under ``max_age`` taken after the last audited change, or a new verified one."""
        manifest = self.latest_verified(max_age=max_age)
        with self.database.read() as session:
            newest_event = next(iter(AuditLog(session).events(limit=1)), None)
        # A backup older than the last audited change would restore more than the coming write.
        if manifest is None or (newest_event is not None and newest_event.occurred_at > manifest.created_at):
            manifest = self.create(label=label)
        if manifest.status is not BackupStatus.VERIFIED:
            raise BackupError(f"backup {manifest.id} is not verified")
        return manifest

    # ------------------------------------------------------------------ restore

    def restorable(self, backup_id: str) -> Manifest:
        """The backup, verified now (checksum, full read, trial restore, digests) and of this
        database's kind; refused with the reason before anything is touched."""
        manifest, checks = self.verify(backup_id)
        if manifest.status is not BackupStatus.VERIFIED:
            raise BackupError(f"refusing to restore {backup_id}: it is not a good backup ({manifest.failure})")
        if manifest.database_kind != self.engine.kind:
            raise BackupError(f"{backup_id} is a {manifest.database_kind} backup; this database is {self.engine.kind}")
        return manifest

    @staticmethod
    def _check_scope(scope: str, start: dt.date | None, end: dt.date | None) -> None:
        if scope not in ("full", "assignments"):
            raise InputError("--scope", [Problem("--scope", f"{scope!r} is not full or assignments")])
        if scope == "assignments" and (start is None or end is None or end < start):
            raise InputError(
                "--start/--end", [Problem("--start/--end", "an assignments restore needs --start and --end in order")]
            )

    def restore_preview(
        self, manifest: Manifest, *, scope: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> builtins.list[RowCountChange]:
        """Row counts now and in the backup: per table for a full restore, the range's assignments otherwise."""
        self._check_scope(scope, start, end)
        if scope == "assignments":
            assert start is not None and end is not None  # _check_scope requires them
            in_backup = len(self.engine.assignment_rows(manifest.path_in(self.directory), start, end))
            with self.database.read() as session:
                now = session.execute(
                    select(func.count())
                    .select_from(AssignmentRow)
                    .where(AssignmentRow.date >= start, AssignmentRow.date <= end)
                ).scalar_one()
            changes = [RowCountChange(f"assignments {start}..{end}", now, in_backup, "only this range is replaced")]
            plan = self.engine.plan_rows(manifest.path_in(self.directory), start, end)
            if plan is not None:
                with self.database.read() as session:
                    planned = session.execute(
                        select(func.count())
                        .select_from(RotationPlanRow)
                        .where(RotationPlanRow.start_date >= start, RotationPlanRow.start_date <= end)
                    ).scalar_one()
                changes.append(
                    RowCountChange(
                        f"rotation_plan {start}..{end}", planned, len(plan), "the rows starting in the range"
                    )
                )
            return changes
        notes = {
            "audit_events": "kept: events newer than the backup are put back",
            "backup_records": "rebuilt from the backup manifests",
            "operation_locks": "kept as they are now",
        }
        changes = []
        with self.database.read() as session:
            for table in Base.metadata.sorted_tables:
                now = session.execute(select(func.count()).select_from(table)).scalar_one()
                backed_up = manifest.tables.get(table.name)
                changes.append(
                    RowCountChange(table.name, now, backed_up.rows if backed_up else 0, notes.get(table.name, ""))
                )
        return changes

    def check_restored(
        self, manifest: Manifest, *, scope: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> str | None:
        """None when the database now holds what the backup holds (its data tables, or the range's
        assignments); else what differs."""
        if scope == "assignments":
            assert start is not None and end is not None  # an assignments restore has its range
            columns = [getattr(AssignmentRow, name) for name in ASSIGNMENT_IDENTITY]
            with self.database.read() as session:
                live = sorted(
                    tuple(row)
                    for row in session.execute(
                        select(*columns).where(AssignmentRow.date >= start, AssignmentRow.date <= end)
                    )
                )
            backed_up = sorted(
                tuple(row[name] for name in ASSIGNMENT_IDENTITY)
                for row in self.engine.assignment_rows(manifest.path_in(self.directory), start, end)
            )
            if live != backed_up:
                return f"the assignments of {start}..{end} differ from {manifest.id}: {len(live)} rows now, {len(backed_up)} in the backup"
            plan = self.engine.plan_rows(manifest.path_in(self.directory), start, end)
            if plan is not None:
                plan_columns = [getattr(RotationPlanRow, name) for name in PLAN_IDENTITY]
                with self.database.read() as session:
                    live_plan = sorted(
                        tuple(row)
                        for row in session.execute(
                            select(*plan_columns).where(
                                RotationPlanRow.start_date >= start, RotationPlanRow.start_date <= end
                            )
                        )
                    )
                if live_plan != sorted(tuple(row[name] for name in PLAN_IDENTITY) for row in plan):
                    return f"the rotation plan of {start}..{end} differs from {manifest.id}: {len(live_plan)} rows now, {len(plan)} in the backup"
            return None
        now = self.engine.live_digests()
        differing = [
            f"{name} ({now[name].rows if name in now else 'missing'} rows vs {digest.rows})"
            for name, digest in manifest.tables.items()
            if name not in OPERATIONAL_TABLES and now.get(name) != digest
        ]
        return f"tables differ from {manifest.id}: {', '.join(differing)}" if differing else None

    def restore(
        self,
        backup_id: str,
        *,
        scope: str = "full",
        start: dt.date | None = None,
        end: dt.date | None = None,
        actor: str,
        pre_restore: Manifest | None = None,
    ) -> Manifest:
        """Restore after taking a fresh verified ``pre-op:restore`` backup (or with the one the
        caller took just before); returns that backup."""
        self._check_scope(scope, start, end)
        manifest = self.get(backup_id)
        try:
            # Before anything, whatever its status says: a foreign backup is never restored.
            self.check_identity(manifest)
        except BackupError as error:
            raise BackupError(f"refusing to restore {backup_id}: {error}") from None
        if manifest.status is not BackupStatus.VERIFIED or manifest.identity is None:
            # A manifest without identity names no database: only its dump can say it holds none either.
            manifest = self.restorable(backup_id)
        safety = pre_restore or self.create(label="pre-op:restore")
        path = manifest.path_in(self.directory)
        if scope == "full":
            events = self.engine.audit_events()
            locks = self.engine.operation_locks()
            # restore_full replaces the database in one transaction, the events after it are put back
            # in another: the marker carries them across a crash in between (`rotaguard recover`).
            self._write_restore_marker(manifest, safety, actor, events)
            self.engine.restore_full(path)
            self.engine.reappend_audit(events)
            self.engine.put_back_locks(locks)
            self.sync_records()
            with self.database.write() as session:
                AuditLog(session).append(
                    actor=actor,
                    action="backup.restore",
                    subject=backup_id,
                    details={"backup_id": backup_id, "scope": "full", "pre_restore_backup": safety.id},
                )
            self._restore_marker_path.unlink(missing_ok=True)
        else:
            assert start is not None and end is not None  # _check_scope requires them
            details = {
                "backup_id": backup_id,
                "scope": "assignments",
                "start": start.isoformat(),
                "end": end.isoformat(),
                "pre_restore_backup": safety.id,
            }

            def audit(session, rows: int) -> None:
                AuditLog(session).append(
                    actor=actor, action="backup.restore", subject=backup_id, details={**details, "rows": rows}
                )

            # A user's range restore puts back the block schedule of the range too (rows starting in it).
            self.engine.restore_assignments(path, start, end, audit=audit, plan=True)
        return safety

    # ------------------------------------------------------------------ crash recovery

    @property
    def _restore_marker_path(self) -> Path:
        return self.directory / RESTORE_MARKER

    def _write_restore_marker(
        self, manifest: Manifest, safety: Manifest, actor: str, events: builtins.list[dict]
    ) -> None:
        """Durably (temporary name, fsync, rename) record the restore about to replace the database,
        with the audit events the backup does not hold."""
        head = (
            manifest.audit_head.event_id
            if manifest.audit_head is not None and manifest.audit_head.event_id is not None
            else 0
        )
        newer = [{**event, "occurred_at": event["occurred_at"].isoformat()} for event in events if event["id"] > head]
        marker = {"backup_id": manifest.id, "pre_restore_backup": safety.id, "actor": actor, "events": newer}
        # It holds audit events: as private as the backups.
        write_private_atomically(self._restore_marker_path, json.dumps(marker))
        _fsync_directory(self.directory)

    def finish_interrupted_restore(self, *, actor: str) -> str | None:
        """Finish a full restore whose process died (the caller holds the schedule-writes lock): put
        back the audit events newer than the backup and the backup records, then say whether the
        database holds the backup (the restore committed) or is as it was (it never did). Both are
        whole states: the database itself was replaced in one transaction or not at all."""
        path = self._restore_marker_path
        if not path.is_file():
            return None
        marker = json.loads(path.read_text())
        events = [
            {**event, "occurred_at": dt.datetime.fromisoformat(event["occurred_at"])} for event in marker["events"]
        ]
        put_back = self.engine.reappend_audit(events)
        self.sync_records()
        # Events were missing only if the database had been replaced; else it holds the backup's data
        # (a run record written since, by the flow now recovering, is no difference that matters here).
        restored = put_back > 0 or self.check_restored(self.get(marker["backup_id"]), scope="full") is None
        outcome = "restored" if restored else "not restored"
        detail = f"full restore from {marker['backup_id']} was interrupted: {outcome}; {put_back} newer audit events put back"
        with self.database.write() as session:
            AuditLog(session).append(
                actor=actor,
                action="backup.restore" if restored else "backup.restore_interrupted",
                subject=marker["backup_id"],
                details={
                    "backup_id": marker["backup_id"],
                    "scope": "full",
                    "pre_restore_backup": marker["pre_restore_backup"],
                    "recovered": True,
                    "detail": detail,
                },
            )
        path.unlink()
        _fsync_directory(self.directory)
        return detail

    def remove_dead_partials(self) -> builtins.list[str]:
        """Delete the temporary files of backups (and markers) whose writer on this machine is dead."""
        removed: list[str] = []
        if not self.directory.exists():
            return removed
        for candidate in self.directory.glob(".*.partial"):
            parts = candidate.name.removesuffix(".partial").rsplit(".", 2)
            if len(parts) != 3:
                continue
            stem, host, pid = parts
            if host != writer_host() or not pid.isdigit() or _alive(int(pid)):
                continue
            finished = stem.endswith(".dump") and self._finish_rename(
                candidate, stem.removeprefix(".").removesuffix(".dump")
            )
            if not finished:
                candidate.unlink(missing_ok=True)
                removed.append(candidate.name)
        return removed

    def _finish_rename(self, partial: Path, backup_id: str) -> bool:
        """A dump its writer died before renaming: renamed when its manifest vouches for it (the
        manifest is written first), else it is only a fragment."""
        final = self.directory / f"{backup_id}.dump"
        manifest_file = manifest_path(final)
        if final.exists() or not manifest_file.is_file():
            return False
        try:
            manifest = read_manifest(manifest_file)
        except ValueError:
            return False
        if file_sha256(partial) != manifest.sha256:
            manifest_file.unlink()  # it describes a file that was never finished
            return False
        partial.replace(final)
        _fsync_directory(self.directory)
        return True

    def finish_unverified(self) -> builtins.list[str]:
        """Verify the backups a killed process left unverified: retention waits on the newest one."""
        finished = []
        for manifest in self.list():
            if manifest.status is BackupStatus.UNVERIFIED:
                self.verify(manifest.id)
                finished.append(manifest.id)
        return finished

    # ------------------------------------------------------------------ retention

    def plan_prune(self, *, now: dt.datetime | None = None, offsite_required: bool = False) -> PrunePlan:
        """What retention would delete, and why everything else stays."""
        now = now or _now()
        manifests = self.list()
        plan = PrunePlan()
        verified = [m for m in manifests if m.status is BackupStatus.VERIFIED]
        newest = manifests[-1] if manifests else None
        protected_recent = {m.id for m in verified[-self.min_keep :]}
        sacred = {m.id for m in manifests if m.label == "sacred"} or ({manifests[0].id} if manifests else set())
        for manifest in manifests:
            age = now - manifest.created_at
            if manifest.id in sacred:
                plan.keep.append((manifest, "the sacred baseline"))
            elif manifest.id in protected_recent:
                plan.keep.append((manifest, f"one of the newest {self.min_keep} verified backups"))
            elif newest is not None and newest.status is not BackupStatus.VERIFIED:
                plan.keep.append((manifest, f"the newest backup {newest.id} is not verified yet"))
            elif offsite_required and manifest.offsite is not Offsite.COPIED:
                plan.keep.append((manifest, f"its off-site copy is {manifest.offsite.value}"))
            elif age <= dt.timedelta(days=self.retention_days):
                plan.keep.append((manifest, f"{age.days} days old, within {self.retention_days}"))
            else:
                plan.delete.append((manifest, f"{age.days} days old, older than {self.retention_days}"))
        return plan

    def prune(self, plan: PrunePlan, *, actor: str) -> builtins.list[str]:
        deleted = []
        for manifest, _ in plan.delete:
            manifest.path_in(self.directory).unlink(missing_ok=True)
            manifest_path(manifest.path_in(self.directory)).unlink(missing_ok=True)
            deleted.append(manifest.id)
        if deleted:
            self.sync_records()
            with self.database.write() as session:
                AuditLog(session).append(actor=actor, action="backup.prune", subject="", details={"deleted": deleted})
        return deleted

    def update(self, manifest: Manifest) -> Manifest:
        return self._save(manifest)
