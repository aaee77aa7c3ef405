"""Engines and transactions that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from rotaguard.settings import normalize_database_url

_WRITER_OPTION = "rotaguard_writer"
SQLITE_BUSY_TIMEOUT_MS = 30_000


def _configure_sqlite(engine: Engine) -> None:
    """Real transactions on the sqlite3 driver: it otherwise defers BEGIN until the first
    write and commits on its own around DDL, which breaks atomic multi-statement writes."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        if dbapi_connection.execute("PRAGMA database_list").fetchone()[2]:
            cursor.execute("PRAGMA journal_mode = WAL")
            # A committed schedule must survive a power cut, not only a process crash.
            cursor.execute("PRAGMA synchronous = FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        # Writers take the write lock up front so two writers never deadlock on upgrade.
        if connection.get_execution_options().get(_WRITER_OPTION):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


def make_engine(url: str, **kwargs) -> Engine:
    url = normalize_database_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


class Database:
    """One database: read-only and read-write units of work over a shared engine."""

    def __init__(self, url: str, *, engine: Engine | None = None) -> None:
        self.url = normalize_database_url(url)
        self.engine = engine or make_engine(self.url)

    @property
    def kind(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session whose transaction is never committed: nothing it does is kept.

        Closing (not rolling back) keeps the loaded objects readable after the block.
        """
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back entirely on any error."""
        bind = self.engine.execution_options(**{_WRITER_OPTION: True})
        with Session(bind, expire_on_commit=False) as session:
            with session.begin():
                yield session

    def dispose(self) -> None:
        self.engine.dispose()
