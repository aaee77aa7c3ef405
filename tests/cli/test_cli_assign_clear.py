"""`rotaguard assign` and `rotaguard clear`: with --yes, at a real terminal (a pseudo-terminal), and
refused where nobody could answer; on SQLite and PostgreSQL against a real Prefect API."""

from __future__ import annotations

import datetime as dt
import json
import os
import pty
import select
import subprocess
import sys
import time

import pytest

from dbstate import digest
from factories import dumps, program_document
from rotaguard.db import AssignmentRepository, AuditLog, Database

MARCH_11, MARCH_12, MARCH_13 = dt.date(2026, 3, 11), dt.date(2026, 3, 12), dt.date(2026, 3, 13)
ROWS_13 = [
    {"person": "R1-01", "date": "2026-03-13", "slot": "AM", "rotation": "WARDS"},
    {"person": "F-01", "date": "2026-03-13", "slot": "AM", "rotation": "WARDS", "locked": True},
]
TERMINAL_SECONDS = 180


@pytest.fixture
def program(cli, flow_env, tmp_path):
    path = tmp_path / "program.json"
    path.write_text(dumps(program_document()))
    assert cli("program", "import", str(path)).code == 0
    database = Database(flow_env)
    yield database
    database.dispose()


def _rows(database: Database, start: dt.date, end: dt.date) -> list[tuple]:
    with database.read() as session:
        return sorted(
            (a.person_id, str(a.date), a.slot, a.locked)
            for a in AssignmentRepository(session).schedule(start=start, end=end).assignments
        )


def _one_line(result) -> str:
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert lines and lines[0].startswith("rotaguard: error:") and "Traceback" not in result.err, result.err
    return lines[0]


def test_assign_with_yes_publishes_and_audits_the_invoking_user(cli, program, tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text(
        "person,date,slot,rotation,locked\n"
        + "".join(
            f"{r['person']},{r['date']},{r['slot']},{r['rotation']},{str(r.get('locked', False)).lower()}\n"
            for r in ROWS_13
        )
    )
    result = cli("assign", "--file", str(path), "--yes", "--json")
    assert result.code == 0, result.err
    outcome = json.loads(result.out)
    assert (outcome["ok"], outcome["status"], outcome["approved_by"]) == (True, "published", "A-01")
    assert outcome["counts"]["created"] == 2 and outcome["backup_id"]
    assert _rows(program, MARCH_13, MARCH_13) == [
        ("F-01", "2026-03-13", "AM", True),
        ("R1-01", "2026-03-13", "AM", False),
    ]
    with program.read() as session:
        actors = {(e.actor, e.action) for e in AuditLog(session).events()}
    assert {("A-01", "schedule.approval"), ("A-01", "schedule.bulk_assign")} <= actors


def test_assign_lists_every_bad_row_and_writes_nothing(cli, program, tmp_path):
    path = tmp_path / "rows.json"
    before = digest(program)
    path.write_text(json.dumps([ROWS_13[0], {**ROWS_13[1], "slot": "NOON"}, ROWS_13[0], ROWS_13[0]]))
    malformed = cli("assign", "--file", str(path), "--yes")
    assert malformed.code == 2 and _one_line(malformed) == f"rotaguard: error: {path}: 3 problems, nothing was written"
    assert "  $[1].slot: 'NOON' is not a slot (AM, PM or CALL)" in malformed.err.splitlines()
    assert "  $[2]: duplicates $[0]: R1-01 on 2026-03-13 AM is given twice" in malformed.err.splitlines()
    path.write_text(json.dumps([{**ROWS_13[0], "person": "NOBODY"}, {**ROWS_13[1], "rotation": "NOWHERE"}]))
    unknown = cli("assign", "--file", str(path), "--yes")
    assert unknown.code == 2 and _one_line(unknown) == f"rotaguard: error: {path}: 2 problems, nothing was written"
    assert "$[0]: unknown person 'NOBODY'" in unknown.err and "$[1]: unknown rotation 'NOWHERE'" in unknown.err
    assert digest(program) == before


def test_nobody_to_answer_is_refused_at_once(cli, program, tmp_path, monkeypatch):
    """No --yes, no terminal (pytest's stdin), no Prefect server: the pause could never be answered."""
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    path = tmp_path / "rows.json"
    path.write_text(json.dumps(ROWS_13))
    before = digest(program)
    assigned = cli("assign", "--file", str(path))
    cleared = cli("clear", "--start", "2026-03-11", "--end", "2026-03-12")
    for result, what in ((assigned, f"loading {path}"), (cleared, "clearing 2026-03-11..2026-03-12")):
        assert result.code == 1
        assert (
            _one_line(result)
            == f"rotaguard: error: {what} needs approval: rerun with --yes, at a terminal, or with PREFECT_API_URL set to a Prefect server whose UI can answer"
        )
    assert digest(program) == before


def test_clear_with_yes_needs_the_range_typed_exactly(cli, program):
    before = digest(program)
    missing = cli("clear", "--start", "2026-03-11", "--end", "2026-03-12", "--yes")
    assert missing.code == 2 and "--confirm 2026-03-11..2026-03-12" in _one_line(missing)
    wrong = cli("clear", "--start", "2026-03-11", "--end", "2026-03-12", "--yes", "--confirm", "2026-03-11..2026-03-13")
    assert wrong.code == 2 and "the range typed exactly: 2026-03-11..2026-03-12" in _one_line(wrong)
    backwards = cli(
        "clear", "--start", "2026-03-12", "--end", "2026-03-11", "--yes", "--confirm", "2026-03-12..2026-03-11"
    )
    assert backwards.code == 2
    assert digest(program) == before
    done = cli(
        "clear",
        "--start",
        "2026-03-11",
        "--end",
        "2026-03-12",
        "--yes",
        "--confirm",
        "2026-03-11..2026-03-12",
        "--json",
    )
    assert done.code == 0, done.err
    outcome = json.loads(done.out)
    assert (outcome["status"], outcome["counts"]["deleted"], outcome["counts"]["kept_locked"]) == ("cleared", 2, 1)
    assert _rows(program, MARCH_11, MARCH_12) == [("R2-01", "2026-03-11", "CALL", True)]


class Terminal:
    """`rotaguard` on a pseudo-terminal: what a coordinator types, and what the command shows."""

    def __init__(self, args: list[str], env: dict) -> None:
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "rotaguard", *args], stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True
        )
        os.close(slave)
        self.screen = ""

    def expect(self, text: str, seconds: float = TERMINAL_SECONDS) -> None:
        deadline = time.monotonic() + seconds
        while text not in self.screen:
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never shown; the terminal shows:\n{self.screen[-3000:]}")
            ready, _, _ = select.select([self.master], [], [], 0.5)
            if ready:
                try:
                    self.screen += os.read(self.master, 65536).decode(errors="replace")
                except OSError:  # the command ended and closed the terminal
                    if self.process.poll() is not None and text not in self.screen:
                        raise AssertionError(
                            f"{text!r} never shown before exit {self.process.returncode}:\n{self.screen[-3000:]}"
                        ) from None

    def type(self, line: str) -> None:
        os.write(self.master, (line + "\n").encode())

    def finish(self) -> int:
        code = self.process.wait(timeout=TERMINAL_SECONDS)
        try:
            while True:
                ready, _, _ = select.select([self.master], [], [], 0.2)
                if not ready:
                    break
                chunk = os.read(self.master, 65536)
                if not chunk:
                    break
                self.screen += chunk.decode(errors="replace")
        except OSError:
            pass
        os.close(self.master)
        return code


