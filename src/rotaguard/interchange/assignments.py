"""Bulk assignment files: a JSON or CSV list of (person, date, slot, rotation, locked).

Everything is parsed and checked before anything is written: every problem is collected
and reported with its place, ``line 7`` in a CSV file (physical lines, the header is line 1)
or a JSON path such as ``$[3].date``. Parsing knows nothing of the program;
``check_against_program`` then judges the entries against it (people, rotations, absences,
eligibility) with the same rules the program import reports.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import stat
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import cast

from rotaguard.domain import Absence, Assignment, AssignmentSource, Program, Slot
from rotaguard.domain.base import MAX_DATE, MAX_IDENTIFIER_LENGTH, MIN_DATE, Frozen, is_identifier
from rotaguard.errors import InputError, Problem
from rotaguard.interchange.document import duty_warnings

MAX_ROWS = 50_000
MAX_FILE_BYTES = 20 * 1024 * 1024

COLUMNS = ("person", "date", "slot", "rotation", "locked")
REQUIRED = ("person", "date", "slot", "rotation")
ALIASES = {"person_id": "person", "rotation_id": "rotation"}
DEFAULT_SOURCE = "assignments"

_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LOCKED_WORDS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False, "": False}
_SHOWN_CHARACTERS = 60
_EXPECTED = "person, date, slot, rotation and optionally locked"


class AssignmentEntry(Frozen):
    """One row of an assignment file, checked for form; ``where`` is its line or JSON path."""

    person_id: str
    date: date
    # One of v1's three slots: the file format predates shift types of a program's own.
    slot: Slot
    rotation_id: str
    locked: bool = False
    where: str


# ---------------------------------------------------------------------------------------------
# Values


class _Bad(ValueError):
    """A value that is not what its field needs; the message is shown after the field's name."""


def _show(value: object) -> str:
    """A value quoted for a one-line message: control characters escaped, long text cut."""
    if isinstance(value, str) and len(value) > _SHOWN_CHARACTERS:
        return repr(value[:_SHOWN_CHARACTERS]) + f"... ({len(value)} characters)"
    return repr(value)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise _Bad(f"expected a string, found {_kind(value)}")
    return value


def _identifier(value: object) -> str:
    text = _text(value)
    if not text:
        raise _Bad("missing value")
    if not is_identifier(text):
        raise _Bad(f"{_show(text)} is not an id (1-{MAX_IDENTIFIER_LENGTH} letters, digits, '-', '_' or '.')")
    return text


def _date(value: object) -> date:
    text = _text(value)
    if not text:
        raise _Bad("missing value")
    if _ISO_DATE.fullmatch(text):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            pass
        else:
            # Near the ends of the calendar a CALL's end or a 28-day window is not a date at all.
            if not MIN_DATE <= day <= MAX_DATE:
                raise _Bad(f"{day} is outside {MIN_DATE}..{MAX_DATE}, the days a schedule can hold")
            return day
    raise _Bad(f"{_show(text)} is not a date (YYYY-MM-DD)")


def _slot(value: object) -> Slot:
    text = _text(value)
    if not text:
        raise _Bad("missing value")
    try:
        return Slot(text)
    except ValueError:
        raise _Bad(f"{_show(text)} is not a slot (AM, PM or CALL)") from None


def _locked_json(value: object) -> bool:
    if not isinstance(value, bool):
        raise _Bad(f"expected true or false, found {_kind(value)}")
    return value


def _locked_csv(value: object) -> bool:
    text = _text(value)
    try:
        return _LOCKED_WORDS[text.lower()]
    except KeyError:
        raise _Bad(f"{_show(text)} is not true/false (also 1/0, yes/no, or empty for false)") from None


_PARSERS: dict[str, Callable[[object], object]] = {
    "person": _identifier,
    "date": _date,
    "slot": _slot,
    "rotation": _identifier,
}


def _entry(
    given: Mapping[str, tuple[str, object]],
    *,
    where: str,
    report: Callable[[str, str], None],
    locked: Callable[[object], bool],
    missing_reported: Iterable[str] = REQUIRED,
) -> AssignmentEntry | None:
    """The entry from ``given`` (canonical column -> (name as written, value)), or None after
    reporting each bad field as ``report(name as written, message)``."""
    values: dict[str, object] = {}
    ok = True
    for column in REQUIRED:
        if column not in given:
            ok = False
            if column in missing_reported:
                report(column, "required field is missing")
            continue
        name, raw = given[column]
        try:
            values[column] = _PARSERS[column](raw)
        except _Bad as bad:
            ok = False
            report(name, str(bad))
    values["locked"] = False
    if "locked" in given:
        name, raw = given["locked"]
        try:
            values["locked"] = locked(raw)
        except _Bad as bad:
            ok = False
            report(name, str(bad))
    if not ok:
        return None
    return AssignmentEntry(
        person_id=values["person"],
        date=values["date"],
        slot=values["slot"],
        rotation_id=values["rotation"],
        locked=values["locked"],
        where=where,
    )


