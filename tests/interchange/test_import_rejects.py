"""Import rejects bad input with the JSON path of every problem, and writes nothing."""

import json

import pytest

from dbstate import digest
from factories import dumps, program_document
from rotaguard.db import Database


def _set(path, value):
    def mutate(doc):
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return doc

    return mutate


def _append(path, value):
    def mutate(doc):
        target = doc
        for key in path:
            target = target[key]
        target.append(value)
        return doc

    return mutate


BAD_INPUTS = {
    "unknown top-level field": (_set(["peeple"], []), "$.peeple", "unknown field"),
    "wrong format": (
        _set(["format"], "rotaguard-program/3"),
        "$.format",
        "expected 'rotaguard-program/1' or 'rotaguard-program/2', found 'rotaguard-program/3'",
    ),
    "unknown person in an absence": (
        _set(["absences", 0, "person_id"], "R9-99"),
        "$.absences[0].person_id",
        "unknown person 'R9-99'",
    ),
    "absence ends before it starts": (
        _set(["absences", 0, "end"], "2026-03-01"),
        "$.absences[0].end",
        "is before start",
    ),
    "duplicate person id": (
        _set(["people", 2, "id"], "R1-01"),
        "$.people[2].id",
        "duplicate id 'R1-01' (first at $.people[0])",
    ),
    "duplicate rotation id": (_set(["rotations", 1, "id"], "WARDS"), "$.rotations[1].id", "duplicate id 'WARDS'"),
    "PGY out of range": (_set(["people", 0, "pgy"], 9), "$.people[0].pgy", "less than or equal to 8"),
    "PGY given as text": (_set(["people", 0, "pgy"], "1"), "$.people[0].pgy", "valid integer"),
    "faculty with a PGY": (_set(["people", 2, "pgy"], 2), "$.people[2].pgy", "faculty have no PGY level"),
    "resident without a PGY": (
        lambda d: (d["people"][0].pop("pgy"), d)[1],
        "$.people[0].pgy",
        "resident needs a PGY level",
    ),
    "unknown role": (_set(["people", 0, "role"], "attending"), "$.people[0].role", "'resident' or 'faculty'"),
    "overlapping assignment": (
        _append(["assignments"], {"person_id": "R1-01", "date": "2026-03-12", "slot": "AM", "rotation_id": "WARDS"}),
        "$.assignments[3]",
        "already has an assignment on 2026-03-12 AM (at $.assignments[1])",
    ),
    "unknown rotation in an assignment": (
        _set(["assignments", 1, "rotation_id"], "ICU"),
        "$.assignments[1].rotation_id",
        "unknown rotation 'ICU'",
    ),
    "unknown person in an assignment": (
        _set(["assignments", 1, "person_id"], "X"),
        "$.assignments[1].person_id",
        "unknown person 'X'",
    ),
    "assignment on a slot the rotation lacks": (
        _set(["assignments", 1, "slot"], "CALL"),
        "$.assignments[1].slot",
        "has no CALL slot",
    ),
    "assignment during an absence": (
        _set(["assignments", 1, "date"], "2026-03-16"),
        "$.assignments[1].date",
        "is absent on 2026-03-16",
    ),
    "unknown rule": (_set(["rules", "max_hours"], 70), "$.rules.max_hours", "unknown field"),
    "rule out of range": (
        _set(["rules", "max_hours_per_week"], 100),
        "$.rules.max_hours_per_week",
        "less than or equal to 88",
    ),
    "unknown time zone": (
        _set(["program", "timezone"], "Mars/Olympus"),
        "$.program.timezone",
        "unknown IANA time zone",
    ),
    "bad slot start time": (
        _set(["program", "slots", "AM", "start"], "7am"),
        "$.program.slots.AM.start",
        "a time is HH:MM",
    ),
    "staffing min above max": (
        _set(["rotations", 0, "residents", "min"], 9),
        "$.rotations[0].residents",
        "min (9) is above max (4)",
    ),
    "call rotation on a session slot": (_set(["rotations", 1, "slots"], ["AM"]), "$.rotations[1]", "CALL slot only"),
    "unknown weekday": (_set(["rotations", 0, "days"], ["monday"]), "$.rotations[0].days[0]", "'mon'"),
    "date that is a number": (_set(["absences", 0, "start"], 20260315), "$.absences[0].start", "valid date"),
    "id with a space": (_set(["people", 0, "id"], "R1 01"), "$.people[0].id", "an id is letters, digits"),
    "control character in a name": (
        _set(["people", 0, "name"], "Bad\u0007Name"),
        "$.people[0].name",
        "may hold no control characters",
    ),
    "not an object": (lambda d: [d], "$", "a program document is a JSON object"),
}


