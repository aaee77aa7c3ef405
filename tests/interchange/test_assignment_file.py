"""Bulk assignment files: JSON and CSV parse alike, and every problem is named with its place."""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factories import absence, call_rotation, coordinator, program, resident, session_rotation
from rotaguard.domain import AssignmentSource, Credential, Slot, Weekday
from rotaguard.errors import InputError, Problem
from rotaguard.interchange import assignments as module
from rotaguard.interchange.assignments import (
    AssignmentEntry,
    check_against_program,
    entries_span,
    parse_assignment_rows,
    read_assignment_file,
    to_assignments,
)

ROWS = [
    {"person": "R1-01", "date": "2026-03-12", "slot": "AM", "rotation": "WARDS", "locked": False},
    {"person": "R2-01", "date": "2026-03-12", "slot": "CALL", "rotation": "NIGHT", "locked": True},
    {"person": "F-01", "date": "2026-03-13", "slot": "PM", "rotation": "WARDS"},
]
# The same rows: columns in another order, aliases for two of them, every spelling of locked.
CSV_TEXT = (
    "date,slot,rotation_id,person_id,locked\n"
    "2026-03-12,AM,WARDS,R1-01,no\n"
    "2026-03-12,CALL,NIGHT,R2-01,Yes\n"
    "2026-03-13,PM,WARDS,F-01,\n"
)
HEADER = "person,date,slot,rotation,locked\n"


def _write(tmp_path, name, content):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return path


def _problems(call) -> list[Problem]:
    with pytest.raises(InputError) as caught:
        call()
    return caught.value.problems


def _file_problems(tmp_path, name, content) -> list[Problem]:
    return _problems(lambda: read_assignment_file(_write(tmp_path, name, content)))


def _csv_problems(tmp_path, body: str, header: str = HEADER) -> list[Problem]:
    return _file_problems(tmp_path, "a.csv", header + body)


def _entry(
    person="R1-01", day=date(2026, 3, 12), slot=Slot.AM, rotation="WARDS", where="line 2", **more
) -> AssignmentEntry:
    return AssignmentEntry(person_id=person, date=day, slot=slot, rotation_id=rotation, where=where, **more)


def _without_where(entries):
    return [entry.model_dump(exclude={"where"}) for entry in entries]


# --- good files ---------------------------------------------------------------------------


def test_json_and_csv_parse_to_the_same_entries(tmp_path):
    from_list = read_assignment_file(_write(tmp_path, "a.json", json.dumps(ROWS)))
    from_object = read_assignment_file(_write(tmp_path, "b.JSON", json.dumps({"assignments": ROWS})))
    from_csv = read_assignment_file(_write(tmp_path, "c.csv", CSV_TEXT))

    assert _without_where(from_list) == _without_where(from_object) == _without_where(from_csv)
    assert from_list[1] == AssignmentEntry(
        person_id="R2-01", date=date(2026, 3, 12), slot=Slot.CALL, rotation_id="NIGHT", locked=True, where="$[1]"
    )
    assert [e.where for e in from_list] == ["$[0]", "$[1]", "$[2]"]
    assert [e.where for e in from_object] == ["$.assignments[0]", "$.assignments[1]", "$.assignments[2]"]
    assert [e.where for e in from_csv] == ["line 2", "line 3", "line 4"]
    assert [e.locked for e in from_csv] == [False, True, False]


def test_rows_as_the_ui_sends_them_and_with_id_aliases():
    aliased = [
        {"person_id": r["person"], "rotation_id": r["rotation"], **{k: r[k] for k in ("date", "slot")}} for r in ROWS
    ]
    assert _without_where(parse_assignment_rows(aliased)) == _without_where(
        parse_assignment_rows([{**r, "locked": False} for r in ROWS])
    )
    assert parse_assignment_rows(ROWS, where_prefix="$.items")[2].where == "$.items[2]"


@pytest.mark.parametrize("text", ["1", "0", "true", "FALSE", "yes", "No", ""])
def test_csv_locked_spellings(tmp_path, text):
    (entry,) = read_assignment_file(_write(tmp_path, "a.csv", f"{HEADER}R1-01,2026-03-12,AM,WARDS,{text}\n"))
    assert entry.locked is (text.lower() in {"1", "true", "yes"})


