"""What the command groups share: who acts, dates and ranges, files written whole, the stored
program, the authorization check, the backup store, Prefect's environment and flow parameters."""

from __future__ import annotations

import errno
import getpass
import logging
import os
import stat
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError

from rotaguard.cli.context import load_settings, open_database, require_current_schema
from rotaguard.cli.output import console, emit_json
from rotaguard.domain import Program
from rotaguard.errors import InputError, Problem, RotaGuardError
from rotaguard.interchange.importer import load_program

if TYPE_CHECKING:
    from rotaguard.backups import BackupStore
    from rotaguard.db import Database
    from rotaguard.settings import Settings

StartOption = Annotated[str, typer.Option(help="First day (YYYY-MM-DD).")]
EndOption = Annotated[str, typer.Option(help="Last day, inclusive (YYYY-MM-DD).")]
OutOption = Annotated[Path | None, typer.Option("--out", "-o", help="Write here instead of stdout.")]
YesOption = Annotated[bool, typer.Option("--yes", help="Approve as the invoking user instead of pausing.")]
ApprovalTimeoutOption = Annotated[int, typer.Option(min=10, max=604800, help="Seconds to wait for approval.")]

ModelT = TypeVar("ModelT", bound=BaseModel)


def actor() -> str:
    """Who acts: ROTAGUARD_ACTOR, else the login name."""
    try:
        return os.environ.get("ROTAGUARD_ACTOR") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def parse_date(option: str, value: str) -> date:
    from rotaguard.domain import MAX_DATE, MIN_DATE

    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise InputError(option, [Problem(option, f"{value!r} is not a date (YYYY-MM-DD)")]) from None
    if not MIN_DATE <= parsed <= MAX_DATE:
        outside = f"{value} is outside the dates RotaGuard schedules ({MIN_DATE}..{MAX_DATE}, docs/limits.md)"
        raise InputError(option, [Problem(option, outside)])
    return parsed


def date_range(start: str, end: str) -> tuple[date, date]:
    first, last = parse_date("--start", start), parse_date("--end", end)
    if last < first:
        raise InputError("--end", [Problem("--end", f"{last} is before --start {first}")])
    return first, last


def deliver(text: str, out: Path | None, *, json_output: bool, report: dict[str, Any], message: str) -> None:
    """Print ``text``; or write it to ``out`` atomically and say so (as JSON with --json)."""
    if out is None:
        sys.stdout.write(text)
        return
    write_file(text, out)
    if json_output:
        emit_json({"ok": True, "path": str(out), **report})
    else:
        console.print(message)


def write_file(text: str, out: Path) -> None:
    """Temporary file, then rename: a reader never sees half a file."""
    write_files({out: text.encode("utf-8")})


def special_target(out: Path) -> str | None:
    """Why ``out`` must not be replaced by a file, or None: a rename would replace a device node, a
    FIFO or a symlink (and whatever reads them would get nothing), so only regular files and new
    paths are written."""
    try:
        mode = out.lstat().st_mode
    except OSError:
        return None  # a new path, or one that cannot be written: the write itself says which
    if stat.S_ISLNK(mode):
        return f"{out} is a symbolic link: give the path of a regular file or a new one"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return f"{out} is a device: give the path of a regular file or a new one"
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        return f"{out} is a pipe or socket: give the path of a regular file or a new one"
    return None


