"""Hostile and malformed program documents through `rotaguard program import`, on SQLite and PostgreSQL.

Every document either imports (and then exports back exactly) or is refused with one
`rotaguard: error:` line, exit 1 or 2, no traceback, and the database exactly as before.
Each test creates its database once; examples run one after another in it, each compared
with the state it started from.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import (
    CHAOS,
    blank_looking_text,
    encode,
    fuzz_settings,
    mutated_documents,
    text_with_a_control_character,
    valid_documents,
)

from dbstate import digest, table_rows
from factories import dumps, program_document
from rotaguard.db import Database
from rotaguard.domain.base import MAX_IDENTIFIER_LENGTH, MAX_NAME_LENGTH
from rotaguard.domain.people import MAX_CREDENTIALS
from rotaguard.interchange.document import (
    MAX_ABSENCES,
    MAX_ASSIGNMENTS,
    MAX_DOCUMENT_BYTES,
    MAX_PEOPLE,
    MAX_ROTATIONS,
    MAX_STAFF,
    parse_document,
)

ERROR = "rotaguard: error: "


def assert_refused_in_one_line(result, *, codes=(1, 2)) -> None:
    """Exit 1 or 2, the first stderr line is the one error line, and no traceback anywhere."""
    assert result.code in codes, (result.code, result.err)
    assert result.err.startswith(ERROR), result.err
    assert "Traceback" not in result.err + result.out
    assert result.err.count(ERROR) == 1, result.err
    assert "internal error" not in result.err


@pytest.fixture
def store(database_url):
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def imported_base(cli, tmp_path):
    """The factories' document, imported once: the known state every example starts from."""
    path = tmp_path / "base.json"
    path.write_text(dumps(program_document()))
    result = cli("program", "import", str(path))
    assert result.code == 0, result.err
    return path


def _by(items, key):
    return {key(item): item for item in items}


def assert_exports_what_was_imported(
    cli, store, imported_bytes: bytes, out: Path, *, import_again: bool = True
) -> None:
    """`program export` holds every value the document held, and importing it again changes nothing."""
    imported = parse_document(imported_bytes)
    result = cli("program", "export", "--out", str(out))
    assert result.code == 0, result.err
    exported = parse_document(out.read_bytes(), source=str(out))
    # The export is rotaguard-program/2: compare what both documents mean, the domain's values.
    before, after = imported.to_program(), exported.to_program()
    assert (after.name, after.timezone, after.block_anchor) == (before.name, before.timezone, before.block_anchor)
    assert after.shifts == before.shifts
    assert exported.rule_overrides() == imported.rule_overrides()
    for group in ("people", "rotations", "staff"):
        stored = _by(getattr(after, group), lambda item: item.id)
        for item in getattr(before, group):
            assert stored[item.id] == item, group
    stored_assignments = _by(exported.to_schedule().assignments, lambda a: a.key)
    assert all(stored_assignments[a.key] == a for a in imported.to_schedule().assignments)
    assert set(before.absences) <= set(after.absences)
    if not import_again:  # each import after the first takes a verified backup: seconds on PostgreSQL
        return
    audit_before = table_rows(store)["audit_events"]
    again = cli("program", "import", str(out), "--json")
    assert again.code == 0, again.err
    counts = json.loads(again.out)["changes"]
    assert all(count["created"] == count["updated"] == 0 for count in counts.values()), counts
    assert table_rows(store)["audit_events"] == audit_before


@fuzz_settings(quick=20, chaos=600)
@given(document=mutated_documents())
def test_a_mutated_document_imports_and_round_trips_or_is_refused_without_a_change(
    document, cli, store, imported_base, tmp_path
):
    path = tmp_path / "mutated.json"
    data = encode(document)
    path.write_bytes(data)
    before = digest(store)
    result = cli("program", "import", str(path))
    if result.code == 0:
        assert_exports_what_was_imported(cli, store, data, tmp_path / "export.json")
    else:
        assert_refused_in_one_line(result)
        assert digest(store) == before


_prefixes = (f"P{n}-" for n in itertools.count())


@fuzz_settings(quick=3, chaos=200)
@given(data=st.data())
def test_unicode_sql_looking_and_far_dated_documents_import_and_export_exactly(data, cli, store, tmp_path):
    document = data.draw(valid_documents(next(_prefixes)))
    path = tmp_path / "valid.json"
    path.write_bytes(encode(document))
    result = cli("program", "import", str(path))
    assert result.code == 0, result.err
    assert_exports_what_was_imported(cli, store, path.read_bytes(), tmp_path / "export.json", import_again=False)


@fuzz_settings(quick=15, chaos=400)
@given(
    name=st.one_of(text_with_a_control_character(), blank_looking_text()),
    where=st.sampled_from(["people", "rotations", "staff", "program"]),
)
def test_a_name_with_a_control_character_or_nothing_visible_is_refused_by_path(name, where, cli, store, tmp_path):
    # Decided: names are stored exactly as given, but a control character (NUL breaks PostgreSQL
    # text; the others break one-line output) or a name that prints as nothing is refused.
    document = program_document()
    target = document["program"] if where == "program" else document[where][0]
    target["name"] = name
    path = tmp_path / "name.json"
    path.write_bytes(encode(document))
    before = digest(store)
    result = cli("program", "import", str(path))
    assert_refused_in_one_line(result, codes=(2,))
    expected_path = "$.program.name" if where == "program" else f"$.{where}[0].name"
    assert expected_path in result.err
    assert digest(store) == before


def _people(count: int) -> list[dict]:
    return [{"id": f"R-{n}", "name": f"Resident {n}", "role": "resident", "pgy": 1 + n % 3} for n in range(count)]