def test_csv_locked_column_is_optional(tmp_path):
    (entry,) = read_assignment_file(_write(tmp_path, "a.csv", "person,date,slot,rotation\nR1-01,2026-03-12,AM,WARDS\n"))
    assert entry.locked is False


def test_csv_with_bom_crlf_blank_lines_spaces_and_capitalised_header(tmp_path):
    content = "\ufeffPerson , Date,SLOT,Rotation,locked\r\n\r\n R1-01 ,2026-03-12, AM ,WARDS,true\r\n,,,,\r\nF-01,2026-03-12,PM,WARDS,\r\n"
    entries = read_assignment_file(_write(tmp_path, "a.csv", content.encode("utf-8")))
    assert [(e.person_id, e.slot, e.locked, e.where) for e in entries] == [
        ("R1-01", Slot.AM, True, "line 3"),
        ("F-01", Slot.PM, False, "line 5"),
    ]


def test_json_with_bom(tmp_path):
    entries = read_assignment_file(_write(tmp_path, "a.json", b"\xef\xbb\xbf" + json.dumps(ROWS).encode()))
    assert len(entries) == 3


def test_csv_lines_are_physical_lines_even_after_a_quoted_line_break(tmp_path):
    content = HEADER + '"R1-01",2026-03-12,AM,"WA\nRDS",\n' + "R1-01,2026-03-32,AM,WARDS,\n"
    problems = _file_problems(tmp_path, "a.csv", content)
    assert problems[0].path == "line 2" and problems[0].message.startswith("rotation: 'WA\\nRDS' is not an id")
    assert problems[1] == Problem("line 4", "date: '2026-03-32' is not a date (YYYY-MM-DD)")


# --- problems of form, with their places ----------------------------------------------------

CSV_ROW_PROBLEMS = {
    "impossible date": ("R1-01,2026-02-30,AM,WARDS,", "date: '2026-02-30' is not a date (YYYY-MM-DD)"),
    "date in another format": ("R1-01,12/03/2026,AM,WARDS,", "date: '12/03/2026' is not a date (YYYY-MM-DD)"),
    "compact ISO date": ("R1-01,20260312,AM,WARDS,", "date: '20260312' is not a date (YYYY-MM-DD)"),
    "bad slot": ("R1-01,2026-03-12,NOON,WARDS,", "slot: 'NOON' is not a slot (AM, PM or CALL)"),
    "lower-case slot": ("R1-01,2026-03-12,am,WARDS,", "slot: 'am' is not a slot (AM, PM or CALL)"),
    "bad locked": (
        "R1-01,2026-03-12,AM,WARDS,maybe",
        "locked: 'maybe' is not true/false (also 1/0, yes/no, or empty for false)",
    ),
    "empty person": (",2026-03-12,AM,WARDS,", "person: missing value"),
    "short row": ("R1-01,2026-03-12,AM", "rotation: missing value"),
    "id with a space": (
        "R1 01,2026-03-12,AM,WARDS,",
        "person: 'R1 01' is not an id (1-64 letters, digits, '-', '_' or '.')",
    ),
    "id too long": (
        "R" * 65 + ",2026-03-12,AM,WARDS,",
        "person: '" + "R" * 60 + "'... (65 characters) is not an id (1-64 letters, digits, '-', '_' or '.')",
    ),
    "too many values": ("R1-01,2026-03-12,AM,WARDS,,extra", "6 values, but the header has 5 columns"),
}


@pytest.mark.parametrize("case", CSV_ROW_PROBLEMS, ids=list(CSV_ROW_PROBLEMS))
def test_csv_row_problem_names_its_line_and_column(tmp_path, case):
    row, message = CSV_ROW_PROBLEMS[case]
    body = "F-01,2026-03-12,AM,WARDS,\n" + row + "\n"
    assert _csv_problems(tmp_path, body) == [Problem("line 3", message)]


