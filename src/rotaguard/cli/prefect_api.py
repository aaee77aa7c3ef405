"""The CLI's side of the local Prefect server: using it, `rotaguard stop`, and what `recover` gives back."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from rotaguard.cli.context import load_settings
from rotaguard.cli.output import JsonOption, console, emit_json


def _stderr_line(message: str) -> None:
    sys.stderr.write(f"rotaguard: {message}\n")
    sys.stderr.flush()


def prefect_home(settings) -> Path:
    """Prefect's home for this RotaGuard home: PREFECT_HOME, else ``$ROTAGUARD_HOME/prefect``."""
    return Path(os.environ.get("PREFECT_HOME") or settings.resolved_home / "prefect").expanduser()


def use_prefect_api(settings) -> str | None:
    """The Prefect API the flows of this command use: the configured one, else the local server of
    this home (started, with a line on stderr, when it does not run). A failed start is one line."""
    from rotaguard.deployments.local_api import use_local_api

    return use_local_api(prefect_home(settings), notify=_stderr_line)


def stop(json_output: JsonOption = False) -> None:
    """Stop the local Prefect server this home's commands started (the next command that needs
    Prefect starts it again). A server named by PREFECT_API_URL is not this command's to stop."""
    from rotaguard.deployments.local_api import stop_local_api

    settings = load_settings()
    home = prefect_home(settings)
    stopped = stop_local_api(home)
    if json_output:
        emit_json({"ok": True, "stopped": stopped is not None, "server": stopped.as_dict() if stopped else None})
    elif stopped is not None:
        console.print(
            f"Stopped the local Prefect server for {settings.resolved_home} (pid {stopped.pid}, {stopped.ui_url})."
        )
    else:
        console.print(f"No local Prefect server is running for {home}.")


def free_schedule_writes(settings, prefect_environment) -> list[str]:
    """For `rotaguard recover`: give back the schedule-writes slot of holders provably gone, after
    ``prefect_environment(settings)`` chose the API. A Prefect API that cannot be reached or started
    is a warning here: the database's recovery goes on."""
    from rotaguard.errors import RotaGuardError

    try:
        prefect_environment(settings)
        from rotaguard.flows.slots import free_dead_holders

        return free_dead_holders()
    except RotaGuardError as error:
        _stderr_line(f"warning: the schedule-writes slot was not checked: {error}")
    except Exception as error:  # the Prefect API's own errors: httpx, its settings
        _stderr_line(f"warning: the schedule-writes slot was not checked: {type(error).__name__}: {error}")
    return []
