"""Process helpers shared by the end-to-end fixtures and tests."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

SERVER_START_SECONDS = 120


def stop_process_group(process: subprocess.Popen, grace_seconds: float = 20) -> None:
    """SIGTERM the process's group (it was started with start_new_session), then SIGKILL what is left."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=grace_seconds)
        except subprocess.TimeoutExpired:
            pass
    # Children may outlive the leader: the group goes either way.
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        pass


def clean_prefect_environment() -> dict[str, str]:
    """This process's environment without any PREFECT_* setting (other fixtures set some)."""
    return {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}


def rotaguard_environment(database_url: str, api_url: str, tmp_path: Path) -> dict[str, str]:
    """What a `rotaguard` subprocess needs: its database, a home and backups under tmp, the server."""
    return clean_prefect_environment() | {
        "ROTAGUARD_DATABASE_URL": database_url,
        "ROTAGUARD_HOME": str(tmp_path / "home"),
        "ROTAGUARD_BACKUP_DIR": str(tmp_path / "backups"),
        "PREFECT_API_URL": api_url,
    }


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@contextlib.contextmanager
def prefect_server_process(home: Path, settings: dict[str, str] | None = None) -> Iterator[str]:
    """`prefect server start` on a free loopback port with its own home (and any extra settings,
    such as a PostgreSQL database or an auth string), in its own process group; yields the API URL."""
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = (
        clean_prefect_environment()
        | {
            "PREFECT_HOME": str(home),
            "PREFECT_UI_API_URL": api_url,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_LOGGING_LEVEL": "WARNING",
        }
        | (settings or {})
    )
    log_path = home / "server.log"
    prefect = Path(sys.executable).parent / "prefect"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        # /health answers without the auth string, so this works for a protected server too.
        while not _healthy(api_url):
            if server.poll() is not None:
                raise RuntimeError(
                    f"prefect server exited with {server.returncode}:\n{log_path.read_text(errors='replace')[-3000:]}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"prefect server not healthy after {SERVER_START_SECONDS} s:\n{log_path.read_text(errors='replace')[-3000:]}"
                )
            time.sleep(0.5)
        yield api_url
    finally:
        stop_process_group(server)