CSV_HEADER_PROBLEMS = {
    "missing column": (
        "person,date,slot,locked\nR1-01,2026-03-12,AM,\n",
        [Problem("line 1", "missing column 'rotation'")],
    ),
    "unknown column": (
        "person,date,slot,rotation,room\n",
        [Problem("line 1", "unknown column 'room' (expected person, date, slot, rotation and optionally locked)")],
    ),
    "column twice": (
        "person,date,slot,rotation,person_id\n",
        [Problem("line 1", "column 'person_id' gives the person twice (also 'person')")],
    ),
    "unnamed column": (
        "person,,date,slot,rotation\nR1-01,,2026-03-12,AM,WARDS\n",
        [Problem("line 1", "column 2 has no name")],
    ),
    "semicolons": (
        "person;date;slot;rotation\n",
        [Problem("line 1", "the header 'person;date;slot;rotation' is one column: separate the columns with commas")],
    ),
}


@pytest.mark.parametrize("case", CSV_HEADER_PROBLEMS, ids=list(CSV_HEADER_PROBLEMS))
def test_csv_header_problems(tmp_path, case):
    content, expected = CSV_HEADER_PROBLEMS[case]
    if content.count("\n") == 1:
        content += "R1-01,2026-03-12,AM,WARDS,\n"
    assert _file_problems(tmp_path, "a.csv", content) == expected


def test_missing_column_is_reported_once_not_on_every_row(tmp_path):
    body = "R1-01,2026-03-12,AM\nR1-01,2026-03-40,PM\n"
    assert _csv_problems(tmp_path, body, header="person,date,slot\n") == [
        Problem("line 1", "missing column 'rotation'"),
        Problem("line 3", "date: '2026-03-40' is not a date (YYYY-MM-DD)"),
    ]


def test_csv_that_breaks_the_quoting_rules_names_its_line(tmp_path):
    problems = _csv_problems(tmp_path, 'R1-01,2026-03-12,AM,WARDS,\nR1-01,"2026-03-13"x,AM,WARDS,\n')
    assert len(problems) == 1 and problems[0].path == "line 3" and problems[0].message.startswith("not valid CSV: ")


def _row(**changes):
    return {**ROWS[0], **changes}


JSON_ROW_PROBLEMS = {
    "bad date": (_row(date="2026-02-30"), Problem("$[1].date", "'2026-02-30' is not a date (YYYY-MM-DD)")),
    "date as a number": (_row(date=20260312), Problem("$[1].date", "expected a string, found a number")),
    "bad slot": (_row(slot="EVENING"), Problem("$[1].slot", "'EVENING' is not a slot (AM, PM or CALL)")),
    "locked as a string": (_row(locked="yes"), Problem("$[1].locked", "expected true or false, found a string")),
    "person null": (_row(person=None), Problem("$[1].person", "expected a string, found null")),
    "unknown key": (
        _row(room="4B"),
        Problem("$[1].room", "unknown field (expected person, date, slot, rotation and optionally locked)"),
    ),
    "odd unknown key": (
        _row(**{"a b\n": 1}),
        Problem("$[1]['a b\\n']", "unknown field (expected person, date, slot, rotation and optionally locked)"),
    ),
    "missing key": (
        {k: v for k, v in ROWS[0].items() if k != "rotation"},
        Problem("$[1].rotation", "required field is missing"),
    ),
    "both a name and its alias": (
        _row(person_id="R1-01"),
        Problem("$[1].person_id", "gives the person twice (also as 'person')"),
    ),
    "not an object": (["R1-01", "2026-03-12"], Problem("$[1]", "an assignment is a JSON object, found a list")),
}


@pytest.mark.parametrize("case", JSON_ROW_PROBLEMS, ids=list(JSON_ROW_PROBLEMS))
def test_json_row_problem_names_its_path(tmp_path, case):
    row, expected = JSON_ROW_PROBLEMS[case]
    rows = [{**ROWS[2]}, row]
    assert _problems(lambda: parse_assignment_rows(rows)) == [expected]
    problems = _file_problems(tmp_path, "a.json", json.dumps({"assignments": rows}))
    assert problems == [Problem(expected.path.replace("$", "$.assignments", 1), expected.message)]


def test_json_key_written_twice_in_one_object(tmp_path):
    text = '[{"person": "R9-99", "person": "R1-01", "date": "2026-03-12", "slot": "AM", "rotation": "WARDS"}]'
    assert _file_problems(tmp_path, "a.json", text) == [Problem("$[0].person", "given twice in one object")]


