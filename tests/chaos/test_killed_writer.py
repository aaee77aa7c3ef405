"""Issue 26, item 1: a writer killed with SIGKILL while it holds the schedule-writes slot and lock must
not refuse every later schedule write (before: 19 of 58 kills did, for good).

The embedded default, as a user runs it: no PREFECT_API_URL, the installed CLI in subprocesses. A
generation is killed once it holds the slot and the database lock (its lock row is there); the next
generation must then publish. It waits at most 30 s for the slot (its lock_wait_seconds), less than
the killed holder's 60 s lease, so it publishes only because the holder's slot and lock were given
back as provably dead. A second kill is followed by `rotaguard recover`, which must say it gave the
slot back, and the next generation publishes too. SQLite and PostgreSQL on the local Prefect
server; SQLite on Prefect's ephemeral API too (ROTAGUARD_PREFECT_SERVER=ephemeral), where the
killed command's API goes with it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from factories import dumps, program_document
from rotaguard.deployments.local_api import stop_local_api

START, END = "2026-03-12", "2026-03-18"
HOLD_WAIT_SECONDS = 420  # the first command starts the local Prefect server (24-62 s here, more when busy)
COMMAND_SECONDS = 300
LEASE_SECONDS = 60  # rotaguard.flows.slots.LEASE_SECONDS (not imported: it imports Prefect)


@pytest.fixture
def home(tmp_path) -> Path:
    home = tmp_path / "home"
    yield home
    stop_local_api(home / "prefect")  # the commands started it; a test never leaves it running


def _env(database_url: str, home: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PREFECT_", "ROTAGUARD_"))}
    return env | {
        "ROTAGUARD_DATABASE_URL": database_url,
        "ROTAGUARD_HOME": str(home),
        "ROTAGUARD_BACKUP_DIR": str(home / "backups"),
        "ROTAGUARD_ACTOR": "A-01",
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


def _generate(*extra: str) -> list[str]:
    return ["generate", "--start", START, "--end", END, "--yes", "--algorithm", "greedy", "--timeout", "5", *extra]


def _kill_while_holding(env: dict[str, str], database_url: str, log: Path) -> None:
    """Start a generation and SIGKILL it once its schedule-writes lock row exists (the gate takes
    the Prefect slot first, so it holds both)."""
    engine = create_engine(database_url)
    with open(log, "w") as stderr:
        writer = subprocess.Popen(
            [sys.executable, "-m", "rotaguard", *_generate()],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + HOLD_WAIT_SECONDS
        while True:
            with engine.connect() as connection:
                held = connection.execute(text("SELECT count(*) FROM operation_locks")).scalar()
            if held:
                break
            assert writer.poll() is None, f"the writer ended before it held the lock: {log.read_text()}"
            assert time.monotonic() < deadline, f"the writer never held the lock: {log.read_text()}"
            time.sleep(0.05)
        writer.send_signal(signal.SIGKILL)  # the writer only, as a crash would; what it started is ended below
    finally:
        if writer.poll() is None:
            writer.kill()
        writer.wait(timeout=60)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(writer.pid, signal.SIGKILL)  # an ephemeral API it started, say
        engine.dispose()


@pytest.mark.parametrize(
    "mode",
    [
        "local",
        # ROTAGUARD_PREFECT_SERVER=ephemeral: Prefect's ephemeral API inside each command, as before the
        # local server (leases on disk now, and no repossessor at all). SQLite only: each command
        # starts an API of its own (8-45 s).
        "ephemeral",
    ],
)
def test_a_writer_killed_holding_the_slot_does_not_lock_out_the_next(database_url, db_kind, home, tmp_path, mode):
    if mode == "ephemeral" and db_kind != "sqlite":
        pytest.skip("the ephemeral API's row runs on SQLite only (each command starts its own API)")
    env = _env(database_url, home) | ({"ROTAGUARD_PREFECT_SERVER": "ephemeral"} if mode == "ephemeral" else {})
    program = tmp_path / "program.json"
    document = program_document()
    document["rotations"][1]["residents"]["min"] = 0  # a greedy week publishes
    program.write_text(dumps(document))
    imported = _rotaguard(env, "program", "import", str(program))
    assert imported.returncode == 0, imported.stderr

    _kill_while_holding(env, database_url, tmp_path / "killed-1.log")
    began = time.monotonic()
    after = _rotaguard(env, *_generate("--json"))
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout)["status"] == "published"
    print(f"{mode}/{db_kind}: the next generation published {time.monotonic() - began:.1f} s after the kill")

    _kill_while_holding(env, database_url, tmp_path / "killed-2.log")
    killed = time.monotonic()
    recovered = _rotaguard(env, "recover", "--json")
    assert recovered.returncode == 0, recovered.stderr
    freed = json.loads(recovered.stdout)["freed"]
    if time.monotonic() - killed < LEASE_SECONDS or mode == "ephemeral":
        # Before the lease ran out (the local server's repossessor revokes it after) recover must
        # have given it back; an ephemeral API revokes nothing, so there recover always must.
        assert any("schedule-writes slot of lease" in line and "process is gone" in line for line in freed), freed
    again = _rotaguard(env, *_generate("--json"))
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["status"] == "published"
    assert "Nothing to recover." in _rotaguard(env, "recover").stdout

    if mode == "local":
        # What a home whose ephemeral API lost a lease before this fix holds: a slot taken with no
        # lease anywhere. The next writer gives it back (it checks twice, a second apart).
        _take_a_slot_without_a_lease(env, home)
        legacy = _rotaguard(env, *_generate("--json"))
        assert legacy.returncode == 0, legacy.stderr
        assert json.loads(legacy.stdout)["status"] == "published"
        assert "that no lease holds" in legacy.stderr


def _take_a_slot_without_a_lease(env: dict[str, str], home: Path) -> None:
    url = json.loads((home / "prefect" / "server.json").read_text())["url"]
    code = (
        "from prefect import get_client\n"
        "from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate\n"
        "with get_client(sync_client=True) as client:\n"
        "    client.update_global_concurrency_limit('schedule-writes', GlobalConcurrencyLimitUpdate(active_slots=1))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env | {"PREFECT_API_URL": url}, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
