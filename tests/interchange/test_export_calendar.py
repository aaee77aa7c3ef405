"""`rotaguard export --format ics`: RFC 5545 calendars, one per person plus program.ics.

Every calendar is parsed back with icalendar and compared with the JSON export of the same
range and with the imported document, never with numbers typed into the test.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import update

from factories import dumps, program_document
from rotaguard.db import Database
from rotaguard.db.tables import AssignmentRow
from rotaguard.domain import Schedule, Slot
from rotaguard.errors import RotaGuardError
from rotaguard.interchange.document import ProgramDocument
from rotaguard.interchange.ics import PROGRAM_CALENDAR, event_uid, export_calendars, program_calendar

START, END = "2026-03-01", "2026-03-14"
SPRING_CALL = {
    "person_id": "R2-01",
    "date": "2026-03-07",
    "slot": "CALL",
    "rotation_id": "NIGHT",
}  # US clocks spring forward 8 March
AUTUMN_CALL = {
    "person_id": "R2-01",
    "date": "2026-10-31",
    "slot": "CALL",
    "rotation_id": "NIGHT",
}  # and fall back 1 November
CHANGED = {"person_id": "R1-01", "date": "2026-03-09", "slot": "AM", "rotation_id": "CLINIC"}


def calendar_document() -> dict:
    """The factories' program with a second session rotation, a PGY-3 with nothing assigned, an
    inactive resident, and assignments before, inside and after the range."""
    document = program_document()
    document["rotations"].append(
        {
            "id": "CLINIC",
            "name": "Continuity clinic",
            "kind": "session",
            "slots": ["AM", "PM"],
            "days": ["mon", "tue", "wed", "thu", "fri"],
            "residents": {"min": 0, "max": 4, "pgy": [1, 2, 3]},
            "faculty": {"min": 0, "max": 2},
            "credentials": [],
            "supervised": True,
        }
    )
    document["people"] += [
        {"id": "R3-01", "name": "Resident 3-01", "role": "resident", "pgy": 3, "credentials": [{"name": "BLS"}]},
        {"id": "R3-02", "name": "Resident 3-02", "role": "resident", "pgy": 3, "active": False, "credentials": []},
    ]
    document["assignments"] += [
        SPRING_CALL,
        AUTUMN_CALL,
        dict(CHANGED),
        {"person_id": "F-01", "date": "2026-03-09", "slot": "PM", "rotation_id": "CLINIC"},
        {"person_id": "R1-01", "date": "2026-03-12", "slot": "PM", "rotation_id": "WARDS"},
        {"person_id": "R1-01", "date": "2026-02-27", "slot": "AM", "rotation_id": "WARDS"},
    ]
    return document


def import_program(cli, tmp_path, document: dict, name: str = "program.json") -> None:
    path = tmp_path / name
    path.write_text(dumps(document))
    result = cli("program", "import", str(path))
    assert result.code == 0, result.err


def json_rows(cli, start: str = START, end: str = END) -> list[dict]:
    result = cli("export", "--start", start, "--end", end, "--format", "json")
    assert result.code == 0, result.err
    return json.loads(result.out)["assignments"]


def export_ics(cli, out, start: str = START, end: str = END) -> None:
    result = cli("export", "--start", start, "--end", end, "--format", "ics", "--out", str(out))
    assert result.code == 0, result.err


def read_calendar(path) -> Calendar:
    return Calendar.from_ical(path.read_bytes())


def events_by_uid(calendar: Calendar) -> dict:
    events = calendar.walk("VEVENT")
    by_uid = {str(event["UID"]): event for event in events}
    assert len(by_uid) == len(events), "duplicate UIDs"
    return by_uid


def program_of(document: dict):
    return ProgramDocument.model_validate(document).to_program()


def uid_of(program, row: dict) -> str:
    return event_uid(program, row["person_id"], date.fromisoformat(row["date"]), Slot(row["slot"]))


def in_range(document: dict, start: str = START, end: str = END) -> list[dict]:
    return [a for a in document["assignments"] if start <= a["date"] <= end]


def test_one_calendar_per_person_and_the_program_calendar_holds_every_event(cli, tmp_path):
    document = calendar_document()
    import_program(cli, tmp_path, document)
    out = tmp_path / "calendars"
    export_ics(cli, out)

    assigned = in_range(document)
    expected_people = {
        p["id"] for p in document["people"] if p.get("active", True) or any(a["person_id"] == p["id"] for a in assigned)
    }
    assert {path.name for path in out.iterdir()} == {f"{person}.ics" for person in expected_people} | {PROGRAM_CALENDAR}

    person_uids: set[str] = set()
    for person in expected_people:
        calendar = read_calendar(out / f"{person}.ics")
        events = events_by_uid(calendar)
        assert len(events) == sum(1 for a in assigned if a["person_id"] == person), person
        assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == [document["program"]["timezone"]], person
        person_uids |= set(events)

    program_events = events_by_uid(read_calendar(out / PROGRAM_CALENDAR))
    assert set(program_events) == person_uids
    assert len(program_events) == len(json_rows(cli)) == len(assigned)
    names = {p["id"]: p["name"] for p in document["people"]}
    program = program_of(document)
    for row in assigned:
        assert str(program_events[uid_of(program, row)]["SUMMARY"]).startswith(f"{names[row['person_id']]}: ")


def test_calendars_have_the_properties_rfc_5545_requires(cli, tmp_path):
    document = calendar_document()
    import_program(cli, tmp_path, document)
    out = tmp_path / "calendars"
    before = datetime.now(UTC).replace(microsecond=0)
    export_ics(cli, out)
    after = datetime.now(UTC)
    rotations = {r["id"]: r["name"] for r in document["rotations"]}
    program = program_of(document)
    for path in sorted(out.iterdir()):
        raw = path.read_bytes()
        assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b""), path.name
        assert all(len(line) <= 75 for line in raw.split(b"\r\n")), path.name
        calendar = read_calendar(path)
        assert str(calendar["VERSION"]) == "2.0" and "RotaGuard" in str(calendar["PRODID"])
        assert calendar.get_missing_tzids() == set()
    events = events_by_uid(read_calendar(out / PROGRAM_CALENDAR))
    for row in in_range(document):
        event = events[uid_of(program, row)]
        assert f"{rotations[row['rotation_id']]} ({row['slot']})" in str(event["SUMMARY"])
        assert before <= event.decoded("DTSTAMP") <= after
        assert event.decoded("DTSTAMP").utcoffset() == timedelta(0)
        assert {"UID", "DTSTAMP", "DTSTART", "DTEND", "LAST-MODIFIED", "SEQUENCE"} <= set(event)


def test_start_and_end_are_the_json_exports_in_the_program_zone(cli, tmp_path):
    document = calendar_document()
    import_program(cli, tmp_path, document)
    out = tmp_path / "calendars"
    export_ics(cli, out)
    zone_name = document["program"]["timezone"]
    program = program_of(document)
    events = events_by_uid(read_calendar(out / PROGRAM_CALENDAR))
    rows = json_rows(cli)
    assert rows
    for row in rows:
        event = events[uid_of(program, row)]
        for prop, column in (("DTSTART", "start"), ("DTEND", "end")):
            expected = datetime.fromisoformat(row[column])
            value = event.decoded(prop)
            assert event[prop].params["TZID"] == zone_name
            assert value == expected  # the same instant
            assert value.replace(tzinfo=None) == expected.replace(tzinfo=None)  # on the same wall clock
            assert value.utcoffset() == expected.utcoffset()
        hours = (event.decoded("DTEND") - event.decoded("DTSTART").astimezone(UTC)).total_seconds() / 3600
        assert hours == pytest.approx(row["hours"])


@pytest.mark.parametrize(
    ("call", "start", "end", "real_hours"),
    [(SPRING_CALL, "2026-03-01", "2026-03-14", 11), (AUTUMN_CALL, "2026-10-25", "2026-11-07", 13)],
    ids=["spring-forward", "fall-back"],
)
def test_a_call_across_a_daylight_saving_change_ends_at_the_rostered_wall_clock_time(
    cli, tmp_path, call, start, end, real_hours
):
    document = calendar_document()
    import_program(cli, tmp_path, document)
    out = tmp_path / "calendars"
    export_ics(cli, out, start, end)
    zone = ZoneInfo(document["program"]["timezone"])
    slot = document["program"]["slots"]["CALL"]
    wall_start = datetime.combine(date.fromisoformat(call["date"]), time.fromisoformat(slot["start"]))
    wall_end = wall_start + timedelta(hours=slot["hours"])  # rostered on the wall clock: 19:00 + 12 h is 07:00

    raw = (out / f"{call['person_id']}.ics").read_text()
    assert f"DTSTART;TZID={zone.key}:{wall_start:%Y%m%dT%H%M%S}" in raw
    assert f"DTEND;TZID={zone.key}:{wall_end:%Y%m%dT%H%M%S}" in raw

    events = events_by_uid(read_calendar(out / f"{call['person_id']}.ics"))
    event = events[uid_of(program_of(document), call)]
    assert event.decoded("DTSTART") == wall_start.replace(tzinfo=zone)
    assert event.decoded("DTEND").replace(tzinfo=None) == wall_end
    assert event.decoded("DTSTART").utcoffset() != event.decoded("DTEND").utcoffset()
    elapsed = event.decoded("DTEND").astimezone(UTC) - event.decoded("DTSTART").astimezone(UTC)
    assert elapsed == timedelta(hours=real_hours)
    (row,) = [r for r in json_rows(cli, start, end) if r["date"] == call["date"] and r["slot"] == "CALL"]
    assert row["hours"] == real_hours


def test_uids_survive_a_changed_assignment_and_its_content_and_revision_move(cli, tmp_path, database_url):
    document = calendar_document()
    import_program(cli, tmp_path, document)
    # Pretend the import happened an hour ago, so a change now is visibly later.
    database = Database(database_url)
    with database.write() as session:
        session.execute(update(AssignmentRow).values(updated_at=datetime.now(UTC) - timedelta(hours=1)))
    database.dispose()
    first, second = tmp_path / "first", tmp_path / "second"
    export_ics(cli, first)

    changed = next(a for a in document["assignments"] if a == CHANGED)
    changed["rotation_id"] = "WARDS"
    path = tmp_path / "changed.json"
    path.write_text(dumps(document))
    result = cli("program", "import", str(path), "--json")
    assert result.code == 0 and json.loads(result.out)["changes"]["assignments"] == {
        "created": 0,
        "updated": 1,
        "unchanged": len(document["assignments"]) - 1,
    }
    export_ics(cli, second)

    program = program_of(document)
    changed_uid = uid_of(program, changed)
    assert sorted(path.name for path in first.iterdir()) == sorted(path.name for path in second.iterdir())
    for name in sorted(path.name for path in first.iterdir()):
        before, after = events_by_uid(read_calendar(first / name)), events_by_uid(read_calendar(second / name))
        assert set(before) == set(after), name
        for uid in before:
            old = {key: value for key, value in before[uid].items() if key != "DTSTAMP"}
            new = {key: value for key, value in after[uid].items() if key != "DTSTAMP"}
            if uid != changed_uid:
                assert old == new, (name, uid)
                continue
            assert "Continuity clinic" in str(old["SUMMARY"]) and "Inpatient wards" in str(new["SUMMARY"])
            assert after[uid].decoded("LAST-MODIFIED") > before[uid].decoded("LAST-MODIFIED")
            assert after[uid].decoded("SEQUENCE") > before[uid].decoded("SEQUENCE")
            assert after[uid].decoded("DTSTART") == before[uid].decoded("DTSTART")
    assert changed_uid in events_by_uid(read_calendar(second / f"{changed['person_id']}.ics"))


def test_without_out_the_program_calendar_is_printed(cli, tmp_path):
    document = calendar_document()
    import_program(cli, tmp_path, document)
    result = cli("export", "--start", START, "--end", END, "--format", "ics")
    assert result.code == 0 and result.err == ""
    printed = events_by_uid(Calendar.from_ical(result.out))
    out = tmp_path / "calendars"
    export_ics(cli, out)
    assert set(printed) == set(events_by_uid(read_calendar(out / PROGRAM_CALENDAR)))
    assert len(printed) == len(in_range(document))


def test_the_uid_depends_on_program_person_date_and_slot_only():
    program = program_of(calendar_document())
    day = date(2026, 3, 9)
    uid = event_uid(program, "R1-01", day, Slot.AM)
    assert uuid.UUID(uid).version == 5
    assert uid == event_uid(program.model_copy(update={"rotations": program.rotations[:1]}), "R1-01", day, Slot.AM)
    assert uid == event_uid(program.model_copy(update={"timezone": "Europe/London"}), "R1-01", day, Slot.AM)
    others = {
        event_uid(program.model_copy(update={"name": "Another Synthetic Program"}), "R1-01", day, Slot.AM),
        event_uid(program, "R2-01", day, Slot.AM),
        event_uid(program, "R1-01", day + timedelta(days=1), Slot.AM),
        event_uid(program, "R1-01", day, Slot.PM),
    }
    assert uid not in others and len(others) == 4


def test_an_empty_calendar_still_names_its_time_zone():
    program = program_of(calendar_document())
    raw = program_calendar(program, Schedule(), start=date(2026, 3, 1), end=date(2026, 3, 2), now=datetime.now(UTC))
    calendar = Calendar.from_ical(raw)
    assert calendar.walk("VEVENT") == []
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == [program.timezone]


@pytest.mark.parametrize("person_id", ["program", "PROGRAM"])
def test_a_person_whose_file_would_overwrite_program_ics_is_refused(person_id):
    document = calendar_document()
    document["people"].append(
        {"id": person_id, "name": "Resident Program", "role": "resident", "pgy": 1, "credentials": []}
    )
    program = program_of(document)
    with pytest.raises(RotaGuardError, match="would overwrite the program calendar"):
        export_calendars(program, Schedule(), start=date(2026, 3, 1), end=date(2026, 3, 2), now=datetime.now(UTC))