def _rotations(count: int) -> list[dict]:
    return [{"id": f"ROT-{n}", "name": f"Rotation {n}", "kind": "session", "slots": ["AM"]} for n in range(count)]


def _staff(count: int) -> list[dict]:
    return [{"id": f"S-{n}", "name": f"Staff {n}", "role": "coordinator"} for n in range(count)]


def _assignments(count: int) -> list[dict]:
    return [{"person_id": "R1-01", "date": "2026-03-12", "slot": "AM", "rotation_id": "WARDS"}] * count


def _absences(count: int) -> list[dict]:
    return [{"person_id": "R1-01", "start": "2026-03-15", "end": "2026-03-20"}] * count


def _set(path: list, value):
    def mutate(document: dict) -> None:
        target = document
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return mutate


LIMITS = {
    "people": (_set(["people"], _people(MAX_PEOPLE + 1)), "$.people", f"at most {MAX_PEOPLE}"),
    "rotations": (_set(["rotations"], _rotations(MAX_ROTATIONS + 1)), "$.rotations", f"at most {MAX_ROTATIONS}"),
    "staff": (_set(["staff"], _staff(MAX_STAFF + 1)), "$.staff", f"at most {MAX_STAFF}"),
    "credentials": (
        _set(["people", 0, "credentials"], [{"name": f"C{n}"} for n in range(MAX_CREDENTIALS + 1)]),
        "$.people[0].credentials",
        f"at most {MAX_CREDENTIALS}",
    ),
    "name length": (
        _set(["people", 0, "name"], "N" * (MAX_NAME_LENGTH + 1)),
        "$.people[0].name",
        f"at most {MAX_NAME_LENGTH}",
    ),
    "id length": (
        _set(["rotations", 0, "id"], "R" * (MAX_IDENTIFIER_LENGTH + 1)),
        "$.rotations[0].id",
        f"at most {MAX_IDENTIFIER_LENGTH}",
    ),
    "date before the horizon": (_set(["absences", 0, "start"], "1899-12-31"), "$.absences[0].start", "1900-01-01"),
    "date after the horizon": (_set(["assignments", 0, "date"], "2200-01-01"), "$.assignments[0].date", "2199-12-31"),
    "block anchor in year 1": (_set(["program", "block_anchor"], "0001-01-01"), "$.program.block_anchor", "1900-01-01"),
}
if CHAOS:  # documents of tens of megabytes: only in the long run
    LIMITS["assignments"] = (
        _set(["assignments"], _assignments(MAX_ASSIGNMENTS + 1)),
        "$.assignments",
        f"at most {MAX_ASSIGNMENTS}",
    )
    LIMITS["absences"] = (_set(["absences"], _absences(MAX_ABSENCES + 1)), "$.absences", f"at most {MAX_ABSENCES}")


@pytest.mark.parametrize("mutate, path, limit", LIMITS.values(), ids=LIMITS.keys())
def test_a_document_over_a_limit_is_refused_naming_the_limit_and_its_path(mutate, path, limit, cli, store, tmp_path):
    document = program_document()
    mutate(document)
    file = tmp_path / "big.json"
    file.write_text(json.dumps(document))
    before = digest(store)
    result = cli("program", "import", str(file))
    assert_refused_in_one_line(result, codes=(2,))
    assert path in result.err and limit in result.err, result.err
    assert digest(store) == before


def test_a_document_over_the_size_limit_is_refused_before_it_is_read(cli, store, tmp_path):
    file = tmp_path / "huge.json"
    with open(file, "wb") as handle:  # sparse: the size is what counts, not the content
        handle.truncate(MAX_DOCUMENT_BYTES + 1)
    before = digest(store)
    result = cli("program", "import", str(file))
    assert_refused_in_one_line(result, codes=(2,))
    assert "larger than 64 MiB" in result.err
    assert digest(store) == before


def test_a_document_contradicting_the_stored_program_is_refused_and_its_export_stays_importable(
    cli, store, imported_base, tmp_path
):
    # Import adds and never deletes: a rotation losing a slot that stored duties use, an absence
    # over a stored duty, or a person's id reused by a staff member would leave an export that
    # no longer imports.
    contradictions = {
        "$.rotations[0].slots": lambda d: d.update(assignments=[]) or _set(["rotations", 0, "slots"], ["PM"])(d),
        "$.absences[1]": lambda d: (
            d.update(assignments=[])
            or d["absences"].append({"person_id": "F-01", "start": "2026-03-12", "end": "2026-03-12"})
        ),
        "$.assignments[0].date": lambda d: d.update(
            assignments=[{"person_id": "R1-01", "date": "2026-03-16", "slot": "AM", "rotation_id": "WARDS"}],
            absences=[],
        ),
        "$.staff[2].id": lambda d: (
            d["staff"].append({"id": "R9-01", "name": "Reused", "role": "admin"})
            or d.update(people=[], assignments=[], absences=[])
        ),
    }
    seed = tmp_path / "seed.json"
    seed_document = program_document()
    seed_document["people"].append({"id": "R9-01", "name": "Resident 9-01", "role": "resident", "pgy": 2})
    seed.write_text(dumps(seed_document))
    assert cli("program", "import", str(seed)).code == 0
    for path, mutate in contradictions.items():
        document = program_document()
        mutate(document)
        file = tmp_path / "contradicts.json"
        file.write_text(dumps(document))
        before = digest(store)
        result = cli("program", "import", str(file))
        assert_refused_in_one_line(result, codes=(2,))
        assert path in result.err, result.err
        assert digest(store) == before
    export = tmp_path / "export.json"
    assert cli("program", "export", "--out", str(export)).code == 0
    parse_document(export.read_bytes())
