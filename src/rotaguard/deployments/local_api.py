"""The local Prefect server of a Prefect home: started once, in the background, then reused.

With no Prefect API configured (no PREFECT_API_URL in the environment or the Prefect profile), a
RotaGuard command needs Prefect's API all the same. Prefect's own answer, an ephemeral API started
inside each command, costs 8-45 s per command here and takes its concurrency leases with it when
the command is killed. Instead the first command that needs the API starts ONE
``prefect server start`` for the Prefect home (``$ROTAGUARD_HOME/prefect`` by default), detached
on a free loopback port, and every later command reuses it while it answers.

Files in the Prefect home: ``server.json`` (pid, port, when and how fast it started),
``server.log`` (the server's output), ``server.lock`` (held while one command checks or starts the
server, so two commands at once start one), and the server's own ``prefect.db`` and
``concurrency_leases/``. The server keeps its concurrency leases on disk (Prefect's filesystem
lease storage), so a lease outlives a restart of the server, and revokes expired ones every
:data:`REPOSSESSOR_LOOP_SECONDS`.

``ensure_local_api`` starts or reuses it, ``stop_local_api`` stops it (``rotaguard stop``),
``local_api_status`` says whether it runs. ``use_local_api`` is what the CLI calls before it
imports Prefect's flows. Nothing here imports Prefect at module level.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from rotaguard.db.processes import pid_running
from rotaguard.errors import RotaGuardError

STATE_FILE = "server.json"
LOG_FILE = "server.log"
LOCK_FILE = "server.lock"
LEASE_DIRECTORY = "concurrency_leases"  # Prefect's filesystem lease storage under its home
FILESYSTEM_LEASES = "prefect.server.concurrency.lease_storage.filesystem"
REPOSSESSOR_LOOP_SECONDS = 5  # Prefect's default is 15
SLOT_RETRY_SECONDS = 5  # the longest a waiting writer sleeps between two tries (Prefect's default: 30)
START_TIMEOUT_SECONDS = 300.0  # a first start migrates its database: 24-62 s here, minutes on a busy machine
FIRST_START_SECONDS = 30  # announced before a start when no earlier one was timed (measured: 24-62 s)
STOP_SECONDS = 20.0
HEALTH_TIMEOUT_SECONDS = 2.0
PATIENT_HEALTH_SECONDS = 15.0  # before a running server is taken for hung and replaced (a busy machine is slow)
PORT_ATTEMPTS = 3
ANNOUNCE_AFTER_SECONDS = 0.5  # a server that fails within this says so in one line, unannounced
# Environment that names the local server to this process and its children (rotaguard.flows.slots
# reads the leases of the API it names).
LOCAL_API_URL_VARIABLE = "ROTAGUARD_LOCAL_PREFECT_API_URL"
LOCAL_LEASES_VARIABLE = "ROTAGUARD_LOCAL_PREFECT_LEASES"
# ``ephemeral``: Prefect's ephemeral API per command, as before the local server (slow; kept for comparison).
MODE_VARIABLE = "ROTAGUARD_PREFECT_SERVER"
EXECUTABLE_VARIABLE = "ROTAGUARD_PREFECT_EXECUTABLE"
START_TIMEOUT_VARIABLE = "ROTAGUARD_PREFECT_START_TIMEOUT"

# Started through a short-lived intermediate process: the server is then nobody's child (no zombie
# in a long-lived caller, no ResourceWarning) and lives on in its own session after the command.
_LAUNCHER = """
import json, subprocess, sys
command, log, cwd = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
try:
    with open(log, "ab") as out:
        child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                 cwd=cwd, start_new_session=True, close_fds=True)
except OSError as error:
    sys.stdout.write(json.dumps({"error": f"cannot run {command[0]}: {error.strerror or error}"}))
    sys.exit(1)
