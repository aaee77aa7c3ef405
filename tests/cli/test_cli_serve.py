"""`rotaguard serve` refuses to start with one line when it could not serve anything.

The installed console script in a subprocess, as an operator starts it. Serving itself (the
deployments registered and run through a real Prefect server) is tests/e2e/test_deployments.py.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from rotaguard.db import Database
from rotaguard.db.migrate import upgrade

SERVE_REFUSAL_SECONDS = 120


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _migrated(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'rotaguard.db'}"
    database = Database(url)
    upgrade(database)
    database.dispose()
    return url


def _serve(tmp_path: Path, database_url: str, *args: str, **prefect: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PREFECT_", "ROTAGUARD_"))}
    env |= {"ROTAGUARD_DATABASE_URL": database_url, "ROTAGUARD_HOME": str(tmp_path / "home"), **prefect}
    rotaguard = Path(sys.executable).parent / "rotaguard"
    # A serve that did start would block: the timeout fails the test instead of hanging it.
    return subprocess.run(
        [str(rotaguard), "serve", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=SERVE_REFUSAL_SECONDS,
    )


def _one_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 1, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("rotaguard: error: "), result.stderr[-2000:]
    return lines[0].removeprefix("rotaguard: error: ")


def test_an_uninitialised_database_is_refused_before_prefect_is_asked(tmp_path):
    url = f"sqlite:///{tmp_path / 'never-initialised.db'}"
    reason = _one_line(_serve(tmp_path, url, PREFECT_API_URL=f"http://127.0.0.1:{_free_port()}/api"))
    assert reason == f"the database at {url} is not initialised: run `rotaguard init`"


def test_without_a_prefect_api_url_a_local_server_that_cannot_start_is_one_line(tmp_path):
    """No PREFECT_API_URL: serving uses the home's local Prefect server, and one that cannot start
    (here its executable is missing) is one line, exit 1, before anything is registered."""
    missing = tmp_path / "no-such-prefect"
    reason = _one_line(_serve(tmp_path, _migrated(tmp_path), ROTAGUARD_PREFECT_EXECUTABLE=str(missing)))
    home = tmp_path / "home" / "prefect"
    assert reason == (
        f"cannot start the local Prefect server for {home}: cannot run {missing}: No such file or directory"
    )
    assert not (home / "server.json").exists()


@pytest.mark.parametrize("json_output", [False, True])
def test_an_unreachable_prefect_api_is_one_line(tmp_path, json_output):
    api = f"http://127.0.0.1:{_free_port()}/api"  # nobody listens
    result = _serve(tmp_path, _migrated(tmp_path), *(["--json"] if json_output else []), PREFECT_API_URL=api)
    reason = _one_line(result)
    assert reason.startswith(f"the Prefect API at {api} is unreachable: ")
    if json_output:
        assert json.loads(result.stdout) == {"ok": False, "error": reason, "problems": []}
    else:
        assert result.stdout == ""
