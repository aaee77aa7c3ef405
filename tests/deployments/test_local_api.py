"""The local Prefect server of a Prefect home (rotaguard.deployments.local_api), with real processes:
started once, reused while it answers, restarted after a SIGKILL, one server when two commands
start it at once, stopped by `rotaguard stop`, and a start that cannot work is one line, exit 1.
Every server a test starts is stopped in its teardown."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from factories import dumps, program_document
from rotaguard.db.processes import pid_running
from rotaguard.deployments.local_api import ensure_local_api, local_api_status, stop_local_api

COMMAND_SECONDS = 300


@pytest.fixture
def home(tmp_path) -> Path:
    """A Prefect home under a RotaGuard home (tmp_path), as the CLI lays them out."""
    home = tmp_path / "prefect"
    yield home
    stop_local_api(home)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def _gone(pid: int, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while pid_running(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not pid_running(pid)


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PREFECT_", "ROTAGUARD_"))}
    return env | {
        "ROTAGUARD_HOME": str(tmp_path),
        "ROTAGUARD_DATABASE_URL": f"sqlite:///{tmp_path / 'rotaguard.db'}",
        "ROTAGUARD_ACTOR": "A-01",
        **extra,
    }


def _rotaguard(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rotaguard", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=COMMAND_SECONDS,
    )


def test_started_once_reused_restarted_after_sigkill_and_stopped(home, tmp_path):
    heard: list[str] = []
    api = ensure_local_api(home, notify=heard.append)
    assert heard[0].startswith(f"starting the local Prefect server for {home} (first use, ~") and len(heard) == 2
    assert heard[1].startswith(f"the local Prefect server answers at {api.ui_url} (ready in ")
    assert _answers(api.url) and api.url == f"http://127.0.0.1:{api.port}/api"
    state = json.loads((home / "server.json").read_text())
    assert (state["pid"], state["url"]) == (api.pid, api.url)
    assert (home / "prefect.db").is_file() and (home / "server.log").is_file()

    reused = ensure_local_api(home, notify=heard.append)
    assert reused.pid == api.pid and len(heard) == 2  # nothing started, nothing said
    assert local_api_status(home) == api

    os.kill(api.pid, signal.SIGKILL)
    assert _gone(api.pid)
    assert local_api_status(home) is None
    restarted = ensure_local_api(home, notify=heard.append)
    assert restarted.pid != api.pid and _answers(restarted.url)
    assert heard[2].startswith(f"starting the local Prefect server for {home} (not running, ~")

    stopped = _rotaguard(_env(tmp_path), "stop", "--json")
    assert stopped.returncode == 0, stopped.stderr
    document = json.loads(stopped.stdout)
    assert (document["stopped"], document["server"]["pid"]) == (True, restarted.pid)
    assert _gone(restarted.pid) and not _answers(restarted.url)
    again = _rotaguard(_env(tmp_path), "stop")
    assert again.returncode == 0 and again.stdout.strip() == f"No local Prefect server is running for {home}."


def _servers_in(home: Path) -> list[int]:
    """Processes started for ``home`` (the server runs with the home as its working directory)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(entry / "cwd") == str(home) and pid_running(int(entry.name)):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_two_commands_at_once_start_one_server(home):
    code = (
        "import sys; from pathlib import Path; from rotaguard.deployments.local_api import ensure_local_api; "
        "print(ensure_local_api(Path(sys.argv[1])).pid)"
    )
    starters = [
        subprocess.Popen([sys.executable, "-c", code, str(home)], stdout=subprocess.PIPE, text=True) for _ in range(2)
    ]
    pids = {int(starter.communicate(timeout=COMMAND_SECONDS)[0]) for starter in starters}
    assert all(starter.returncode == 0 for starter in starters)
    assert len(pids) == 1
    assert _servers_in(home.resolve()) == list(pids)


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> Path:
    """A RotaGuard home with a migrated database holding the factories' program."""
    home = tmp_path_factory.mktemp("imported")
    program = home / "program.json"
    program.write_text(dumps(program_document()))
    for args in (["init"], ["program", "import", str(program)]):
        done = _rotaguard(_env(home), *args)
        assert done.returncode == 0, done.stderr
    return home


@pytest.mark.parametrize("case", ["missing executable", "executable that exits", "home is a file"])
def test_a_start_that_cannot_work_is_one_line_exit_1(imported, tmp_path, case):
    prefect_home = tmp_path / "prefect"
    extra = {"PREFECT_HOME": str(prefect_home)}
    if case == "missing executable":
        extra["ROTAGUARD_PREFECT_EXECUTABLE"] = str(tmp_path / "no-such-prefect")
        expected = f"cannot run {tmp_path / 'no-such-prefect'}: No such file or directory"
    elif case == "executable that exits":
        extra["ROTAGUARD_PREFECT_EXECUTABLE"] = "/bin/false"
        expected = f"it exited without a word (log: {prefect_home / 'server.log'})"
    else:
        prefect_home.write_text("not a directory")
        expected = f"cannot use PREFECT_HOME {prefect_home}: File exists"
    result = _rotaguard(
        _env(imported, **extra), "generate", "--start", "2026-03-12", "--end", "2026-03-18", "--yes", "--json"
    )
    lines = result.stderr.splitlines()
    assert result.returncode == 1, result.stderr
    assert len(lines) == 1 and lines[0].startswith("rotaguard: error: "), result.stderr
    assert "Traceback" not in result.stderr and expected in lines[0], lines[0]
    assert case == "home is a file" or f"cannot start the local Prefect server for {prefect_home}: " in lines[0]
    assert json.loads(result.stdout)["ok"] is False