class _Duplicates:
    """At most one entry per person, day and slot; a second names the first."""

    def __init__(self) -> None:
        self._first: dict[tuple[str, date, str], str] = {}

    def check(self, entry: AssignmentEntry) -> Problem | None:
        key = (entry.person_id, entry.date, entry.slot)
        first = self._first.setdefault(key, entry.where)
        if first == entry.where:
            return None
        return Problem(
            entry.where,
            f"duplicates {first}: {entry.person_id} on {entry.date} {entry.slot.value} is given twice",
        )


def _too_many(count_text: str) -> str:
    return f"{count_text} assignments; at most {MAX_ROWS:,} in one file (split it)"


# ---------------------------------------------------------------------------------------------
# JSON rows


def _key_path(where: str, key: object) -> str:
    text = str(key)
    return f"{where}.{text}" if _PLAIN_KEY.fullmatch(text) else f"{where}[{_show(text)}]"


def _json_rows(rows: Sequence, where_prefix: str) -> tuple[list[AssignmentEntry], list[Problem]]:
    entries: list[AssignmentEntry] = []
    problems: list[Problem] = []
    duplicates = _Duplicates()
    for index, row in enumerate(rows):
        where = f"{where_prefix}[{index}]"
        if not isinstance(row, dict):
            problems.append(Problem(where, f"an assignment is a JSON object, found {_kind(row)}"))
            continue

        def report(key: str, message: str, where: str = where) -> None:
            problems.append(Problem(_key_path(where, key), message))

        for key in getattr(row, "repeated", ()):
            report(key, "given twice in one object")
        given: dict[str, tuple[str, object]] = {}
        for key, value in row.items():
            column = ALIASES.get(key, key) if isinstance(key, str) else None
            if column not in COLUMNS:
                report(key, f"unknown field (expected {_EXPECTED})")
            elif column in given:
                report(key, f"gives the {column} twice (also as {given[column][0]!r})")
            else:
                given[column] = (key, value)
        entry = _entry(given, where=where, report=report, locked=_locked_json)
        if entry is not None:
            entries.append(entry)
            if (duplicate := duplicates.check(entry)) is not None:
                problems.append(duplicate)
    return entries, problems


def parse_assignment_rows(
    rows: list[dict], *, where_prefix: str = "$", source: str = DEFAULT_SOURCE
) -> list[AssignmentEntry]:
    """Rows as JSON objects ``{"person", "date", "slot", "rotation", "locked"}`` (``person_id`` and
    ``rotation_id`` are accepted too) -> entries; raise InputError listing every problem."""
    if not isinstance(rows, (list, tuple)):
        raise InputError(source, [Problem(where_prefix, f"expected a list of assignments, found {_kind(rows)}")])
    if len(rows) > MAX_ROWS:
        raise InputError(source, [Problem(where_prefix, _too_many(f"{len(rows):,}"))])
    entries, problems = _json_rows(rows, where_prefix)
    if problems:
        raise InputError(source, problems)
    return entries


class _JsonObject(dict):
    """A JSON object that remembers keys written twice (``json`` keeps only the last)."""

    repeated: tuple[str, ...] = ()


def _json_object(pairs: list[tuple[str, object]]) -> _JsonObject:
    result = _JsonObject()
    repeated = []
    for key, value in pairs:
        if key in result:
            repeated.append(key)
        result[key] = value
    if repeated:
        result.repeated = tuple(repeated)
    return result


def _parse_json(text: str, source: str) -> list[AssignmentEntry]:
    try:
        raw = json.loads(text, object_pairs_hook=_json_object)
    except json.JSONDecodeError as exc:
        raise InputError(
            source, [Problem("$", f"not valid JSON: line {exc.lineno} column {exc.colno}: {exc.msg}")]
        ) from None
    except RecursionError:
        raise InputError(source, [Problem("$", "not valid JSON: nested too deeply")]) from None
    except ValueError as exc:  # e.g. an integer longer than Python converts
        raise InputError(source, [Problem("$", f"not valid JSON: {exc}")]) from None
    if isinstance(raw, list):
        return parse_assignment_rows(raw, where_prefix="$", source=source)
    if not isinstance(raw, dict):
        raise InputError(
            source, [Problem("$", f'expected a list of assignments or {{"assignments": [...]}}, found {_kind(raw)}')]
        )
    problems = [
        Problem(_key_path("$", key), 'unknown field (expected "assignments")') for key in raw if key != "assignments"
    ]
    # Every object json.loads builds here is a _JsonObject (the object_pairs_hook).
    problems += [Problem(_key_path("$", key), "given twice in one object") for key in cast(_JsonObject, raw).repeated]
    if "assignments" not in raw:
        problems.append(Problem("$.assignments", "required field is missing"))
        raise InputError(source, problems)
    rows = raw["assignments"]
    try:
        entries = parse_assignment_rows(rows, where_prefix="$.assignments", source=source)
    except InputError as error:
        raise InputError(source, problems + error.problems) from None
    if problems:
        raise InputError(source, problems)
    return entries


