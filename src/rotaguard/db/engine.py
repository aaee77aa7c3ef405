"""Engines and transactions that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session

from rotaguard.settings import normalize_database_url

_WRITER_OPTION = "rotaguard_writer"
SQLITE_BUSY_TIMEOUT_MS = 30_000

# PostgreSQL over a network: every wait is bounded, so a dead or silent link ends in an error
# (and a rolled-back transaction) instead of a hang. Each can be overridden in the URL's query.
CONNECT_TIMEOUT_SECONDS = 10
# No answer to a statement, a COMMIT or a fetch for this long: the link is taken for dead and the
# connection closed. TCP keepalives cannot tell a hung middlebox (which acknowledges every packet)
# from a slow query, so the client keeps its own deadline, far beyond any statement RotaGuard runs.
RESPONSE_TIMEOUT_SECONDS = 300.0
# A peer that vanishes (cable pulled, host gone) is noticed within about a minute, by the client...
CLIENT_KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
    "tcp_user_timeout": 60_000,
}
# ...and by the server, which then rolls back the abandoned transaction and releases its row locks
# instead of holding them for the operating system's default two hours.
SERVER_KEEPALIVES = (
    "-c tcp_keepalives_idle=30 -c tcp_keepalives_interval=10 -c tcp_keepalives_count=3 -c tcp_user_timeout=60000"
)


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
    connect_args = {**postgres_connect_defaults(parsed), **kwargs.pop("connect_args", {})}
    engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)
    if parsed.get_driver_name() == "psycopg":
        _bound_every_wait(engine, RESPONSE_TIMEOUT_SECONDS)
    return engine


def postgres_connect_defaults(url: URL) -> dict:
    """Connect timeout and keepalives for both ends, unless the URL sets them itself."""
    defaults: dict = {"connect_timeout": CONNECT_TIMEOUT_SECONDS, **CLIENT_KEEPALIVES, "options": SERVER_KEEPALIVES}
    return {name: value for name, value in defaults.items() if name not in url.query}


def _bounded_connection_class(response_timeout: float):
    """A psycopg connection whose every wait for the server (execute, fetch, COMMIT, ROLLBACK)
    ends after ``response_timeout`` seconds: the connection is then closed, so SQLAlchemy
    treats it as a disconnect, discards it and rolls the unit of work back."""
    import psycopg
    from psycopg.pq import TransactionStatus

    class BoundedWaitConnection(psycopg.Connection):
        def wait(self, gen, interval: float = 0.1, timeout: float | None = None):
            try:
                return super().wait(gen, interval=interval, timeout=response_timeout if timeout is None else timeout)
            except psycopg.OperationalError:
                # Still ACTIVE means the server's answer never came (the wait gave up, not the
                # link): the protocol state is unknown, so the connection cannot be used again.
                if timeout is None and self.pgconn.transaction_status == TransactionStatus.ACTIVE:
                    self.close()
                    raise psycopg.OperationalError(
                        f"no answer from the database server within {response_timeout:g} s; the connection was closed"
                    ) from None
                raise

    return BoundedWaitConnection


def _bound_every_wait(engine: Engine, response_timeout: float) -> None:
    connection_class = _bounded_connection_class(response_timeout)

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect, _record, cargs, cparams):
        return connection_class.connect(*cargs, **cparams)


# A write session's ``info`` key: set by ``AuditLog.append``, so that the commit moves the audit anchor.
AUDITED = "rotaguard_audited"


class Database:
    """One database: read-only and read-write units of work over a shared engine.

    With ``audit_anchor_dir`` (the backup directory: the CLI and the flows give it), every write
    that appended audit events moves the audit anchor there to the new head of the chain once it
    has committed (``rotaguard.db.anchor``): removing the newest events is then visible to
    ``rotaguard audit verify`` whether or not a backup was taken since.
    """

    def __init__(self, url: str, *, engine: Engine | None = None, audit_anchor_dir: Path | None = None) -> None:
        self.url = normalize_database_url(url)
        self.engine = engine or make_engine(self.url)
        self.audit_anchor_dir = audit_anchor_dir

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
            audited = session.info.pop(AUDITED, False)
        if audited and self.audit_anchor_dir is not None:
            from rotaguard.db.anchor import anchor_after_write

            anchor_after_write(self, self.audit_anchor_dir)

    def dispose(self) -> None:
        self.engine.dispose()