def test_json_document_shape_problems(tmp_path):
    assert _file_problems(tmp_path, "a.json", '{"rows": []}') == [
        Problem("$.rows", 'unknown field (expected "assignments")'),
        Problem("$.assignments", "required field is missing"),
    ]
    assert _file_problems(tmp_path, "b.json", '"R1-01"') == [
        Problem("$", 'expected a list of assignments or {"assignments": [...]}, found a string')
    ]
    assert _file_problems(tmp_path, "c.json", '{"assignments": {"person": "R1-01"}}') == [
        Problem("$.assignments", "expected a list of assignments, found an object")
    ]


def test_malformed_json_names_line_and_column(tmp_path):
    problems = _file_problems(tmp_path, "a.json", '[\n  {"person": "R1-01",\n   "date": }\n]')
    assert problems == [Problem("$", "not valid JSON: line 3 column 12: Expecting value")]


def test_hostile_json_is_refused_not_crashed_on(tmp_path):
    deep = "[" * 100_000 + "]" * 100_000
    assert _file_problems(tmp_path, "a.json", deep)[0].message.startswith("not valid JSON")
    huge_number = '[{"person": ' + "9" * 5000 + "}]"
    assert _file_problems(tmp_path, "b.json", huge_number)[0].message.startswith("not valid JSON")


@pytest.mark.parametrize("kind", ["csv", "json"])
def test_duplicates_name_both_places(tmp_path, kind):
    if kind == "csv":
        body = "R1-01,2026-03-12,AM,WARDS,\nF-01,2026-03-12,AM,WARDS,\nR1-01,2026-03-12,AM,NIGHT,true\n"
        problems = _csv_problems(tmp_path, body)
        assert problems == [Problem("line 4", "duplicates line 2: R1-01 on 2026-03-12 AM is given twice")]
        assert (
            str(InputError("a.csv", problems))
            == "a.csv: line 4: duplicates line 2: R1-01 on 2026-03-12 AM is given twice"
        )
    else:
        rows = [ROWS[0], ROWS[1], {**ROWS[0], "rotation": "NIGHT"}]
        assert _problems(lambda: parse_assignment_rows(rows)) == [
            Problem("$[2]", "duplicates $[0]: R1-01 on 2026-03-12 AM is given twice")
        ]


def test_every_problem_is_listed_and_the_summary_counts_them(tmp_path):
    body = (
        "R1-01,2026-02-30,AM,WARDS,\n"  # line 2
        "R1-01,2026-03-12,XX,WARDS,perhaps\n"  # line 3: two problems
        "F-01,2026-03-12,AM,WARDS,\n"  # line 4
        "F-01,2026-03-12,AM,WARDS,\n"  # line 5: duplicate
    )
    path = _write(tmp_path, "block10.csv", HEADER + body)
    with pytest.raises(InputError) as caught:
        read_assignment_file(path)
    error = caught.value
    assert str(error) == f"{path}: 4 problems, nothing was written"
    assert error.exit_code == 2
    assert error.detail_lines == [
        "line 2: date: '2026-02-30' is not a date (YYYY-MM-DD)",
        "line 3: slot: 'XX' is not a slot (AM, PM or CALL)",
        "line 3: locked: 'perhaps' is not true/false (also 1/0, yes/no, or empty for false)",
        "line 5: duplicates line 4: F-01 on 2026-03-12 AM is given twice",
    ]


def test_parse_rows_error_names_its_source():
    with pytest.raises(InputError) as caught:
        parse_assignment_rows([_row(slot="X")], source="form")
    assert str(caught.value) == "form: $[0].slot: 'X' is not a slot (AM, PM or CALL)"
    with pytest.raises(InputError) as caught:
        parse_assignment_rows([_row(slot="X")])
    assert str(caught.value) == "assignments: $[0].slot: 'X' is not a slot (AM, PM or CALL)"


# --- problems of the file as a whole: one clear problem -------------------------------------


def _only_problem(tmp_path, name, content) -> str:
    path = _write(tmp_path, name, content)
    with pytest.raises(InputError) as caught:
        read_assignment_file(path)
    assert len(caught.value.problems) == 1
    return str(caught.value).removeprefix(f"{path}: ")


@pytest.mark.parametrize("name", ["a.csv", "a.json"])
@pytest.mark.parametrize("content", ["", "  \r\n\n"])
def test_empty_file(tmp_path, name, content):
    assert _only_problem(tmp_path, name, content) == "the file is empty"


