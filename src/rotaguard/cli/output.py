"""How commands report: human text on stdout, machine JSON with --json, one-line errors on stderr."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]

console = Console(highlight=False, soft_wrap=True)


class _JsonState:
    """Whether this command has printed its JSON document (stdout holds at most one)."""

    emitted = False


def emit_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n")
    _JsonState.emitted = True


def json_already_emitted() -> bool:
    return _JsonState.emitted


def reset_json_state() -> None:
    _JsonState.emitted = False


def table(title: str, columns: list[str], rows: list[list[Any]]) -> Table:
    result = Table(title=title, title_justify="left")
    for column in columns:
        result.add_column(column)
    for row in rows:
        result.add_row(*(str(value) for value in row))
    return result


def fail_line(message: str) -> None:
    """The one line that says why a command failed."""
    line = f"rotaguard: error: {message}\n"
    # An argument that is not UTF-8 (a lone surrogate) is escaped here, whatever the stream's own
    # error handler: the line that names it must not fail in turn.
    sys.stderr.write(line.encode("utf-8", "backslashreplace").decode("utf-8"))
