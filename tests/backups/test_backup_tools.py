"""The PostgreSQL client tools must be at least the server's major version, and say so when not."""

import datetime as dt
import os
import shutil
import stat
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from rotaguard.backups import BackupError, BackupStore
from rotaguard.backups.engines import PostgresEngine, _copy_value, tool_environment
from rotaguard.db import Database


@pytest.fixture
def old_pg_dump(tmp_path, monkeypatch):
    """A pg_dump from PostgreSQL 9.6 first on PATH (a real executable answering --version)."""
    tool = tmp_path / "bin" / "pg_dump"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n")
    tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tool.parent}{os.pathsep}{os.environ['PATH']}")


def test_older_client_tools_are_refused_with_the_fix(db_kind, store, old_pg_dump):
    if db_kind != "postgresql":
        assert store.engine.kind == "sqlite"  # SQLite needs no external tool
        return
    assert isinstance(store.engine, PostgresEngine)
    with pytest.raises(
        BackupError, match=r"pg_dump 9 is older than the PostgreSQL \d+ server: install postgresql-client-\d+ or newer"
    ):
        store.create()
    assert list(store.directory.glob("*.dump")) == []


# A value no real setting holds: found in a child's environment, it can only have been passed down.
PLANTED_SECRET = "planted-secret-7f3c9a1e-never-for-a-child"
PG_PASSWORD = "synthetic-pg-password-2b81"


def test_the_tool_environment_keeps_only_what_the_postgresql_tools_read():
    environ = {
        "PATH": "/usr/bin",
        "HOME": "/home/rota",
        "TZ": "Europe/Berlin",
        "LANG": "de_DE.UTF-8",
        "LANGUAGE": "de",
        "LC_ALL": "C.UTF-8",
        "LC_MESSAGES": "C",
        "PGPASSWORD": "libpq's own",
        "PGSSLMODE": "require",
        "ROTAGUARD_BACKUP_ENCRYPTION_KEY": PLANTED_SECRET,
        "ROTAGUARD_S3_SECRET_ACCESS_KEY": PLANTED_SECRET,
        "ROTAGUARD_SMTP_PASSWORD": PLANTED_SECRET,
        "ROTAGUARD_DATABASE_URL": f"postgresql://rota:{PLANTED_SECRET}@db/rota",
        "AWS_SECRET_ACCESS_KEY": PLANTED_SECRET,
        "PREFECT_API_AUTH_STRING": PLANTED_SECRET,
    }
    kept = {name: environ[name] for name in ("PATH", "HOME", "TZ", "LANG", "PGPASSWORD", "PGSSLMODE")}
    # Messages in English (LANGUAGE and LC_ALL would override LC_MESSAGES); LC_ALL's other categories kept.
    locale = dict.fromkeys(("LC_CTYPE", "LC_NUMERIC", "LC_TIME", "LC_COLLATE", "LC_MONETARY"), "C.UTF-8")
    assert tool_environment(environ) == {**kept, **locale, "LC_MESSAGES": "C"}


def test_the_tools_answer_in_english_whatever_language_the_user_reads(db_kind, store, tmp_path, monkeypatch):
    """pg_restore ships translations: with LANGUAGE=de its error line reads "Fehler:", which the
    one-line reason (the first "error:" line) would miss."""
    if db_kind != "postgresql":
        assert store.engine.kind == "sqlite"  # SQLite's checks run in-process: no tool to translate
        return
    if not any(Path("/usr/share/locale/de/LC_MESSAGES").glob("pg_dump-*.mo")):
        pytest.fail("the German pg_dump/pg_restore messages are not installed: this test needs them to show anything")
    for name, value in {"LANGUAGE": "de", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}.items():
        monkeypatch.setenv(name, value)
    not_a_dump = tmp_path / "rotaguard_20260101_000000.dump"
    not_a_dump.write_text("not an archive\n")
    with pytest.raises(BackupError) as refused:
        store.engine.read_whole(not_a_dump)
    assert "error: input file does not appear to be a valid archive" in str(refused.value)