def test_files_without_assignments(tmp_path):
    assert _only_problem(tmp_path, "a.csv", HEADER) == "the file holds no assignments"
    assert _only_problem(tmp_path, "a.json", "[]") == "the file holds no assignments"
    assert _only_problem(tmp_path, "b.json", '{"assignments": []}') == "the file holds no assignments"
    assert _only_problem(tmp_path, "b.csv", "\n,,,\n") == "no header line: expected person,date,slot,rotation,locked"


@pytest.mark.parametrize("name", ["a.csv", "a.json"])
def test_non_utf8_bytes(tmp_path, name):
    content = (HEADER + "R1-01,2026-03-12,AM,WARDS,\nM\xfcller,2026-03-12,AM,WARDS,\n").encode("latin-1")
    assert _only_problem(tmp_path, name, content) == "not UTF-8 text: byte 0xfc on line 3 (save the file as UTF-8)"


@pytest.mark.parametrize("name, shown", [("a.xlsx", "'.xlsx'"), ("a.txt", "'.txt'"), ("assignments", "(none)")])
def test_wrong_extension(tmp_path, name, shown):
    assert (
        _only_problem(tmp_path, name, CSV_TEXT)
        == f"unknown file type {shown}: an assignment file ends in .json or .csv"
    )


def test_unreadable_paths(tmp_path):
    with pytest.raises(InputError) as caught:
        read_assignment_file(tmp_path / "missing.csv")
    assert str(caught.value) == f"{tmp_path / 'missing.csv'}: no such file"
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(InputError) as caught:
        read_assignment_file(tmp_path / "dir.json")
    assert str(caught.value) == f"{tmp_path / 'dir.json'}: is a directory, not a file"


@pytest.mark.parametrize("kind", ["csv", "json", "rows"])
def test_too_many_rows(tmp_path, monkeypatch, kind):
    monkeypatch.setattr(module, "MAX_ROWS", 3)
    rows = [_row(date=f"2026-03-{day:02d}") for day in range(1, 5)]
    if kind == "rows":
        problems = _problems(lambda: parse_assignment_rows(rows))
        assert problems == [Problem("$", "4 assignments; at most 3 in one file (split it)")]
        return
    if kind == "csv":
        content = HEADER + "".join(f"R1-01,{r['date']},AM,WARDS,\n" for r in rows)
        message = "more than 3 assignments; at most 3 in one file (split it)"
    else:
        content = json.dumps(rows)
        message = "$: 4 assignments; at most 3 in one file (split it)"
    assert _only_problem(tmp_path, f"a.{kind}", content) == message
    # Exactly the limit is fine.
    at_limit = (
        HEADER + "".join(f"R1-01,{r['date']},AM,WARDS,\n" for r in rows[:3]) if kind == "csv" else json.dumps(rows[:3])
    )
    assert len(read_assignment_file(_write(tmp_path, f"b.{kind}", at_limit))) == 3


def test_oversized_file(tmp_path, monkeypatch):
    monkeypatch.setattr(module, "MAX_FILE_BYTES", 100)
    content = HEADER + "R1-01,2026-03-12,AM,WARDS,\n" * 5
    assert _only_problem(tmp_path, "a.csv", content) == "the file is larger than 100 bytes"
    monkeypatch.setattr(module, "MAX_FILE_BYTES", 20 * 1024 * 1024)
    big = _write(tmp_path, "big.json", b" " * (20 * 1024 * 1024 + 1))
    with pytest.raises(InputError) as caught:
        read_assignment_file(big)
    assert str(caught.value) == f"{big}: the file is larger than 20 MiB"


# --- checks against the program -------------------------------------------------------------

CLINIC = session_rotation("CLINIC", days=(Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI))


@pytest.fixture
def the_program():
    people = (
        resident(),
        resident("R2-01", pgy=2, credentials=()),
        resident("R3-01", pgy=3, active=False),
        *program().people[2:],
    )
    return program(
        people=people,
        rotations=(session_rotation(), call_rotation(), CLINIC),
        absences=(absence("R1-01", date(2026, 3, 15), date(2026, 3, 20), "vacation"),),
        staff=(coordinator(),),
    )


def test_clean_entries_have_no_problems():
    entries = parse_assignment_rows(ROWS)
    assert check_against_program(entries, program()) == []