def _terminal_env(flow_env: str) -> dict:
    from prefect.settings import PREFECT_API_URL

    return {
        **os.environ,
        "PREFECT_API_URL": PREFECT_API_URL.value(),
        "ROTAGUARD_DATABASE_URL": flow_env,
        "ROTAGUARD_ACTOR": "C-01",
        "COLUMNS": "200",
    }


def test_at_a_terminal_assign_asks_and_a_no_writes_nothing_then_clear_wants_the_range(program, flow_env, tmp_path):
    env = _terminal_env(flow_env)
    path = tmp_path / "rows.json"
    path.write_text(json.dumps(ROWS_13))
    before = _rows(program, MARCH_13, MARCH_13)

    refused = Terminal(["assign", "--file", str(path)], env)
    refused.expect("Approve loading 2 assignments, 2026-03-13 .. 2026-03-13")
    refused.expect("Write the assignments of rows.json?")
    refused.type("n")
    assert refused.finish() == 1
    assert "not published: rejected: rejected by C-01" in refused.screen and "Traceback" not in refused.screen
    assert _rows(program, MARCH_13, MARCH_13) == before

    loaded = Terminal(["assign", "--file", str(path)], env)
    loaded.expect("Write the assignments of rows.json?")
    loaded.type("y")
    assert loaded.finish() == 0, loaded.screen
    assert "Assignments of rows.json published" in loaded.screen
    assert len(_rows(program, MARCH_13, MARCH_13)) == 2

    mistyped = Terminal(["clear", "--start", "2026-03-11", "--end", "2026-03-12"], env)
    mistyped.expect("CRITICAL: delete 2 assignments, 2026-03-11 .. 2026-03-12")
    mistyped.expect("| R1-01 | WARDS | 1 |")
    mistyped.expect("Delete these assignments of 2026-03-11..2026-03-12?")
    mistyped.type("y")
    mistyped.expect("Type the range to confirm (2026-03-11..2026-03-12)")
    mistyped.type("2026-03-11..2026-03-21")
    assert mistyped.finish() == 1
    assert "is not 2026-03-11..2026-03-12: nothing deleted" in mistyped.screen
    assert len(_rows(program, MARCH_11, MARCH_12)) == 3

    cleared = Terminal(["clear", "--start", "2026-03-11", "--end", "2026-03-12"], env)
    cleared.expect("Delete these assignments of 2026-03-11..2026-03-12?")
    cleared.type("y")
    cleared.expect("Type the range to confirm")
    cleared.type("2026-03-11..2026-03-12")
    assert cleared.finish() == 0, cleared.screen
    assert "Cleared 2 assignments of 2026-03-11..2026-03-12" in cleared.screen
    assert _rows(program, MARCH_11, MARCH_12) == [("R2-01", "2026-03-11", "CALL", True)]
    with program.read() as session:
        event = AuditLog(session).events(limit=1)[0]
    assert (event.action, event.actor, event.details["deleted"]) == ("schedule.clear", "C-01", 2)
