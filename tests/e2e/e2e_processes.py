"""Process helpers shared by the end-to-end fixtures and tests."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path


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