@pytest.fixture
def seeded(cli, tmp_path):
    """A database that already holds a program, so 'unchanged' is a real claim."""
    base = tmp_path / "base.json"
    base.write_text(dumps(program_document()))
    assert cli("program", "import", str(base)).code == 0
    return base


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_refused_with_its_path_and_nothing_changes(case, seeded, cli, database_url, tmp_path):
    mutate, path, fragment = BAD_INPUTS[case]
    bad = tmp_path / "bad.json"
    document = program_document()
    # Make the bad document differ from what is stored in a valid way too: a rejected import
    # must not write even the parts that were fine.
    document["people"][1]["name"] = "Renamed Resident"
    bad.write_text(json.dumps(mutate(document)))
    database = Database(database_url)
    before = digest(database)
    result = cli("program", "import", str(bad))
    after = digest(database)
    database.dispose()
    assert result.code == 2
    assert f"{path}: " in result.err and fragment in result.err, result.err
    assert result.err.startswith("rotaguard: error: ")
    assert "Traceback" not in result.err
    assert before == after


def test_every_problem_is_listed_at_once(seeded, cli, tmp_path):
    document = program_document()
    document["people"][0]["pgy"] = 12
    document["people"][2]["pgy"] = 3
    document["rules"]["bogus"] = 1
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document))
    result = cli("program", "import", str(bad))
    assert result.code == 2
    assert "3 problems, nothing was written" in result.err.splitlines()[0]
    assert {"$.people[0].pgy", "$.people[2].pgy", "$.rules.bogus"} <= {
        line.strip().split(":")[0] for line in result.err.splitlines()[1:]
    }


def test_cross_reference_problems_are_all_listed(seeded, cli, tmp_path):
    document = program_document()
    document["absences"][0]["person_id"] = "GHOST"
    document["assignments"][1]["rotation_id"] = "ICU"
    document["rotations"][1]["id"] = "WARDS"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document))
    result = cli("program", "import", str(bad), "--json")
    assert result.code == 2
    paths = {problem["path"] for problem in json.loads(result.out)["problems"]}
    assert paths == {
        "$.absences[0].person_id",
        "$.assignments[1].rotation_id",
        "$.rotations[1].id",
        "$.assignments[0].rotation_id",
    }


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b'{"format": "rotaguard-program/1", "program": {', "not valid JSON: line 1 column"),
        (b"\xff\xfe\x00garbage", "not valid JSON"),
        (b"", "not valid JSON"),
    ],
)
def test_unreadable_json_is_refused(seeded, cli, tmp_path, content, fragment):
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    result = cli("program", "import", str(bad))
    assert result.code == 2 and fragment in result.err and "Traceback" not in result.err


def test_missing_file_is_refused(cli, tmp_path):
    result = cli("program", "import", str(tmp_path / "nope.json"))
    assert result.code == 2 and "nope.json: no such file" in result.err


def test_eligibility_findings_are_warnings_not_errors(cli, tmp_path):
    document = program_document()
    document["assignments"][0]["person_id"] = "R1-01"  # a PGY-1 on the PGY-2/3 call, without ACLS
    path = tmp_path / "warn.json"
    path.write_text(json.dumps(document))
    result = cli("program", "import", str(path))
    assert result.code == 0
    assert "warning: $.assignments[0].person_id: R1-01 (PGY-1) is not eligible for 'NIGHT' (PGY 2, 3)" in result.err
    assert "R1-01 lacks ACLS (required by 'NIGHT') on 2026-03-11" in result.err
