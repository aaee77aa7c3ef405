"""A refused gated command prints its one line and nothing else (issue 26, item 4): Prefect's own
log of the task that refused, with its traceback, stays in the run's log in the API."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from factories import dumps, program_document

pytestmark = pytest.mark.usefixtures("prefect_api")


def test_a_refused_restore_is_one_line_on_stderr(cli, database_url, tmp_path):
    from prefect.settings import PREFECT_API_URL

    document = tmp_path / "program.json"
    document.write_text(dumps(program_document()))
    assert cli("program", "import", str(document)).code == 0
    created = cli("backup", "create", "--json")
    assert created.code == 0, created.err
    backups = tmp_path / "home" / "backups"
    dump = next(p for p in backups.iterdir() if p.name.startswith("rotaguard_") and not p.name.endswith(".json"))
    dump.write_bytes(dump.read_bytes()[:-1])  # the checksum no longer matches: a refusal, not a crash
    backup_id = dump.name.split(".")[0]
    result = subprocess.run(
        [sys.executable, "-m", "rotaguard", "backup", "restore", backup_id, "--yes"],
        capture_output=True,
        text=True,
        timeout=300,
        env={
            **os.environ,
            "ROTAGUARD_DATABASE_URL": database_url,
            "ROTAGUARD_HOME": str(tmp_path / "home"),
            "PREFECT_API_URL": PREFECT_API_URL.value(),
        },
    )
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"rotaguard: error: not restored: failed: refusing to restore {backup_id}")
    assert "Traceback" not in result.stderr and "ERROR" not in result.stderr
