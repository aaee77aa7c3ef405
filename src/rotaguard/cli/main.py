"""``rotaguard``: the command line, assembled from its command groups. Every command takes --json
and fails with one line on stderr; ``main`` turns every failure into that line and an exit code."""

from __future__ import annotations

import os
import sys
import traceback
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Any

import typer
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from rotaguard.cli import admin, audit, backup, export, grid, plan, prefect_api, program, schedule, swap
from rotaguard.cli.context import close_databases
from rotaguard.cli.output import console, emit_json, fail_line, json_already_emitted, reset_json_state
from rotaguard.errors import InputError, RotaGuardError

app = typer.Typer(
    help="RotaGuard: safe, ACGME-compliant residency block scheduling.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Every command and group answers -h as well as --help (subcommands inherit the setting).
    context_settings={"help_option_names": ["-h", "--help"]},
)
# Top-level commands, in the order --help lists them.
app.add_typer(admin.commands)
app.add_typer(schedule.commands)
app.add_typer(export.commands)
app.add_typer(grid.commands)
app.add_typer(program.program_app, name="program")
app.add_typer(plan.plan_app, name="plan")
app.add_typer(backup.backup_app, name="backup")
app.add_typer(swap.swap_app, name="swap")
app.add_typer(audit.audit_app, name="audit")
app.command("stop")(prefect_api.stop)

EXIT_INTERNAL = 70


def _installed_version() -> str:
    try:
        return version("rotaguard")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _print_version(value: bool) -> None:
    if value:
        console.print(f"rotaguard {_installed_version()}")
        raise typer.Exit()


@app.callback()
def _root(
    show_version: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit.", is_eager=True, callback=_print_version),
    ] = False,
) -> None:
    """RotaGuard: safe, ACGME-compliant residency block scheduling."""


def _report(error: RotaGuardError, *, json_requested: bool) -> None:
    fail_line(str(error))
    problems = error.problems if isinstance(error, InputError) else []
    if isinstance(error, InputError):
        for line in error.detail_lines:
            sys.stderr.write(f"  {line}\n")
    if json_requested and not json_already_emitted():
        emit_json(
            {"ok": False, "error": str(error), "problems": [{"path": p.path, "message": p.message} for p in problems]}
        )


def _is_usage_error(error: Exception) -> bool:
    return any(cls.__name__ == "ClickException" for cls in type(error).__mro__) and hasattr(error, "format_message")


def _report_usage_error(error: Any, *, json_requested: bool) -> None:
    """A command line Click refused: one line naming the option and where its help is."""
    # Typer checks values through pydantic, whose messages for a ValueError begin "Value error, ".
    message = str(error.format_message()).replace(": Value error, ", ": ")
    context = getattr(error, "ctx", None)
    hint = f" (see `{context.command_path} --help`)" if context is not None else ""
    fail_line(f"{message}{hint}")
    if json_requested:
        param = getattr(error, "param", None)
        where = (getattr(param, "opts", None) or [getattr(param, "name", None)])[0] if param is not None else None
        problems = [{"path": where, "message": message}] if where else []
        emit_json({"ok": False, "error": message, "problems": problems})


def main(args: list[str] | None = None) -> int:
    """Run the CLI and return its exit code instead of raising."""
    reset_json_state()
    json_requested = "--json" in (sys.argv[1:] if args is None else args)
    try:
        # Not standalone: failures come back here to be reported as one line. What Click still
        # ends itself (--help, --version) comes back as its exit code.
        returned = app(args=args, prog_name="rotaguard", standalone_mode=False)
        return returned if isinstance(returned, int) else 0
    except RotaGuardError as error:
        _report(error, json_requested=json_requested)
        return error.exit_code
    except typer.Exit as exit_:
        return exit_.exit_code
    except typer.Abort:
        fail_line("aborted")
        return 130
    except SystemExit as exit_:
        # Shell completion (--show-completion, --install-completion, and the completions the shell
        # asks for) ends by calling sys.exit itself, standalone or not.
        if exit_.code is None or isinstance(exit_.code, int):
            return exit_.code or 0
        fail_line(str(exit_.code))
        return 1
    except OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        fail_line(f"database unavailable: {reason}")
        return 1
    except SQLAlchemyError as error:
        fail_line(f"database error: {type(error).__name__}: {str(error).splitlines()[0]}")
        return 1
    except Exception as error:
        if _is_usage_error(error):
            # Typer vendors click in recent releases, so its exception classes are matched by shape.
            if type(error).__name__ != "NoArgsIsHelpError":
                _report_usage_error(error, json_requested=json_requested)
            return getattr(error, "exit_code", 2)
        # A bug, not a user's mistake: still one line unless asked for detail.
        if os.environ.get("ROTAGUARD_DEBUG"):
            traceback.print_exc()
        fail_line(f"internal error: {type(error).__name__}: {error} (set ROTAGUARD_DEBUG=1 for the traceback)")
        return EXIT_INTERNAL
    finally:
        close_databases()


def run() -> None:
    sys.exit(main())
