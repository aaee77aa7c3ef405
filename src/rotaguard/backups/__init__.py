"""Verified backups of the whole database.

Dump and restore engines for PostgreSQL (``pg_dump -Fc``) and SQLite (online backup API),
manifests with per-table digests, four-part verification, retention and S3 off-site copies.
Works on the database as a whole from its URL; never imports the solver, ``compliance`` or
Prefect.
"""

from rotaguard.backups.engines import BackupError, engine_for
from rotaguard.backups.manifest import BackupStatus, Manifest, Offsite
from rotaguard.backups.store import BackupStore, Check, PrunePlan

__all__ = ["BackupError", "BackupStatus", "BackupStore", "Check", "Manifest", "Offsite", "PrunePlan", "engine_for"]