PROGRAM_PROBLEMS = {
    "unknown person": (_entry(person="R9-99"), ["unknown person 'R9-99'"]),
    "staff member": (_entry(person="C-01"), ["'C-01' is a staff member, not a scheduled person"]),
    "unknown rotation": (_entry(rotation="ICU"), ["unknown rotation 'ICU'"]),
    "inactive person": (_entry(person="R3-01"), ["R3-01 is inactive"]),
    "absent": (_entry(day=date(2026, 3, 16)), ["R1-01 is absent on 2026-03-16 (vacation, 2026-03-15 to 2026-03-20)"]),
    "slot the rotation lacks": (_entry(slot=Slot.CALL), ["rotation 'WARDS' has no CALL slot (it has AM, PM)"]),
    # 2026-03-14 is a Saturday.
    "day the rotation does not run": (
        _entry(day=date(2026, 3, 14), rotation="CLINIC"),
        ["rotation 'CLINIC' does not run on sat 2026-03-14"],
    ),
    "PGY and credential": (
        _entry(slot=Slot.CALL, rotation="NIGHT"),
        [
            "R1-01 (PGY-1) is not eligible for 'NIGHT' (PGY 2, 3)",
            "R1-01 lacks ACLS (required by 'NIGHT') on 2026-03-12",
        ],
    ),
    "credential only": (
        _entry(person="R2-01", slot=Slot.CALL, rotation="NIGHT"),
        ["R2-01 lacks ACLS (required by 'NIGHT') on 2026-03-12"],
    ),
    "faculty on a residents-only rotation": (
        _entry(person="F-01", slot=Slot.CALL, rotation="NIGHT"),
        ["rotation 'NIGHT' takes no faculty", "F-01 lacks ACLS (required by 'NIGHT') on 2026-03-12"],
    ),
}


@pytest.mark.parametrize("case", PROGRAM_PROBLEMS, ids=list(PROGRAM_PROBLEMS))
def test_program_problem_at_the_entrys_place(the_program, case):
    entry, messages = PROGRAM_PROBLEMS[case]
    ok = _entry(person="F-01", where="line 2")
    wrong = entry.model_copy(update={"where": "line 3"})
    assert check_against_program([ok, wrong], the_program) == [Problem("line 3", message) for message in messages]


def test_every_program_problem_is_listed_in_file_order(tmp_path, the_program):
    body = (
        "R9-99,2026-03-12,AM,ICU,\n"  # line 2: unknown person and rotation
        "F-01,2026-03-12,AM,WARDS,\n"  # line 3: fine
        "R1-01,2026-03-15,CALL,NIGHT,\n"  # line 4: absent, PGY, credential
        "R3-01,2026-03-14,AM,CLINIC,\n"  # line 5: inactive, not on Saturdays
    )
    entries = read_assignment_file(_write(tmp_path, "a.csv", HEADER + body))
    assert check_against_program(entries, the_program) == [
        Problem("line 2", "unknown person 'R9-99'"),
        Problem("line 2", "unknown rotation 'ICU'"),
        Problem("line 4", "R1-01 is absent on 2026-03-15 (vacation, 2026-03-15 to 2026-03-20)"),
        Problem("line 4", "R1-01 (PGY-1) is not eligible for 'NIGHT' (PGY 2, 3)"),
        Problem("line 4", "R1-01 lacks ACLS (required by 'NIGHT') on 2026-03-15"),
        Problem("line 5", "R3-01 is inactive"),
        Problem("line 5", "rotation 'CLINIC' does not run on sat 2026-03-14"),
    ]


def test_json_entries_report_their_json_path(tmp_path, the_program):
    rows = [ROWS[0], {**ROWS[0], "person": "R9-99"}]
    entries = read_assignment_file(_write(tmp_path, "a.json", json.dumps({"assignments": rows})))
    assert check_against_program(entries, the_program) == [Problem("$.assignments[1]", "unknown person 'R9-99'")]


