import csv
import io
import json

from factories import dumps, program_document
from rotaguard.interchange.export import ASSIGNMENT_FIELDS


def _import(cli, tmp_path):
    path = tmp_path / "p.json"
    path.write_text(dumps(program_document()))
    assert cli("program", "import", str(path)).code == 0


def test_export_json_shape_and_times(cli, tmp_path):
    _import(cli, tmp_path)
    result = cli("export", "--start", "2026-03-11", "--end", "2026-03-12", "--format", "json")
    assert result.code == 0
    data = json.loads(result.out)
    assert set(data) == {"people", "rotations", "assignments"}
    assert {"id": "R2-01", "role": "resident", "pgy": 2} in data["people"]
    assert {"id": "F-01", "role": "faculty", "pgy": None} in data["people"]
    assert {"id": "NIGHT", "kind": "call", "supervised": False} in data["rotations"]
    call = next(a for a in data["assignments"] if a["slot"] == "CALL")
    assert call == {
        "person_id": "R2-01",
        "rotation_id": "NIGHT",
        "date": "2026-03-11",
        "slot": "CALL",
        "start": "2026-03-11T19:00:00-04:00",
        "end": "2026-03-12T07:00:00-04:00",
        "hours": 12.0,
        # v2's words for the same duty; a v1 program has no plan, so no block rotation.
        "service_id": "NIGHT",
        "shift": "CALL",
        "shift_kind": "call",
        "rotation": None,
    }
    assert len(data["assignments"]) == 3


def test_export_range_is_inclusive_and_filters(cli, tmp_path):
    _import(cli, tmp_path)
    data = json.loads(cli("export", "--start", "2026-03-12", "--end", "2026-03-12").out)
    assert {a["date"] for a in data["assignments"]} == {"2026-03-12"}


def test_export_csv_has_the_same_rows(cli, tmp_path):
    _import(cli, tmp_path)
    as_json = json.loads(cli("export", "--start", "2026-03-01", "--end", "2026-03-31").out)["assignments"]
    out = tmp_path / "out" / "schedule.csv"
    result = cli("export", "--start", "2026-03-01", "--end", "2026-03-31", "--format", "csv", "--out", str(out))
    assert result.code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    # The CSV keeps v1's columns; the JSON rows add the v2 fields after them.
    assert list(rows[0]) == list(ASSIGNMENT_FIELDS)
    assert [{**r, "hours": float(r["hours"])} for r in rows] == [
        {field: row[field] for field in ASSIGNMENT_FIELDS} for row in as_json
    ]


def test_export_rejects_bad_arguments_without_traceback(cli, tmp_path):
    _import(cli, tmp_path)
    reversed_range = cli("export", "--start", "2026-03-12", "--end", "2026-03-01")
    assert reversed_range.code == 2 and "--end: 2026-03-01 is before --start 2026-03-12" in reversed_range.err
    bad_format = cli("export", "--start", "2026-03-01", "--end", "2026-03-02", "--format", "xml")
    assert bad_format.code == 2 and "'xml' is not one of 'json', 'csv', 'ics', 'xlsx'" in bad_format.err


def test_export_before_import_says_what_to_do(cli):
    result = cli("export", "--start", "2026-03-01", "--end", "2026-03-02")
    assert result.code == 1 and "no program has been imported yet" in result.err
