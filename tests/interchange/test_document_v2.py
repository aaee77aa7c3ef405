"""The v2 document (rotaguard-program/2): the example imports, round trips, v1 reads as v2 and
bad documents are refused with the JSON path of every problem."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import jsonschema
import pytest

from dbstate import digest
from factories import dumps, program_document
from rotaguard.db import Database
from rotaguard.domain import Schedule, ShiftKind
from rotaguard.errors import InputError
from rotaguard.interchange import document_v2
from rotaguard.interchange.document import ProgramDocument, parse_document
from rotaguard.interchange.document import document_from as document_from_v1
from rotaguard.interchange.document import json_schema as v1_json_schema
from rotaguard.interchange.export import export_json

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE = EXAMPLES / "program-v2.json"


def example() -> dict:
    return json.loads(EXAMPLE.read_text())


def _write(document) -> document_v2.ProgramDocumentV2:
    return document_v2.document_from(
        document.to_program(), document.to_schedule(), rule_overrides=document.rule_overrides()
    )


def _index(items: list[dict], **match) -> int:
    return next(i for i, item in enumerate(items) if all(item.get(k) == v for k, v in match.items()))


# ---------------------------------------------------------------------------------------------
# The example and the round trip


def test_the_example_imports_as_a_two_layer_program():
    document = parse_document(EXAMPLE.read_text(), source="program-v2.json")
    assert isinstance(document, document_v2.ProgramDocumentV2)
    program = document.to_program()
    assert program.has_plan_model
    assert {s.id for s in program.shifts} >= {"DAY", "NIGHT", "CALL24", "CLINIC_PM", "ACADEMIC"}
    assert program.shift("CALL24").kind is ShiftKind.CALL_24 and program.shift("CALL24").transition_hours == 4
    assert program.is_in_house_call("ICU", "CALL24") and not program.is_in_house_call("NF", "NIGHT")
    assert program.planned_rotation("R1-03", date(2026, 10, 1)).id == "NF"
    # R3-03 is on two half-blocks: Ambulatory, then an elective.
    assert program.planned("R3-03", date(2026, 10, 6)).rotation_id == "AMB"
    assert program.planned("R3-03", date(2026, 10, 7)).rotation_id == "ELEC"
    assert program.clinic_service == "CLINIC" and program.didactics_service == "ACAD"
    assert program.attending_service("F-03", date(2026, 10, 1)) == "ICU"
    assert len(program.year.blocks) == 13 and program.curriculum and program.requests and program.holidays
    assert document.warnings() == []


def test_round_trip_of_a_v2_document_is_equal():
    text = EXAMPLE.read_text()
    first = parse_document(text)
    written = _write(first)
    again = parse_document(document_v2.dump_document(written))
    assert again == written == first
    assert again.to_program() == first.to_program()
    assert again.to_schedule() == first.to_schedule()
    # The example is stored as the writer writes it, so an export of it is byte for byte the file.
    assert document_v2.dump_document(written) == text


def test_a_v2_document_in_another_order_writes_the_canonical_one():
    data = example()
    for key in ("people", "services", "rotations", "plan", "duties", "curriculum"):
        data[key].reverse()
    shuffled = parse_document(json.dumps(data))
    assert document_v2.dump_document(_write(shuffled)) == EXAMPLE.read_text()


@pytest.mark.parametrize("name", ["program.json", "synthetic-program.json"])
def test_a_v1_document_written_as_v2_reads_as_the_same_program(name):
    v1 = parse_document((EXAMPLES / name).read_text())
    assert isinstance(v1, ProgramDocument)
    v2 = _write(v1)
    # v1's slots are the shift types AM, PM, CALL; each v1 rotation a service with one coverage
    # entry per slot it runs; assignments are duties.
    assert [s.id for s in v2.shift_types] == ["AM", "CALL", "PM"]
    assert {s.id: s.kind for s in v2.shift_types}["CALL"] is ShiftKind.CALL
    for rotation in v1.rotations:
        service = next(s for s in v2.services if s.id == rotation.id)
        assert [entry.shift for entry in service.coverage] == [slot.value for slot in rotation.slots]
        assert all(entry.days == rotation.days and entry.faculty == rotation.faculty for entry in service.coverage)
    assert len(v2.duties) == len(v1.assignments)
    back = parse_document(document_v2.dump_document(v2))
    # The v1 writer's order (by id) is the v2 writer's.
    normalised = document_from_v1(v1.to_program(), v1.to_schedule(), rule_overrides=v1.rule_overrides())
    assert back.to_program() == normalised.to_program()
    assert back.to_schedule() == normalised.to_schedule()
    assert not back.to_program().shift_types  # the v1 program, not a v2 look-alike


def test_a_service_with_groups_keeps_its_coverage():
    program = parse_document(EXAMPLE.read_text()).to_program()
    wards = program.rotation("WARDS")
    assert [len(entry.residents) for entry in wards.coverage] == [2]
    coverage = wards.coverage_on(date(2026, 10, 1), "DAY")
    assert coverage is not None and [g.pgy for g in coverage.residents] == [(1,), (2, 3)]


# ---------------------------------------------------------------------------------------------
# The schema


def test_published_v2_schema_is_current():
    published = json.loads((EXAMPLES / "program-v2.schema.json").read_text())
    assert published == document_v2.json_schema(), (
        "regenerate: rotaguard program schema --out examples/program-v2.schema.json"
    )


def test_v2_schema_is_valid_and_the_example_validates():
    jsonschema.Draft202012Validator.check_schema(document_v2.json_schema())
    jsonschema.validate(example(), document_v2.json_schema(), cls=jsonschema.Draft202012Validator)


def test_program_schema_prints_v2_and_v1_on_request(cli):
    assert json.loads(cli("program", "schema").out) == document_v2.json_schema()
    assert json.loads(cli("program", "schema", "--format-version", "1").out) == v1_json_schema()
    refused = cli("program", "schema", "--format-version", "3")
    assert refused.code == 2 and "Traceback" not in refused.err


# ---------------------------------------------------------------------------------------------
# Bad documents: one line per problem, each at its JSON path


def _rotation(doc: dict, rotation_id: str) -> dict:
    return doc["rotations"][_index(doc["rotations"], id=rotation_id)]


def _curriculum(doc: dict, pgy: int, rotation: str) -> dict:
    return doc["curriculum"][_index(doc["curriculum"], pgy=pgy, rotation=rotation)]


def _pattern_unknown_shift(doc):
    _rotation(doc, "NF")["pattern"]["duties"][0]["shift"] = "NOCTURNE"
    return f"$.rotations[{_index(doc['rotations'], id='NF')}].pattern.duties[0].shift", "unknown shift 'NOCTURNE'"


def _pattern_unknown_service(doc):
    _rotation(doc, "ICU")["pattern"]["duties"][1]["service"] = "CCU"
    return f"$.rotations[{_index(doc['rotations'], id='ICU')}].pattern.duties[1].service", "unknown service 'CCU'"


def _pattern_shift_the_service_lacks(doc):
    _rotation(doc, "NF")["pattern"]["duties"][0]["shift"] = "DAY"
    return (
        f"$.rotations[{_index(doc['rotations'], id='NF')}].pattern.duties[0].shift",
        "service 'NF' has no coverage for shift 'DAY'",
    )


def _coverage_unknown_shift(doc):
    index = _index(doc["services"], id="NF")
    doc["services"][index]["coverage"][0]["shift"] = "OWL"
    return f"$.services[{index}].coverage[0].shift", "unknown shift 'OWL'"


def _curriculum_beyond_capacity(doc):
    # NF takes at most 1 PGY-1 a block: 13 blocks give 13; 4 interns x 3.5 blocks need 14.
    requirement = _curriculum(doc, 1, "NF")
    requirement.update(min_blocks=3.5, max_blocks=4)
    return (
        f"$.curriculum[{_index(doc['curriculum'], pgy=1, rotation='NF')}].min_blocks",
        "needs 14 blocks of NF over the year (4 residents x 3.5), but its capacity gives at most 1 x 13 = 13",
    )


def _curriculum_beyond_a_shared_capacity(doc):
    # WARDS's PGY-2/3 group holds 2 a block, 26 a year: 3 x 5 + 3 x 4 = 27 between the two classes.
    _curriculum(doc, 2, "WARDS").update(min_blocks=5, max_blocks=6)
    _curriculum(doc, 3, "WARDS").update(min_blocks=4, max_blocks=4)
    return f"$.curriculum[{_index(doc['curriculum'], pgy=2, rotation='WARDS')}].min_blocks", "PGY-2/3 needs 27 blocks"


def _curriculum_for_a_class_the_capacity_excludes(doc):
    doc["curriculum"].append({"pgy": 1, "rotation": "ELEC", "min_blocks": 1})
    return f"$.curriculum[{len(doc['curriculum']) - 1}].min_blocks", "PGY-1 residents cannot be on ELEC"


def _blocks_overlap(doc):
    doc["year"]["blocks"][1]["start"] = doc["year"]["blocks"][0]["end"]
    return "$.year", "blocks 1 and 2 overlap"


def _blocks_gap(doc):
    doc["year"]["blocks"][4]["start"] = "2026-10-23"  # block 5 should start 2026-10-21
    return "$.year", "a gap between blocks 4 and 5"


def _plan_rows_overlap(doc):
    doc["plan"].append({"person_id": "R1-01", "start": "2026-10-07", "end": "2026-10-20", "rotation_id": "ICU"})
    return f"$.plan[{len(doc['plan']) - 1}]", "R1-01 is already on WARDS 2026-09-23..2026-10-20 (at $.plan[0])"


def _plan_unknown_person(doc):
    doc["plan"][0]["person_id"] = "R9-99"
    return "$.plan[0].person_id", "unknown person 'R9-99'"


def _plan_unknown_rotation(doc):
    doc["plan"][0]["rotation_id"] = "GI"
    return "$.plan[0].rotation_id", "unknown rotation 'GI'"


def _plan_faculty(doc):
    doc["plan"][0]["person_id"] = "F-01"
    return "$.plan[0].person_id", "F-01 is not a resident"


def _plan_row_not_a_block(doc):
    doc["plan"][0]["end"] = "2026-10-19"
    return "$.plan[0]", "2026-09-23..2026-10-19 is not a block or half-block (the block is 2026-09-23..2026-10-20)"


def _duty_on_a_shift_the_service_lacks(doc):
    doc["duties"][0]["shift"] = "NIGHT"
    return "$.duties[0].shift", "service 'WARDS' has no NIGHT shift (it has DAY)"


def _duty_unknown_service(doc):
    doc["duties"][0]["service_id"] = "GI"
    return "$.duties[0].service_id", "unknown service 'GI'"


def _duty_twice(doc):
    doc["duties"].append(dict(doc["duties"][0]))
    return f"$.duties[{len(doc['duties']) - 1}]", "already has a duty on"


def _clinic_service_unknown(doc):
    doc["program"]["clinic_service"] = "CONT"
    return "$.program.clinic_service", "clinic_service names unknown service 'CONT'"


def _clinic_shift_unknown(doc):
    index = _index(doc["people"], id="R1-01")
    doc["people"][index]["clinic"]["shift"] = "CLINIC_AM"
    return f"$.people[{index}].clinic.shift", "weekly session names unknown shift 'CLINIC_AM'"


def _request_unknown_rotation(doc):
    index = _index(doc["requests"], kind="rotation")
    doc["requests"][index]["rotation_id"] = "CARD"
    return f"$.requests[{index}].rotation_id", "names unknown rotation 'CARD'"


def _attending_resident(doc):
    doc["attending"][0]["person_id"] = "R1-01"
    return "$.attending[0].person_id", "R1-01, who is not faculty"


def _before_unknown(doc):
    _curriculum(doc, 1, "ICU")["before"] = ["NIGHTS"]
    return f"$.curriculum[{_index(doc['curriculum'], pgy=1, rotation='ICU')}].before", "precedes unknown rotations"


def _session_service_runs_call(doc):
    index = _index(doc["services"], id="ICU")
    doc["services"][index]["kind"] = "session"
    return f"$.services[{index}].kind", "session rotation ICU runs in-house call shifts"


def _transition_on_a_day_shift(doc):
    index = _index(doc["shift_types"], id="DAY")
    doc["shift_types"][index]["transition_hours"] = 2
    return f"$.shift_types[{index}]", "only a call_24 shift has transition hours"


def _no_shift_types(doc):
    doc["shift_types"] = []
    return "$.shift_types", "at least 1 item"


BAD_V2 = {
    "pattern names an unknown shift": _pattern_unknown_shift,
    "pattern names an unknown service": _pattern_unknown_service,
    "pattern puts a shift on a service that does not run it": _pattern_shift_the_service_lacks,
    "coverage names an unknown shift": _coverage_unknown_shift,
    "curriculum beyond capacity": _curriculum_beyond_capacity,
    "curriculum beyond a capacity two classes share": _curriculum_beyond_a_shared_capacity,
    "curriculum for a class the rotation excludes": _curriculum_for_a_class_the_capacity_excludes,
    "overlapping blocks": _blocks_overlap,
    "a gap between blocks": _blocks_gap,
    "overlapping plan rows": _plan_rows_overlap,
    "plan row of an unknown person": _plan_unknown_person,
    "plan row on an unknown rotation": _plan_unknown_rotation,
    "plan row of a faculty member": _plan_faculty,
    "plan row that is not a block": _plan_row_not_a_block,
    "duty on a shift the service lacks": _duty_on_a_shift_the_service_lacks,
    "duty on an unknown service": _duty_unknown_service,
    "duty given twice": _duty_twice,
    "unknown clinic service": _clinic_service_unknown,
    "clinic on an unknown shift": _clinic_shift_unknown,
    "request for an unknown rotation": _request_unknown_rotation,
    "attending row of a resident": _attending_resident,
    "curriculum before an unknown rotation": _before_unknown,
    "session service running call": _session_service_runs_call,
    "transition hours on a day shift": _transition_on_a_day_shift,
    "no shift types": _no_shift_types,
}


@pytest.mark.parametrize("case", sorted(BAD_V2))
def test_a_bad_v2_document_names_the_path_of_its_problem(case):
    document = example()
    path, fragment = BAD_V2[case](document)
    with pytest.raises(InputError) as caught:
        parse_document(json.dumps(document), source="bad.json")
    problems = caught.value.problems
    assert any(p.path == path and fragment in p.message for p in problems), problems
    assert all("\n" not in str(p) for p in problems)


def test_the_curriculum_check_holds_at_its_boundary():
    # 4 interns x 3.25 blocks = 13 = NF's 1 a block x 13 blocks: exactly enough.
    document = example()
    _curriculum(document, 1, "NF").update(min_blocks=3.25, max_blocks=4)
    parse_document(json.dumps(document))
    # One more half-block's worth is too much (see "curriculum beyond capacity").
    _curriculum(document, 1, "NF").update(min_blocks=3.5)
    with pytest.raises(InputError):
        parse_document(json.dumps(document))


def test_the_shared_capacity_holds_at_its_boundary():
    document = example()
    _curriculum(document, 2, "WARDS").update(min_blocks=4, max_blocks=6)  # 3 x 4 + 3 x 4 = 24 <= 26
    _curriculum(document, 3, "WARDS").update(min_blocks=4, max_blocks=4)
    parse_document(json.dumps(document))


def test_every_problem_is_listed_at_once():
    document = example()
    _pattern_unknown_shift(document)
    _plan_unknown_person(document)
    _duty_unknown_service(document)
    with pytest.raises(InputError) as caught:
        parse_document(json.dumps(document), source="bad.json")
    paths = {p.path for p in caught.value.problems}
    assert {"$.plan[0].person_id", "$.duties[0].service_id"} <= paths
    assert any(path.endswith("pattern.duties[0].shift") for path in paths)
    assert "3 problems, nothing was written" in str(caught.value)


@pytest.mark.parametrize("case", ["overlapping plan rows", "curriculum beyond capacity", "overlapping blocks"])
def test_a_bad_v2_import_writes_nothing(case, cli, tmp_path, database_url):
    seeded = tmp_path / "seed.json"
    seeded.write_text(dumps(program_document()))
    assert cli("program", "import", str(seeded)).code == 0
    document = example()
    path, fragment = BAD_V2[case](document)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document))
    database = Database(database_url)
    before = digest(database)
    result = cli("program", "import", str(bad))
    after = digest(database)
    database.dispose()
    assert result.code == 2 and result.err.startswith("rotaguard: error: ")
    assert f"{path}: " in result.err and fragment in result.err, result.err
    assert "Traceback" not in result.err
    assert before == after


# ---------------------------------------------------------------------------------------------
# The JSON export's v2 fields


def test_json_export_rows_say_the_service_shift_kind_and_planned_rotation():
    document = parse_document(EXAMPLE.read_text())
    program, schedule = document.to_program(), document.to_schedule()
    rows = {(row["person_id"], row["date"]): row for row in export_json(program, schedule)["assignments"]}
    call = rows[("R1-04", "2026-10-01")]
    assert call["rotation_id"] == call["service_id"] == "ICU"
    assert call["slot"] == call["shift"] == "CALL24" and call["shift_kind"] == "call_24"
    assert call["rotation"] == "ICU" and call["hours"] == 24.0
    assert call["start"] == "2026-10-01T07:00:00-04:00" and call["end"] == "2026-10-02T07:00:00-04:00"
    # A duty before the planned block (history) has no rotation.
    assert rows[("R2-02", "2026-09-20")]["rotation"] is None
    assert rows[("R2-03", "2026-09-29")]["shift_kind"] == "clinic"
    assert rows[("R2-03", "2026-09-29")]["rotation"] == "AMB"


def test_json_export_of_an_empty_schedule_has_no_rows():
    program = parse_document(EXAMPLE.read_text()).to_program()
    assert export_json(program, Schedule())["assignments"] == []


# ---------------------------------------------------------------------------------------------
# Import through the CLI: the database must store the v2 parts (the db layer's side)


def test_the_v2_example_imports_and_exports_unchanged(cli, tmp_path):
    path = tmp_path / "program-v2.json"
    path.write_text(EXAMPLE.read_text())
    assert cli("program", "import", str(path)).code == 0
    exported = cli("program", "export")
    assert exported.code == 0 and exported.out == EXAMPLE.read_text()


# ---------------------------------------------------------------------------------------------
# Against the stored program: import adds and updates, never deletes


def _stored_and_incoming(change) -> list:
    from rotaguard.interchange.importer import conflicts_with_stored

    stored = parse_document(EXAMPLE.read_text())
    data = example()
    change(data)
    incoming = parse_document(json.dumps(data))
    return conflicts_with_stored(incoming, stored.to_program(), stored.to_schedule())


def test_a_plan_row_that_replaces_the_stored_one_is_no_conflict():
    def move_r1_01(data):
        row = data["plan"][_index(data["plan"], person_id="R1-01")]
        row["rotation_id"] = "AMB"  # same person and start: it replaces the stored row

    assert _stored_and_incoming(move_r1_01) == []


def test_a_plan_row_overlapping_a_stored_one_it_does_not_replace_is_refused():
    def half_block(data):
        row = data["plan"][_index(data["plan"], person_id="R1-01")]
        row.update(start="2026-10-07", rotation_id="ICU")  # the second half, while WARDS stays stored

    problems = _stored_and_incoming(half_block)
    index = _index(example()["plan"], person_id="R1-01")
    assert [(p.path, p.message) for p in problems] == [
        (
            f"$.plan[{index}]",
            "R1-01 is on WARDS 2026-09-23..2026-10-20 in the stored plan, which this row overlaps",
        )
    ]


def test_a_service_losing_a_shift_stored_duties_use_is_refused():
    def drop_icu_call(data):
        icu = data["services"][_index(data["services"], id="ICU")]
        icu["coverage"] = [entry for entry in icu["coverage"] if entry["shift"] != "CALL24"]
        _rotation(data, "ICU")["pattern"]["duties"] = [
            d for d in _rotation(data, "ICU")["pattern"]["duties"] if d["shift"] != "CALL24"
        ]
        data["duties"] = [d for d in data["duties"] if d["shift"] != "CALL24"]

    problems = _stored_and_incoming(drop_icu_call)
    index = _index(example()["services"], id="ICU")
    assert [p.path for p in problems] == [f"$.services[{index}].coverage"]
    assert "service 'ICU' would lose its CALL24 slot, which stored assignments use (R1-04 on 2026-10-01)" in (
        problems[0].message
    )


def test_only_a_v1_kind_of_service_reads_in_v1_form():
    program = parse_document(EXAMPLE.read_text()).to_program()
    # AMB has one staffing for AM and PM but is a v2 service: its coverage stays as written.
    assert [entry.shift for entry in program.rotation("AMB").coverage] == ["AM", "PM"]
    data = example()
    amb = data["services"][_index(data["services"], id="AMB")]
    amb["kind"] = "session"
    session = parse_document(json.dumps(data)).to_program().rotation("AMB")
    assert session.coverage == () and session.slots == ("AM", "PM") and session.residents.max == 4
    assert session.coverage_on(date(2026, 10, 1), "AM") == program.rotation("AMB").coverage_on(date(2026, 10, 1), "AM")


def test_program_show_summarises_coverage_by_pgy_group():
    from rotaguard.cli.program import _summary

    program = parse_document(EXAMPLE.read_text()).to_program()
    summary = _summary(program, assignment_count=5)
    wards = next(r for r in summary["rotations"] if r["id"] == "WARDS")
    assert (wards["residents"], wards["faculty"], wards["slots"]) == ("PGY-1 2-4, PGY-2/3 1-3", "1-2", ["DAY"])
    assert summary["block_rotations"] == ["AMB", "ELEC", "ICU", "NF", "WARDS"] and summary["plan_rows"] == 11
    assert "CALL24" in summary["shift_types"]