def test_an_expired_credential_counts_on_the_day(the_program):
    expiring = resident("R2-02", pgy=2, credentials=(Credential(name="ACLS", expires=date(2026, 3, 12)),))
    changed = the_program.model_copy(update={"people": (*the_program.people, expiring)})
    entries = [
        _entry(person="R2-02", slot=Slot.CALL, rotation="NIGHT", where="$[0]"),
        _entry(person="R2-02", day=date(2026, 3, 13), slot=Slot.CALL, rotation="NIGHT", where="$[1]"),
    ]
    assert check_against_program(entries, changed) == [
        Problem("$[1]", "R2-02 lacks ACLS (required by 'NIGHT') on 2026-03-13")
    ]


# --- hostile and unusual text is data --------------------------------------------------------

SQL = "R1-01'; DROP TABLE assignments;--"


def test_sql_and_unicode_in_a_file_are_reported_not_run(tmp_path, the_program):
    body = f'"{SQL}",2026-03-12,AM,WARDS,\nRésident-01,2026-03-12,AM,WARDS,\nR1-01,2026-03-12,AM,"WARDS\x00",\n'
    problems = _csv_problems(tmp_path, body)
    rule = "is not an id (1-64 letters, digits, '-', '_' or '.')"
    assert problems == [
        Problem("line 2", f"person: {SQL!r} {rule}"),
        Problem("line 3", f"person: 'Résident-01' {rule}"),
        Problem("line 4", f"rotation: 'WARDS\\x00' {rule}"),
    ]
    assert all("\n" not in str(problem) for problem in problems)


def test_sql_looking_and_unicode_ids_are_unknown_people(the_program):
    entries = [
        _entry(person=SQL, where="$[0]"),
        _entry(person="Robert.DROP_TABLE--", where="$[1]"),
        _entry(person="R1-01", rotation="病棟", where="$[2]"),
        _entry(person="R1-01\u202e", where="$[3]"),
    ]
    assert check_against_program(entries, the_program) == [
        Problem("$[0]", f"unknown person {SQL!r}"),
        Problem("$[1]", "unknown person 'Robert.DROP_TABLE--'"),
        Problem("$[2]", "unknown rotation '病棟'"),
        Problem("$[3]", "unknown person 'R1-01\\u202e'"),
    ]


def test_a_valid_looking_sql_id_goes_through_parsing_to_unknown_person(tmp_path, the_program):
    entries = read_assignment_file(_write(tmp_path, "a.csv", HEADER + "Robert.DROP_TABLE--,2026-03-12,AM,WARDS,\n"))
    assert check_against_program(entries, the_program) == [Problem("line 2", "unknown person 'Robert.DROP_TABLE--'")]


# --- conversions ------------------------------------------------------------------------------


def test_to_assignments_is_manual_and_keeps_locked():
    assignments = to_assignments(parse_assignment_rows(ROWS))
    assert [a.source for a in assignments] == [AssignmentSource.MANUAL] * 3
    assert [a.locked for a in assignments] == [False, True, False]
    assert assignments[1].key == ("R2-01", date(2026, 3, 12), Slot.CALL)
    assert assignments[1].rotation_id == "NIGHT"


def test_entries_span():
    entries = parse_assignment_rows([ROWS[2], ROWS[0], _row(date="2026-04-08", slot="PM")])
    assert entries_span(entries) == (date(2026, 3, 12), date(2026, 4, 8))
    assert entries_span(iter(entries[:1])) == (date(2026, 3, 13), date(2026, 3, 13))
    with pytest.raises(ValueError):
        entries_span([])


# --- anything at all: entries or an InputError, never a crash ---------------------------------

_CELLS = st.sampled_from(
    ["R1-01", "2026-03-12", "AM", "CALL", "WARDS", "true", "", '"', "\r", "\n", ",", "é", "\x00", "'--"]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.lists(st.lists(_CELLS, max_size=7), max_size=6), binary=st.binary(max_size=40))
def test_any_input_gives_entries_or_an_input_error(tmp_path, body, binary):
    texts = {
        "a.csv": (HEADER + "\n".join(",".join(cells) for cells in body)).encode(),
        "b.csv": binary,
        "c.json": binary,
        "d.json": json.dumps(
            [dict(zip(["person", "date", "slot", "rotation", "locked"], cells, strict=False)) for cells in body]
        ).encode(),
    }
    for name, content in texts.items():
        try:
            entries = read_assignment_file(_write(tmp_path, name, content))
        except InputError as error:
            assert error.problems and all("\n" not in str(problem) for problem in error.problems)
        else:
            assert entries and check_against_program(entries, program()) is not None