sys.stdout.write(json.dumps({"pid": child.pid}))
"""


class LocalApiError(RotaGuardError):
    """The local Prefect server could not be started or stopped (one line, exit 1)."""


@dataclass(frozen=True)
class LocalApi:
    """A running local server: where it answers, and what it is."""

    prefect_home: str
    pid: int
    port: int
    started_at: str
    start_seconds: float

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return Path(self.prefect_home) / LOG_FILE

    @property
    def lease_directory(self) -> Path:
        return Path(self.prefect_home) / LEASE_DIRECTORY

    def environment(self) -> dict[str, str]:
        """What a process sets to use this server (its children inherit it)."""
        return {
            "PREFECT_API_URL": self.url,
            "PREFECT_UI_URL": self.ui_url,
            "PREFECT_UI_API_URL": self.url,
            LOCAL_API_URL_VARIABLE: self.url,
            LOCAL_LEASES_VARIABLE: str(self.lease_directory),
        }

    def as_dict(self) -> dict:
        return {**asdict(self), "url": self.url, "ui_url": self.ui_url, "log": str(self.log)}


# ---------------------------------------------------------------------------------------------- state


def _read_state(home: Path) -> LocalApi | None:
    try:
        data = json.loads((home / STATE_FILE).read_text())
        return LocalApi(
            prefect_home=str(home),
            pid=int(data["pid"]),
            port=int(data["port"]),
            started_at=str(data["started_at"]),
            start_seconds=float(data["start_seconds"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_state(home: Path, api: LocalApi) -> None:
    partial = home / f".{STATE_FILE}.partial"
    fields = {key: value for key, value in asdict(api).items() if key != "prefect_home"}
    partial.write_text(json.dumps({**fields, "url": api.url, "ui_url": api.ui_url}, indent=2) + "\n")
    partial.chmod(0o600)
    partial.replace(home / STATE_FILE)


def _answers(api: LocalApi, timeout: float = HEALTH_TIMEOUT_SECONDS) -> bool:
    """Its process runs and its health endpoint says so within ``timeout`` seconds."""
    if not pid_running(api.pid):
        return False
    try:
        with urllib.request.urlopen(f"{api.url}/health", timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _is_our_server(api: LocalApi) -> bool:
    """Whether ``api.pid`` is still the ``prefect server start`` on ``api.port`` (a PID can be reused)."""
    try:
        words = Path(f"/proc/{api.pid}/cmdline").read_bytes().split(b"\0")
    except FileNotFoundError:
        return not Path("/proc/self").exists()  # no /proc on this system: trust the PID
    except OSError:
        return False
    return b"server" in words and b"start" in words and str(api.port).encode() in words


@contextlib.contextmanager
def _locked(home: Path, timeout: float) -> Iterator[None]:
    """One command at a time checks, starts or stops the server of ``home``."""
    with open(home / LOCK_FILE, "a+") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LocalApiError(
                        f"another command has been starting or stopping the local Prefect server for {home} "
                        f"for over {timeout:.0f} s (log: {home / LOG_FILE})"
                    ) from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


# ---------------------------------------------------------------------------------------------- start


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _prefect_command(port: int) -> list[str]:
    executable = os.environ.get(EXECUTABLE_VARIABLE) or str(Path(sys.executable).parent / "prefect")
    if not os.environ.get(EXECUTABLE_VARIABLE) and not Path(executable).exists():
        executable = shutil.which("prefect") or executable
    return [executable, "server", "start", "--host", "127.0.0.1", "--port", str(port)]


def server_environment(home: Path, port: int) -> dict[str, str]:
    """The server's environment: this one without the client's API settings, its own home and port,
    leases on disk, a repossessor every few seconds, no telemetry."""
    client_only = ("PREFECT_API_URL", "PREFECT_API_KEY", "PREFECT_API_AUTH_STRING", "PREFECT_UI_URL")
    inherited = {key: value for key, value in os.environ.items() if key not in client_only}
    return inherited | {
        "PREFECT_HOME": str(home),
        "PREFECT_UI_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE": FILESYSTEM_LEASES,
        "PREFECT_SERVER_SERVICES_REPOSSESSOR_LOOP_SECONDS": str(REPOSSESSOR_LOOP_SECONDS),
        "PREFECT_SERVER_CONCURRENCY_MAXIMUM_CONCURRENCY_SLOT_WAIT_SECONDS": str(SLOT_RETRY_SECONDS),
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }


def _last_log_line(log: Path, since: int) -> str:
    try:
        with open(log, "rb") as handle:
            handle.seek(since)
            lines = [line.strip() for line in handle.read().decode("utf-8", "replace").splitlines()]
    except OSError:
        return ""
    lines = [line for line in lines if line and not set(line) <= set("─-=│|+ ")]
    errors = [line for line in lines if "error" in line.lower() or "Error" in line]
    return (errors or lines or [""])[-1][:300]


def _start_timeout() -> float:
    try:
        return float(os.environ.get(START_TIMEOUT_VARIABLE) or START_TIMEOUT_SECONDS)
    except ValueError:
        raise LocalApiError(f"{START_TIMEOUT_VARIABLE} must be a number of seconds") from None


def _launch(home: Path, timeout: float, announce: Callable[[], None]) -> LocalApi:
    """Start the server and wait until it answers; its output goes to the log. ``announce`` is
    called once the server has run for a moment: a start that fails at once is one line."""
    log = home / LOG_FILE
    since = log.stat().st_size if log.exists() else 0
    port = _free_port()
    command = _prefect_command(port)
    began = time.monotonic()
    try:
        launched = subprocess.run(
            [sys.executable, "-c", _LAUNCHER, json.dumps(command), str(log), str(home)],
            env=server_environment(home, port),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )
        answer = json.loads(launched.stdout or "{}")
    except (OSError, subprocess.SubprocessError, ValueError) as error:
        raise LocalApiError(f"cannot start the local Prefect server for {home}: {error}") from None
    if "pid" not in answer:
        reason = answer.get("error") or (launched.stderr.strip().splitlines() or ["the launcher failed"])[-1]
        raise LocalApiError(f"cannot start the local Prefect server for {home}: {reason}")
    started_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    api = LocalApi(prefect_home=str(home), pid=int(answer["pid"]), port=port, started_at=started_at, start_seconds=0)
    deadline, announced = began + timeout, False
    while not _answers(api):
        if not announced and time.monotonic() - began > ANNOUNCE_AFTER_SECONDS and pid_running(api.pid):
            announce()
            announced = True
        if not pid_running(api.pid):
            reason = _last_log_line(log, since) or "it exited without a word"
            raise LocalApiError(f"cannot start the local Prefect server for {home}: {reason} (log: {log})")
        if time.monotonic() > deadline:
            _terminate(api)
            raise LocalApiError(
                f"cannot start the local Prefect server for {home}: it did not answer within {timeout:.0f} s "
                f"(log: {log}; {START_TIMEOUT_VARIABLE} waits longer)"
            )
        time.sleep(0.25)
    return LocalApi(
        prefect_home=str(home),
        pid=api.pid,
        port=port,
        started_at=started_at,
        start_seconds=round(time.monotonic() - began, 1),
    )


def _terminate(api: LocalApi, grace: float = STOP_SECONDS) -> None:
    """SIGTERM the server's process group, SIGKILL what is left after ``grace`` seconds."""
    if not pid_running(api.pid) or not _is_our_server(api):
        return
    for number, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(api.pid, number)
        except ProcessLookupError:
            return
        except PermissionError:
            raise LocalApiError(f"cannot stop the local Prefect server (pid {api.pid}): not permitted") from None
        deadline = time.monotonic() + wait
        while pid_running(api.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not pid_running(api.pid):
            return


def ensure_local_api(home: Path, *, notify: Callable[[str], None] | None = None) -> LocalApi:
    """The running local server of the Prefect home ``home``: reused while it answers, else
    (re)started, waiting until it answers. ``notify`` hears what is being started and when it is
    ready. A server that cannot start raises :class:`LocalApiError` with its reason."""
    home = Path(home).expanduser().resolve()
    current = _read_state(home)
    if current is not None and current.pid and _answers(current):
        return current
    timeout = _start_timeout()
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise LocalApiError(f"cannot start the local Prefect server for {home}: {error.strerror or error}") from None
    if not home.is_dir() or not os.access(home, os.W_OK | os.X_OK):
        raise LocalApiError(f"cannot start the local Prefect server for {home}: not a writable directory")
    with _locked(home, timeout + 30):
        current = _read_state(home)
        if current is not None and _answers(current, timeout=PATIENT_HEALTH_SECONDS):
            return current  # another command started it meanwhile, or it was only slow to answer
        if current is not None and current.pid and pid_running(current.pid):
            _terminate(current)  # not answering: a hung or half-dead server holds nothing worth keeping
            why = "it did not answer"
        elif (home / "prefect.db").exists():
            why = "not running"
        else:
            why = "first use"
        estimate = (current.start_seconds if current is not None else 0) or FIRST_START_SECONDS
        message = f"starting the local Prefect server for {home} ({why}, ~{estimate:.0f} s)…"
        for attempt in range(1, PORT_ATTEMPTS + 1):
            try:
                api = _launch(home, timeout, lambda: notify(message) if notify is not None else None)
                break
            except LocalApiError as error:
                # The free port was taken between choosing it and binding it: choose another.
                if "already in use" not in str(error) or attempt == PORT_ATTEMPTS:
                    raise
        _write_state(home, api)
    if notify is not None:
        notify(
            f"the local Prefect server answers at {api.ui_url} (ready in {api.start_seconds:.1f} s); `rotaguard stop` stops it"
        )
    return api


def local_api_status(home: Path) -> LocalApi | None:
    """The local server of ``home`` when it runs and answers; None otherwise."""
    current = _read_state(Path(home).expanduser().resolve())
    return current if current is not None and _answers(current) else None


def stop_local_api(home: Path) -> LocalApi | None:
    """Stop the local server of ``home``; returns what was stopped, None when none was running."""
    home = Path(home).expanduser().resolve()
    if not (home / STATE_FILE).exists():
        return None
    with _locked(home, STOP_SECONDS + 30):
        current = _read_state(home)
        if current is None:
            return None
        running = bool(current.pid) and pid_running(current.pid) and _is_our_server(current)
        if running:
            _terminate(current)
            if pid_running(current.pid):
                raise LocalApiError(f"the local Prefect server (pid {current.pid}) is still running")
        # Kept with pid 0: how long its last start took is what the next start announces.
        _write_state(home, replace(current, pid=0))
    return current if running else None


# ---------------------------------------------------------------------------------------------- the CLI's use


def use_local_api(home: Path, *, notify: Callable[[str], None] | None = None) -> str | None:
    """Point this process (and what it starts) at a Prefect API before its flows run: the one
    Prefect's settings name (environment, profile, .env), else the local server of ``home``,
    started when needed. Returns the API URL, or None where Prefect is left as the host process
    configured it (an embedding process's own temporary settings, or ROTAGUARD_PREFECT_SERVER=ephemeral)."""
    if os.environ.get("PREFECT_API_URL", "").strip():
        return os.environ["PREFECT_API_URL"]
    if os.environ.get(MODE_VARIABLE, "").strip().lower() == "ephemeral":
        return None
    embedded = "prefect.context" in sys.modules
    from prefect.settings import get_current_settings

    configured = get_current_settings().api.url
    if configured:
        return configured
    if embedded:
        import prefect.context

        if prefect.context.SettingsContext.get() is not prefect.context.GLOBAL_SETTINGS_CONTEXT:
            return None  # the host process runs Prefect under settings of its own: leave them
    api = ensure_local_api(home, notify=notify)
    os.environ.update(api.environment())
    import prefect.context

    prefect.context.refresh_global_settings_context()  # settings were read at import: read them again
    return api.url
