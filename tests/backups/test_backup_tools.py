"""The PostgreSQL client tools must be at least the server's major version, and say so when not."""

import os
import stat

import pytest

from rotaguard.backups import BackupError
from rotaguard.backups.engines import PostgresEngine


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
    with pytest.raises(BackupError, match=r"pg_dump 9 is older than the PostgreSQL \d+ server: install postgresql-client-\d+ or newer"):
        store.create()
    assert list(store.directory.glob("*.dump")) == []
