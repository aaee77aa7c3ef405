"""What commands share: settings, the database, and the schema gate."""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from rotaguard.db import Database
from rotaguard.db.migrate import current_revision, head_revision
from rotaguard.errors import RotaGuardError
from rotaguard.settings import Settings


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "settings"
        variable = f"ROTAGUARD_{where.upper()}" if first["loc"] else "settings"
        raise RotaGuardError(f"{variable}: {first['msg'].removeprefix('Value error, ')}") from None


def display_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


_opened: list[Database] = []


def close_databases() -> None:
    """Return every connection a command opened (the CLI calls this when a command ends)."""
    while _opened:
        _opened.pop().dispose()


def open_database(settings: Settings) -> Database:
    url = settings.resolved_database_url
    try:
        # Every audited write moves the audit anchor beside the backups.
        database = Database(url, audit_anchor_dir=settings.resolved_backup_dir)
        _opened.append(database)
        return database
    except ArgumentError:
        raise RotaGuardError(f"ROTAGUARD_DATABASE_URL is not a database URL: {display_url(url)}") from None
    except ModuleNotFoundError as exc:
        raise RotaGuardError(f"ROTAGUARD_DATABASE_URL needs a driver that is not installed ({exc.name})") from None


def require_current_schema(database: Database) -> None:
    """Refuse to touch a database whose schema is missing or older than the code."""
    current = current_revision(database)
    head = head_revision()
    if current is None:
        raise RotaGuardError(f"the database at {display_url(database.url)} is not initialised: run `rotaguard init`")
    if current != head:
        raise RotaGuardError(f"the database schema is at {current}, this RotaGuard needs {head}: run `rotaguard init`")
