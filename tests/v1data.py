"""The v1 fixture database (tests/fixtures/v1-database.sqlite, made by the v1 code with
tests/fixtures/make-v1-fixture.sh) as a database of either kind at schema 0005."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from sqlalchemy import MetaData, create_engine, insert, select, text

from rotaguard.db import Database
from rotaguard.db.migrate import current_revision, upgrade

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE = FIXTURES / "v1-database.sqlite"
V1_BACKUP_DIR = FIXTURES / "v1-backup"
V1_REVISION = "0005"
ASSIGNMENTS = 69
FIRST_DAY, LAST_DAY = dt.date(2026, 3, 12), dt.date(2026, 3, 18)


def normal(value):
    # SQLite hands back naive UTC text; PostgreSQL aware values. The same instant either way.
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    return value


def snapshot(connection, metadata: MetaData) -> dict[str, list[tuple]]:
    """Every row of every v1 table, its v1 columns only, in primary-key order."""
    rows = {}
    for table in metadata.sorted_tables:
        if table.name == "alembic_version":
            continue
        result = connection.execute(select(table).order_by(*table.primary_key.columns))
        rows[table.name] = [tuple(normal(v) for v in row) for row in result]
    return rows


@pytest.fixture(scope="module")
def v1_contents() -> tuple[MetaData, dict[str, list[tuple]]]:
    engine = create_engine(f"sqlite:///file:{FIXTURE}?mode=ro&uri=true")
    try:
        metadata = MetaData()
        with engine.connect() as connection:
            metadata.reflect(bind=connection)
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == V1_REVISION
            return metadata, snapshot(connection, metadata)
    finally:
        engine.dispose()


@pytest.fixture
def v1_database(db_kind, tmp_path, request, v1_contents) -> Database:
    """A v1 database at revision 0005 holding the fixture's rows, of the test's kind."""
    metadata, contents = v1_contents
    if db_kind == "sqlite":
        copy = tmp_path / "v1.sqlite"
        shutil.copyfile(FIXTURE, copy)
        database = Database(f"sqlite:///{copy}")
    else:
        server = request.getfixturevalue("postgres_server")
        name = server.create()
        request.addfinalizer(lambda: server.drop(name))
        database = Database(server.url(name))
        upgrade(database, V1_REVISION)
        with database.engine.begin() as connection:
            for table in metadata.sorted_tables:
                rows = contents.get(table.name)
                if rows:
                    live = MetaData()
                    live.reflect(bind=connection, only=[table.name])
                    columns = [c.name for c in table.columns]
                    connection.execute(
                        insert(live.tables[table.name]), [dict(zip(columns, r, strict=True)) for r in rows]
                    )
                    if "id" in columns and isinstance(rows[0][columns.index("id")], int):
                        connection.execute(
                            text(
                                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), (SELECT max(id) FROM {table.name}))"
                            )
                        )
    request.addfinalizer(database.dispose)
    assert current_revision(database) == V1_REVISION
    return database


def v1_rows_now(database: Database, metadata: MetaData) -> dict[str, list[tuple]]:
    """The v1 columns of the v1 tables as they are now (the new columns left out)."""
    rows = {}
    with database.engine.connect() as connection:
        for table in metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            live = MetaData()
            live.reflect(bind=connection, only=[table.name])
            current = live.tables[table.name]
            columns = [current.c[c.name] for c in table.columns]
            result = connection.execute(select(*columns).order_by(*[current.c[c.name] for c in table.primary_key]))
            rows[table.name] = [tuple(normal(v) for v in row) for row in result]
    return rows