@pytest.fixture
def environment_recording_tools(tmp_path, monkeypatch) -> Path:
    """pg_dump and pg_restore first on PATH: each writes its first argument and its whole
    environment to a file of its own (two run side by side during verification), then runs the
    real tool. Returns the directory of those files."""
    seen = tmp_path / "child-environments"
    seen.mkdir()
    wrappers = tmp_path / "recording-bin"
    wrappers.mkdir()
    for name in ("pg_dump", "pg_restore"):
        real = shutil.which(name)
        if real is None:
            pytest.skip(f"{name} is not installed")
        wrapper = wrappers / name
        wrapper.write_text(f'#!/bin/sh\n{{ echo "{name} $1"; env; }} > "{seen}/{name}.$$"\nexec "{real}" "$@"\n')
        wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{wrappers}{os.pathsep}{os.environ['PATH']}")
    return seen


@pytest.mark.parametrize("db_kind", ["postgresql"])
def test_the_postgresql_tools_never_see_rotaguards_secrets(
    db_kind, seeded_database, database_url, tmp_path, monkeypatch, environment_recording_tools
):
    """Every pg_dump and pg_restore a backup, its verification and both restores start (SQLite
    starts no child process) sees PATH and the database password, and none of the secrets."""
    for name in ("ROTAGUARD_BACKUP_ENCRYPTION_KEY", "ROTAGUARD_S3_SECRET_ACCESS_KEY", "ROTAGUARD_SMTP_PASSWORD"):
        monkeypatch.setenv(name, PLANTED_SECRET)
    # The test server trusts local connections, so any password will do; the tools must still get it.
    with_password = make_url(database_url).set(password=PG_PASSWORD).render_as_string(hide_password=False)
    database = Database(with_password)
    try:
        store = BackupStore(database=database, directory=tmp_path / "backups")
        manifest = store.create()
        store.restore(
            manifest.id,
            scope="assignments",
            start=dt.date(2000, 1, 1),
            end=dt.date(2100, 1, 1),
            actor="test",
            pre_restore=manifest,
        )
        store.restore(manifest.id, actor="test", pre_restore=manifest)
    finally:
        database.dispose()
    runs = [record.read_text() for record in sorted(environment_recording_tools.iterdir())]
    started = [run.splitlines()[0] for run in runs]
    # --version checks, the dump, the whole read, the trial restore, the range's rows, the full restore.
    assert {"pg_dump --version", "pg_restore --version", "pg_restore -f"} <= set(started), started
    assert {line.split()[0] for line in started} == {"pg_dump", "pg_restore"}
    assert len(started) >= 8, started
    for run in runs:
        assert PLANTED_SECRET not in run, run.splitlines()[0]
        variables = {line.split("=", 1)[0] for line in run.splitlines()[1:] if "=" in line}
        assert "PATH" in variables and not any(name.startswith("ROTAGUARD_") for name in variables), run.splitlines()[0]
    connecting = [run for run in runs if "--dbname=" in run.splitlines()[0] or run.startswith("pg_dump -Fc")]
    assert connecting and all(f"PGPASSWORD={PG_PASSWORD}" in run for run in connecting)


TRICKY_TEXT = ["a\\tb", "tab\there", "new\nline", "back\\slash\\", "cr\rlf", "\\N", "\x01\x7f", "plain é 中"]


def test_copy_text_from_postgresql_reads_back_as_the_text_stored(postgres_server):
    """A range restore reads the assignments out of the dump's COPY data: every escape PostgreSQL
    writes there is undone in one pass (an escaped backslash before a t is not a tab)."""
    name = postgres_server.create()
    try:
        with psycopg.connect(
            postgres_server.url(name).replace("postgresql+psycopg://", "postgresql://"), autocommit=True
        ) as connection:
            connection.execute("CREATE TABLE tricky (position int PRIMARY KEY, value text)")
            with connection.cursor().copy("COPY tricky (position, value) FROM STDIN") as copy:
                for position, value in enumerate([*TRICKY_TEXT, None]):
                    copy.write_row((position, value))
            with connection.cursor().copy("COPY (SELECT value FROM tricky ORDER BY position) TO STDOUT") as copy:
                lines = b"".join(bytes(chunk) for chunk in copy).decode().split("\n")[:-1]
    finally:
        postgres_server.drop(name)
    assert [_copy_value(line) for line in lines] == [*TRICKY_TEXT, None]
