"""The database's identity (migration 0007): a random UUID and a secret, written once.

Read from any connection: the live database, a backup opened read-only, or a trial restore. A
database (or a dump) from before 0007 has none: :func:`read_identity` returns None.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, inspect, select

from rotaguard.db.tables import DatabaseIdentityRow, ProgramSettingsRow


@dataclass(frozen=True)
class DatabaseIdentity:
    database_id: str
    secret: str = field(repr=False)  # the fingerprints' key: never shown, never in a manifest
    created_at: datetime | None = None
    program: str | None = None  # the program's name in the same snapshot (None: no program yet)


def read_identity(connection: Connection) -> DatabaseIdentity | None:
    """The identity ``connection`` sees, with the program's name; None before migration 0007."""
    tables = set(inspect(connection).get_table_names())
    if DatabaseIdentityRow.__tablename__ not in tables:
        return None
    row = connection.execute(
        select(DatabaseIdentityRow.database_id, DatabaseIdentityRow.secret, DatabaseIdentityRow.created_at)
    ).first()
    if row is None:
        return None
    program = None
    if ProgramSettingsRow.__tablename__ in tables:
        program = connection.execute(select(ProgramSettingsRow.name).limit(1)).scalar()
    return DatabaseIdentity(database_id=row[0], secret=row[1], created_at=row[2], program=program)