def write_files(files: dict[Path, bytes]) -> None:
    """Write each file (text or binary) under a temporary name, fsync it, then rename them all into
    place: a reader never sees half a file, and when any write fails no file is renamed and the
    temporary ones are removed."""
    for out in files:
        if (reason := special_target(out)) is not None:
            raise InputError("--out", [Problem("--out", reason)])
    staged: list[tuple[Path, Path]] = []
    current: Path | None = None
    try:
        for out, data in files.items():
            current = out
            out.parent.mkdir(parents=True, exist_ok=True)
            if out.is_dir():
                # Found now, not when renaming: by then other files would already be replaced.
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
            partial = out.with_name(f".{out.name}.partial")
            staged.append((partial, out))
            with open(partial, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        for partial, out in staged:
            current = out
            partial.replace(out)
    except OSError as exc:
        for partial, _ in staged:
            try:
                partial.unlink(missing_ok=True)
            except OSError:
                pass
        raise RotaGuardError(f"cannot write {current}: {exc.strerror or exc}") from None


def stored_program(database: Database) -> tuple[Program, dict[str, Any]]:
    """The imported program (and its document's extras); a one-line error when there is none."""
    require_current_schema(database)
    stored = load_program(database)
    if stored is None:
        raise RotaGuardError("no program has been imported yet: run `rotaguard program import FILE`")
    return stored


def authorize(database: Database, subject: str, *, program: Program | None = None) -> None:
    """Refuse at once, before any lock, backup or flow, when ROTAGUARD_ACTOR may not do ``subject``
    (the authorization matrix; the stored program's staff are the identities: ``program`` when the
    caller has already loaded it)."""
    from rotaguard.authorization import authorize as check

    if program is None:
        stored = load_program(database)
        program = stored[0] if stored else None
    check(program, actor(), subject)


def backup_store() -> tuple[Settings, BackupStore]:
    """The settings and the backup store over the configured database (its schema current)."""
    from rotaguard.backups import BackupStore

    settings = load_settings()
    database = open_database(settings)
    require_current_schema(database)
    store = BackupStore(
        database=database,
        directory=settings.resolved_backup_dir,
        retention_days=settings.backup_retention_days,
        min_keep=settings.backup_min_keep,
    )
    return settings, store


def prefect_environment(settings: Settings) -> None:
    """Prefect keeps its state under ROTAGUARD_HOME unless told otherwise (set before importing it)."""
    os.environ.setdefault("PREFECT_HOME", str(settings.resolved_home / "prefect"))
    # Prefect makes its home without parents: a fresh ROTAGUARD_HOME would print a warning.
    try:
        Path(os.environ["PREFECT_HOME"]).expanduser().mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RotaGuardError(
            f"cannot use PREFECT_HOME {os.environ['PREFECT_HOME']}: {error.strerror or error}"
        ) from None
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    # Run logs (solver progress included) reach the API at INFO; the terminal shows warnings only.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")
    # No network here or in most hospitals' server rooms: no telemetry.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # Leases on disk, where an API started from here (an ephemeral one too) keeps them past a kill.
    os.environ.setdefault(
        "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE", "prefect.server.concurrency.lease_storage.filesystem"
    )
    from rotaguard.cli.prefect_api import use_prefect_api

    use_prefect_api(settings)  # no API configured: this home's local Prefect server, started on first use


def _refusal_names() -> frozenset[str]:
    found: set[str] = set()
    pending: list[type] = [RotaGuardError]
    while pending:
        cls = pending.pop()
        found.add(cls.__name__)
        pending.extend(cls.__subclasses__())
    return frozenset(found)


class _HideRefusalsFromTheTerminal(logging.Filter):
    """A refusal (a gate said no, a backup is bad) is the command's one line on stderr; Prefect also
    logs the task that raised it, at ERROR with a traceback. That record still reaches the run's log
    in the API (the UI shows it); only the terminal's copy is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, RotaGuardError):
            return False
        if record.levelno >= logging.ERROR and record.name.startswith("prefect.task_runs"):
            message = record.getMessage()
            return not any(f"exception {name}:" in message for name in _refusal_names())
        return True


def hide_refusals_from_the_terminal() -> None:
    """Install the filter on Prefect's console handlers (Prefect configures them when imported)."""
    from prefect.logging.handlers import PrefectConsoleHandler

    for name in ("", "prefect", "prefect.flow_runs", "prefect.task_runs"):
        for handler in logging.getLogger(name).handlers:
            if isinstance(handler, PrefectConsoleHandler) and not any(
                isinstance(f, _HideRefusalsFromTheTerminal) for f in handler.filters
            ):
                handler.addFilter(_HideRefusalsFromTheTerminal())


def flow_params(model: type[ModelT], **values: Any) -> ModelT:
    """A flow's parameters from command-line values; the first problem as a one-line error naming the option."""
    try:
        return model(**values)
    except ValidationError as exc:
        item = exc.errors(include_url=False)[0]
        where = "--" + str(item["loc"][0]).replace("_", "-") if item["loc"] else "arguments"
        raise InputError(where, [Problem(where, item["msg"].removeprefix("Value error, "))]) from None
