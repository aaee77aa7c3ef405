"""`rotaguard export` for people (ics, xlsx): --json reports, one-line errors, nothing written on failure."""

from __future__ import annotations

import json
import os
import stat
from datetime import date
from pathlib import Path

import pytest

from factories import dumps, program_document

START, END = "2026-03-01", "2026-03-14"


@pytest.fixture
def work(cli, tmp_path) -> Path:
    """An imported program, and a directory holding a file and a directory for --out to trip on."""
    document = tmp_path / "program.json"
    document.write_text(dumps(program_document()))
    assert cli("program", "import", str(document)).code == 0
    work = tmp_path / "work"
    (work / "a-directory").mkdir(parents=True)
    (work / "a-file.txt").write_text("keep me\n")
    return work


def snapshot(root: Path) -> dict[str, bytes | None]:
    return {
        str(path.relative_to(root)): path.read_bytes() if path.is_file() else None for path in sorted(root.rglob("*"))
    }


def assignment_count(cli) -> int:
    return len(json.loads(cli("export", "--start", START, "--end", END, "--format", "json").out)["assignments"])


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["--start", "2026-02-30", "--format", "ics", "--out", "{work}/calendars"],
            "--start: '2026-02-30' is not a date (YYYY-MM-DD)",
        ),
        (
            ["--end", "2026-02-01", "--format", "xlsx", "--out", "{work}/s.xlsx"],
            "--end: 2026-02-01 is before --start 2026-03-01",
        ),
        (
            ["--format", "pdf", "--out", "{work}/s.pdf"],
            "Invalid value for '--format': 'pdf' is not one of 'json', 'csv', 'ics', 'xlsx'.",
        ),
        (["--format", "xlsx"], "--out: --format xlsx writes a binary workbook: give --out FILE.xlsx"),
        (["--format", "ics", "--out", "{work}/a-file.txt"], "--out: {work}/a-file.txt is a file: --format ics writes"),
        (
            ["--format", "ics", "--out", "{work}/calendar.ics"],
            "--out: {work}/calendar.ics names a file: --format ics writes a directory",
        ),
        (
            ["--format", "ics", "--out", "{work}/a-file.txt/calendars"],
            "--out: cannot write {work}/a-file.txt/calendars: {work}/a-file.txt is not a directory",
        ),
        (
            ["--format", "xlsx", "--out", "{work}/a-directory"],
            "--out: {work}/a-directory is a directory: give a file name",
        ),
        (
            ["--format", "xlsx", "--out", "{work}/a-file.txt/sub/s.xlsx"],
            "--out: cannot write {work}/a-file.txt/sub/s.xlsx: {work}/a-file.txt is not a directory",
        ),
        (
            ["--format", "csv", "--out", "{work}/a-file.txt/s.csv"],
            "--out: cannot write {work}/a-file.txt/s.csv: {work}/a-file.txt is not a directory",
        ),
    ],
    ids=[
        "bad-date",
        "reversed-range",
        "unknown-format",
        "xlsx-without-out",
        "ics-out-is-a-file",
        "ics-out-names-a-file",
        "ics-out-under-a-file",
        "xlsx-out-is-a-directory",
        "xlsx-out-under-a-file",
        "csv-out-under-a-file",
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(cli, work, arguments, message):
    arguments = [argument.format(work=work) for argument in arguments]
    if "--start" not in arguments:
        arguments = ["--start", START, *arguments]
    if "--end" not in arguments:
        arguments = ["--end", END, *arguments]
    before = snapshot(work)
    result = cli("export", *arguments)
    assert result.code == 2
    assert result.err.startswith(f"rotaguard: error: {message.format(work=work)}")
    assert result.err.count("\n") == 1 and "Traceback" not in result.err
    assert result.out == ""
    assert snapshot(work) == before


def test_bad_input_with_json_reports_the_error_as_json(cli, work):
    result = cli("export", "--start", START, "--end", END, "--format", "xlsx", "--json")
    assert result.code == 2 and result.err.count("\n") == 1
    payload = json.loads(result.out)
    assert payload["ok"] is False and payload["problems"] == [
        {"path": "--out", "message": "--format xlsx writes a binary workbook: give --out FILE.xlsx"}
    ]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through directory permissions")
def test_an_unwritable_directory_is_refused_before_anything_is_written(cli, work):
    locked = work / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        before = snapshot(work)
        result = cli("export", "--start", START, "--end", END, "--format", "ics", "--out", str(locked / "calendars"))
        assert result.code == 2 and f"{locked} is not writable" in result.err and result.err.count("\n") == 1
        assert snapshot(work) == before
    finally:
        locked.chmod(0o700)


def test_ics_json_report_names_every_file_written(cli, work):
    out = work / "calendars"
    result = cli("export", "--start", START, "--end", END, "--format", "ics", "--out", str(out), "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    written = sorted(str(path) for path in out.iterdir())
    assert sorted(report["paths"]) == written
    assert report["ok"] is True and report["format"] == "ics" and report["path"] == str(out)
    assert report["calendars"] == len(written) and report["people"] == len(written) - 1
    assert report["events"] == report["assignments"] == assignment_count(cli)
    assert str(out / "program.ics") in report["paths"]


def test_xlsx_json_report(cli, work):
    out = work / "nested" / "schedule.xlsx"
    result = cli("export", "--start", START, "--end", END, "--format", "xlsx", "--out", str(out), "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["paths"] == [str(out)] and out.read_bytes().startswith(b"PK")
    assert report["assignments"] == assignment_count(cli)
    days = (date.fromisoformat(END) - date.fromisoformat(START)).days + 1
    assert report["days"] == days and report["people"] == len(program_document()["people"])
    assert [path.name for path in out.parent.iterdir()] == [out.name]  # no temporary file left behind


def test_a_failed_write_replaces_no_calendar_and_leaves_no_temporary_file(cli, work):
    out = work / "calendars"
    out.mkdir()
    (out / "program.ics").write_text("the previous export\n")
    (out / "F-01.ics").mkdir()  # a directory where a calendar must go: that write fails
    result = cli("export", "--start", START, "--end", END, "--format", "ics", "--out", str(out))
    assert result.code == 1 and result.err.count("\n") == 1
    assert result.err.startswith(f"rotaguard: error: cannot write {out / 'F-01.ics'}")
    assert (out / "program.ics").read_text() == "the previous export\n"
    assert sorted(path.name for path in out.iterdir()) == ["F-01.ics", "program.ics"]


def test_a_second_export_replaces_the_calendars(cli, work):
    out = work / "calendars"
    assert cli("export", "--start", START, "--end", START, "--format", "ics", "--out", str(out)).code == 0
    first = (out / "program.ics").read_bytes()
    assert cli("export", "--start", START, "--end", END, "--format", "ics", "--out", str(out)).code == 0
    second = (out / "program.ics").read_bytes()
    assert second.count(b"BEGIN:VEVENT") == assignment_count(cli) > first.count(b"BEGIN:VEVENT")
    assert not [path for path in out.iterdir() if path.name.endswith(".partial")]


@pytest.mark.parametrize("kind", ["symlink", "fifo", "device"])
@pytest.mark.parametrize("command", ["export", "program export"])
def test_out_naming_anything_but_a_regular_file_or_a_new_path_is_refused_and_left_as_it_was(cli, work, kind, command):
    """A rename over a device node, a FIFO or a symlink would replace it (issue 26, item 5)."""
    if kind == "symlink":
        target = work / "a-file.txt"
        out = work / "link.json"
        out.symlink_to(target)
        expected = "is a symbolic link"
    elif kind == "fifo":
        out = work / "pipe"
        os.mkfifo(out)
        expected = "is a pipe or socket"
    else:
        out = Path("/dev/null")
        expected = "is a device"
    arguments = ["--out", str(out)]
    if command == "export":
        arguments = ["export", "--start", START, "--end", END, "--format", "json", *arguments]
    else:
        arguments = ["program", "export", *arguments]
    before = snapshot(work)
    result = cli(*arguments)
    assert result.code == 2, result.err
    assert result.err.startswith(f"rotaguard: error: --out: {out} {expected}") and result.err.count("\n") == 1
    assert snapshot(work) == before
    if kind == "symlink":
        assert out.is_symlink() and (work / "a-file.txt").read_text() == "keep me\n"
    elif kind == "fifo":
        assert stat.S_ISFIFO(out.lstat().st_mode)
    else:
        assert stat.S_ISCHR(Path("/dev/null").lstat().st_mode)


def test_a_regular_file_is_still_replaced(cli, work):
    out = work / "a-file.txt"
    assert cli("export", "--start", START, "--end", END, "--format", "json", "--out", str(out)).code == 0
    assert json.loads(out.read_text())["assignments"]
