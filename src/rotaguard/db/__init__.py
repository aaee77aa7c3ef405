"""SQLAlchemy 2 tables, sessions, repositories and Alembic migrations.

Maps rows to and from ``rotaguard.domain`` types; the same code runs on SQLite (embedded
default) and PostgreSQL through psycopg 3.
"""

from rotaguard.db.audit import AuditLog, ChainCheck
from rotaguard.db.engine import Database
from rotaguard.db.repositories import (
    AssignmentRepository,
    ChangeCount,
    PlanRepository,
    ProgramChanges,
    ProgramRepository,
)

__all__ = [
    "AssignmentRepository",
    "AuditLog",
    "ChainCheck",
    "ChangeCount",
    "Database",
    "PlanRepository",
    "ProgramChanges",
    "ProgramRepository",
]