# ---------------------------------------------------------------------------------------------
# CSV


def _records(text: str) -> Iterable[tuple[int, list[str]]]:
    """(first physical line, cells) of every record; a quoted cell may span lines."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    previous = 0
    while True:
        line = previous + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _CsvBroken(line, str(exc)) from None
        previous = reader.line_num
        yield line, record


class _CsvBroken(Exception):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


def _header(cells: list[str], line: int) -> tuple[list[str | None], list[Problem]]:
    """The canonical column of each cell (None: ignored) and the header's problems."""
    names = [cell.strip().lower() for cell in cells]
    while names and not names[-1]:  # trailing separators some spreadsheets write
        names.pop()
    where = f"line {line}"
    if len(names) == 1 and any(mark in names[0] for mark in ";\t|"):
        return [], [Problem(where, f"the header {_show(cells[0])} is one column: separate the columns with commas")]
    columns: list[str | None] = []
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for number, name in enumerate(names, start=1):
        column = ALIASES.get(name, name)
        if not name:
            problems.append(Problem(where, f"column {number} has no name"))
        elif column not in COLUMNS:
            problems.append(Problem(where, f"unknown column {_show(name)} (expected {_EXPECTED})"))
        elif column in seen:
            problems.append(
                Problem(where, f"column {_show(name)} gives the {column} twice (also {_show(seen[column])})")
            )
        else:
            seen[column] = name
            columns.append(column)
            continue
        columns.append(None)
    problems += [Problem(where, f"missing column {_show(column)}") for column in REQUIRED if column not in seen]
    return columns, problems


def _parse_csv(text: str, source: str) -> list[AssignmentEntry]:
    entries: list[AssignmentEntry] = []
    problems: list[Problem] = []
    duplicates = _Duplicates()
    columns: list[str | None] | None = None
    names: dict[str, str] = {}
    rows = 0
    try:
        for line, cells in _records(text):
            if not any(cell.strip() for cell in cells):
                continue  # blank lines, and rows of empty cells a spreadsheet leaves behind
            if columns is None:
                columns, header_problems = _header(cells, line)
                problems += header_problems
                names = {column: cells[i].strip().lower() for i, column in enumerate(columns) if column}
                if not columns:
                    break
                continue
            rows += 1
            if rows > MAX_ROWS:
                raise InputError(source, [Problem(source, _too_many(f"more than {MAX_ROWS:,}"))])
            where = f"line {line}"

            def report(column: str, message: str, where: str = where, problems: list = problems) -> None:
                problems.append(Problem(where, f"{column}: {message}"))

            extra = [cell for cell in cells[len(columns) :] if cell.strip()]
            if extra:
                problems.append(Problem(where, f"{len(cells)} values, but the header has {len(columns)} columns"))
            given = {
                column: (names[column], cells[index].strip() if index < len(cells) else "")
                for index, column in enumerate(columns)
                if column is not None
            }
            entry = _entry(given, where=where, report=report, locked=_locked_csv, missing_reported=())
            if entry is not None and not extra:
                entries.append(entry)
                if (duplicate := duplicates.check(entry)) is not None:
                    problems.append(duplicate)
    except _CsvBroken as broken:
        problems.append(Problem(f"line {broken.line}", f"not valid CSV: {broken.reason}"))
    if columns is None:
        raise InputError(source, [Problem(source, "no header line: expected " + ",".join(COLUMNS))])
    if problems:
        raise InputError(source, problems)
    return entries


# ---------------------------------------------------------------------------------------------
# Files


def _too_large() -> str:
    mebibytes, rest = divmod(MAX_FILE_BYTES, 1024 * 1024)
    limit = f"{mebibytes} MiB" if mebibytes and not rest else f"{MAX_FILE_BYTES:,} bytes"
    return f"the file is larger than {limit}"


