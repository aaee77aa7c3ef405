"""Shared fixtures: every database test runs on SQLite and on a real PostgreSQL.

PostgreSQL: ROTAGUARD_TEST_POSTGRES_URL when set, else the server on 127.0.0.1:5432
(user postgres). Each test gets its own throwaway database, cloned from a migrated
template. Without a server the PostgreSQL tests skip loudly, except under CI, where they fail.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from rotaguard.cli.main import main
from rotaguard.db import Database
from rotaguard.db.migrate import upgrade

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASE_KINDS = ("sqlite", "postgresql")
# Every fixture program names the admin A-01 (tests/factories.py, tests/swapdata.py, synth): the
# tests act as them unless they say who acts, in this process and in every rotaguard they start.
os.environ["ROTAGUARD_ACTOR"] = "A-01"


def _admin_url() -> str:
    return os.environ.get("ROTAGUARD_TEST_POSTGRES_URL", DEFAULT_ADMIN_URL)


def _libpq_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _with_database(url: str, name: str) -> str:
    base, _, _ = _libpq_url(url).rpartition("/")
    return f"{base}/{name}"


class PostgresServer:
    """Creates and drops throwaway databases on one server."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = _libpq_url(admin_url)

    def _execute(self, statement: sql.Composable) -> None:
        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as connection:
            connection.execute(statement)

    def create(self, *, template: str | None = None) -> str:
        name = f"rotaguard_test_{uuid.uuid4().hex[:12]}"
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
        self._execute(statement)
        return name

    def drop(self, name: str) -> None:
        self._execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def new_identity(self, name: str) -> None:
        """A clone of the template has the template's identity (migration 0007): give it its own, as
        `rotaguard init` gives every new database, so that two test databases are two databases."""
        with psycopg.connect(_with_database(self.admin_url, name), autocommit=True, connect_timeout=5) as connection:
            connection.execute(
                "UPDATE database_identity SET database_id = %s, secret = %s",
                (str(uuid.uuid4()), secrets.token_hex(32)),
            )

    def url(self, name: str) -> str:
        return _with_database(self.admin_url, name).replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture(scope="session")
def postgres_server() -> PostgresServer:
    url = _admin_url()
    try:
        with psycopg.connect(_libpq_url(url), connect_timeout=5) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as exc:
        reason = f"PostgreSQL unreachable at {url}: {str(exc).strip().splitlines()[0]}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set: PostgreSQL tests must not skip)")
        pytest.skip(f"!!! SKIPPING POSTGRESQL TESTS: {reason}")
    return PostgresServer(url)


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> Iterator[str]:
    """A migrated database that each test clones (much faster than migrating per test)."""
    name = postgres_server.create()
    database = Database(postgres_server.url(name))
    upgrade(database)
    database.dispose()
    yield name
    postgres_server.drop(name)


@pytest.fixture(params=DATABASE_KINDS)
def db_kind(request) -> str:
    return request.param


@pytest.fixture
def empty_database_url(db_kind: str, tmp_path, request) -> Iterator[str]:
    """The URL of a brand-new database with no schema."""
    if db_kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.create()
    yield server.url(name)
    server.drop(name)


@pytest.fixture
def database_factory(db_kind: str, tmp_path, request) -> Iterator:
    """Makes fresh databases at the latest schema, of the test's kind; drops them afterwards."""
    created: list[str] = []
    servers: list[PostgresServer] = []

    def make() -> str:
        if db_kind == "sqlite":
            url = f"sqlite:///{tmp_path / f'rotaguard-{len(created)}.db'}"
            database = Database(url)
            upgrade(database)
            database.dispose()
            created.append(url)
            return url
        server: PostgresServer = request.getfixturevalue("postgres_server")
        servers[:] = [server]
        name = server.create(template=request.getfixturevalue("postgres_template"))
        created.append(name)
        server.new_identity(name)
        return server.url(name)

    yield make
    for server in servers:
        for name in created:
            server.drop(name)


@pytest.fixture
def database_url(database_factory) -> str:
    """The URL of a fresh database at the latest schema."""
    return database_factory()


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    yield db
    db.dispose()


class CliResult:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err


@pytest.fixture
def cli(database_url, tmp_path, monkeypatch, capsys):
    """Run ``rotaguard`` in-process against the test's database; returns (code, stdout, stderr)."""
    monkeypatch.setenv("ROTAGUARD_DATABASE_URL", database_url)
    monkeypatch.setenv("ROTAGUARD_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ROTAGUARD_ACTOR", "A-01")  # the fixture programs' admin: allowed everything

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory):
    """One real Prefect API for the whole session (it takes about 10 s to start)."""
    os.environ.setdefault("PREFECT_HOME", str(tmp_path_factory.mktemp("prefect-home")))
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60):
        from prefect import get_client
        from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate

        with get_client(sync_client=True) as client:
            client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name="schedule-writes", limit=1))
        yield


@pytest.fixture
def flow_env(prefect_api, database_url, tmp_path, monkeypatch):
    """The settings a flow run in this process reads: the test's database, home and backup directory."""
    monkeypatch.setenv("ROTAGUARD_DATABASE_URL", database_url)
    monkeypatch.setenv("ROTAGUARD_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ROTAGUARD_BACKUP_DIR", str(tmp_path / "backups"))
    return database_url


@pytest.fixture(scope="session")
def s3_endpoint():
    """moto's standalone S3 server on a free loopback port, for the session."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)
    else:
        server.kill()
        pytest.fail("moto server did not start on loopback within 30 s")
    yield endpoint
    server.terminate()
    server.wait(timeout=10)
