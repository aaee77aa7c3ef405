"""The manifest beside every backup file, and the table digests it records."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from enum import StrEnum
from pathlib import Path

from pydantic import Field
from sqlalchemy import Connection, inspect, select

from rotaguard.db.private_files import write_private_atomically
from rotaguard.db.tables import Base
from rotaguard.domain.base import Frozen

MANIFEST_SUFFIX = ".manifest.json"
DIGEST_CHUNK = 1024 * 1024


class BackupStatus(StrEnum):
    UNVERIFIED = "unverified"
    VERIFIED = "verified"
    BAD = "bad"


class Offsite(StrEnum):
    NONE = "none"
    PENDING = "pending"
    COPIED = "copied"


class TableDigest(Frozen):
    rows: int
    sha256: str


class AuditHeadRecord(Frozen):
    """The audit chain's head in the backed-up snapshot (also written to the audit anchor)."""

    event_id: int | None
    hash: str
    events: int


class IdentityRecord(Frozen):
    """Whose backup this is (issue 26, item 3): the database's UUID and the program's name in the
    snapshot, and a fingerprint binding them to this manifest (:func:`fingerprint`)."""

    database_id: str
    program: str | None
    fingerprint: str


def fingerprint(
    secret: str,
    *,
    backup_id: str,
    file: str,
    created_at: dt.datetime,
    database_kind: str,
    database_id: str,
    program: str | None,
) -> str:
    """HMAC-SHA256 under the database's secret (which no manifest holds) over what names a backup: a
    manifest renamed to another id, moved to another time or program, or written for another database
    no longer matches. The file's checksum is left out: the checksum, full read, trial restore and
    digests judge the file itself."""
    message = json.dumps(
        {
            "id": backup_id,
            "file": file,
            "created_at": created_at.isoformat(),
            "database_kind": database_kind,
            "database_id": database_id,
            "program": program,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode("utf-8")
    return hmac.new(bytes.fromhex(secret), message, hashlib.sha256).hexdigest()


class Manifest(Frozen):
    id: str
    label: str
    created_at: dt.datetime
    database_kind: str
    database_name: str
    schema_revision: str | None
    file: str
    size_bytes: int
    sha256: str
    tables: dict[str, TableDigest]
    audit_head: AuditHeadRecord | None = None  # None in manifests written before the anchor existed
    identity: IdentityRecord | None = None  # None in manifests of databases from before migration 0007
    status: BackupStatus = BackupStatus.UNVERIFIED
    verified_at: dt.datetime | None = None
    failure: str | None = None
    offsite: Offsite = Offsite.NONE
    offsite_key: str | None = None
    format_version: int = Field(default=1)

    def path_in(self, directory: Path) -> Path:
        return directory / self.file

    def as_json(self, directory: Path) -> dict:
        return {**self.model_dump(mode="json"), "path": str(self.path_in(directory))}


def manifest_path(backup_file: Path) -> Path:
    return backup_file.with_name(backup_file.name + MANIFEST_SUFFIX)


def write_manifest(manifest: Manifest, directory: Path, *, new: bool = False) -> None:
    """Atomically: a reader sees the old manifest or the new one, never half of one. With ``new``,
    FileExistsError when the backup id's manifest exists (the id is someone else's)."""
    text = json.dumps(manifest.model_dump(mode="json"), indent=2) + "\n"
    write_private_atomically(manifest_path(manifest.path_in(directory)), text, new=new)


def read_manifest(path: Path) -> Manifest:
    return Manifest.model_validate_json(path.read_text())


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(DIGEST_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _canonical(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return str(value)


def table_digests(connection: Connection) -> dict[str, TableDigest]:
    """Row count and content digest per table, rows in primary-key order, values canonical.

    Read through the models' column types, so SQLite and PostgreSQL give the same text for
    the same data (timestamps as aware UTC, JSON with sorted keys).

    A snapshot taken at an older schema revision (a backup from before a migration) is digested
    as it was then: the tables and columns it does not have yet are left out, and the columns it
    has keep their order, so its manifest still matches after the upgrade.
    """
    digests: dict[str, TableDigest] = {}
    inspector = inspect(connection)
    present = set(inspector.get_table_names())
    for table in Base.metadata.sorted_tables:
        if table.name not in present:
            continue
        held = {column["name"] for column in inspector.get_columns(table.name)}
        columns = [column for column in table.columns if column.name in held]
        digest = hashlib.sha256()
        rows = 0
        result = connection.execution_options(stream_results=True).execute(
            select(*columns).order_by(*table.primary_key.columns)
        )
        for row in result:
            digest.update(("\t".join(_canonical(value) for value in row) + "\n").encode("utf-8"))
            rows += 1
        digests[table.name] = TableDigest(rows=rows, sha256=digest.hexdigest())
    return digests