def _read_bytes(path: Path, source: str) -> bytes:
    def fail(message: str) -> InputError:
        return InputError(source, [Problem(source, message)])

    try:
        status = path.stat()
        if stat.S_ISDIR(status.st_mode):
            raise fail("is a directory, not a file")
        if not stat.S_ISREG(status.st_mode):
            raise fail("is not a regular file")
        if status.st_size > MAX_FILE_BYTES:
            raise fail(_too_large())
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise fail("no such file") from None
    except PermissionError:
        raise fail("permission denied") from None
    except OSError as exc:
        raise fail(f"cannot be read: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise fail(_too_large())
    return data


def _decode(data: bytes, source: str) -> str:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        byte = data[exc.start]
        raise InputError(
            source, [Problem(source, f"not UTF-8 text: byte 0x{byte:02x} on line {line} (save the file as UTF-8)")]
        ) from None


def read_assignment_file(path: Path) -> list[AssignmentEntry]:
    """Parse a ``.json`` (a list of objects, or ``{"assignments": [...]}``) or ``.csv`` (a header
    naming person, date, slot, rotation and optionally locked, in any order) assignment file;
    raise InputError listing every problem, each with its line or JSON path."""
    path = Path(path)
    source = str(path)
    kind = path.suffix.lower()
    if kind not in (".json", ".csv"):
        shown = _show(path.suffix) if path.suffix else "(none)"
        raise InputError(
            source, [Problem(source, f"unknown file type {shown}: an assignment file ends in .json or .csv")]
        )
    text = _decode(_read_bytes(path, source), source)
    if not text.strip():
        raise InputError(source, [Problem(source, "the file is empty")])
    entries = _parse_json(text, source) if kind == ".json" else _parse_csv(text, source)
    if not entries:
        raise InputError(source, [Problem(source, "the file holds no assignments")])
    return entries


# ---------------------------------------------------------------------------------------------
# Against the program

_ASSIGNMENT_PATH = re.compile(r"^\$\.assignments\[(\d+)\]")


def _eligibility(program: Program, assignments: list[Assignment]) -> dict[int, list[str]]:
    """The program import's own findings on assignments (role, PGY, credentials, days the
    rotation runs), by position in ``assignments``: one rule set for both ways in."""
    found: dict[int, list[str]] = defaultdict(list)
    warnings = duty_warnings(
        program.people, program.rotations, tuple(assignments), services_at="$.rotations", duties_at="$.assignments"
    )
    for warning in warnings:
        if (match := _ASSIGNMENT_PATH.match(warning.path)) is not None:
            found[int(match.group(1))].append(warning.message)
    return found


def check_against_program(entries: list[AssignmentEntry], program: Program) -> list[Problem]:
    """Every problem of the entries against the program, each at its entry's ``where``: unknown
    or inactive people, unknown rotations, absences, a slot or day the rotation does not run on,
    and the eligibility findings (role, PGY, credentials) the program import reports."""
    staff = {member.id for member in program.staff}
    absences: dict[str, list[Absence]] = defaultdict(list)
    for absence in program.absences:
        absences[absence.person_id].append(absence)
    found: list[list[Problem]] = [[] for _ in entries]
    known: list[Assignment] = []
    known_entry: list[int] = []
    for index, entry in enumerate(entries):
        here, where = found[index], entry.where
        person = program.people_by_id.get(entry.person_id)
        rotation = program.rotations_by_id.get(entry.rotation_id)
        if person is None:
            if entry.person_id in staff:
                here.append(Problem(where, f"{entry.person_id!r} is a staff member, not a scheduled person"))
            else:
                here.append(Problem(where, f"unknown person {_show(entry.person_id)}"))
        else:
            if not person.active:
                here.append(Problem(where, f"{person.id} is inactive"))
            for absence in absences.get(person.id, ()):
                if absence.covers(entry.date):
                    here.append(
                        Problem(
                            where,
                            f"{person.id} is absent on {entry.date} ({absence.kind}, {absence.start} to {absence.end})",
                        )
                    )
        if rotation is None:
            here.append(Problem(where, f"unknown rotation {_show(entry.rotation_id)}"))
        elif entry.slot not in rotation.slots:
            slots = ", ".join(rotation.slots)
            here.append(Problem(where, f"rotation {rotation.id!r} has no {entry.slot} slot (it has {slots})"))
        if person is not None and rotation is not None:
            known.append(Assignment(person_id=person.id, date=entry.date, slot=entry.slot, rotation_id=rotation.id))
            known_entry.append(index)
    for position, messages in _eligibility(program, known).items():
        index = known_entry[position]
        found[index] += [Problem(entries[index].where, message) for message in messages]
    return [problem for problems in found for problem in problems]


# ---------------------------------------------------------------------------------------------
# Conversions


def to_assignments(entries: list[AssignmentEntry]) -> list[Assignment]:
    """The entries as manual assignments, in file order, keeping ``locked``."""
    return [
        Assignment(
            person_id=entry.person_id,
            date=entry.date,
            slot=entry.slot,
            rotation_id=entry.rotation_id,
            source=AssignmentSource.MANUAL,
            locked=entry.locked,
        )
        for entry in entries
    ]


def entries_span(entries: Iterable[AssignmentEntry]) -> tuple[date, date]:
    """The first and last date the entries touch."""
    days = [entry.date for entry in entries]
    if not days:
        raise ValueError("no assignments, so no dates")
    return min(days), max(days)
