"""Verified backups of the whole database (filled by the backups issue).

Dump and restore engines for PostgreSQL (``pg_dump -Fc``) and SQLite (online backup API),
manifests, four-part verification, retention and local/S3 stores. Works on the database
as a whole from its URL; never imports the solver, ``compliance`` or Prefect.
"""
