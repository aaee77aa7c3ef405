"""The v2 model in the database: every Program field round-trips, the plan repository, str slots."""

from datetime import date

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from factories import program as v1_program
from rotaguard.db import AssignmentRepository, PlanRepository, ProgramRepository
from rotaguard.db.tables import PersonRow, RotationPlanRow, RotationRow
from rotaguard.domain import Assignment, AssignmentSource, PlanEntry, ShiftKind
from v2data import BLOCK1, BLOCK2, v2_program


def _save(database, prog):
    with database.write() as session:
        return ProgramRepository(session).save(program=prog, rule_overrides={})


def _load(database):
    with database.read() as session:
        return ProgramRepository(session).load()


def test_a_v2_program_round_trips_equal(database):
    original = v2_program()
    _save(database, original)
    loaded = _load(database)
    assert loaded == original
    # The parts one by one, so a failure says which.
    assert loaded.shift_types == original.shift_types
    assert [s.id for s in loaded.shifts] == ["DAY", "NIGHT", "CALL24", "CLINIC_PM", "ACADEMIC"]
    assert loaded.shift("CALL24").kind is ShiftKind.CALL_24 and loaded.shift("CALL24").transition_hours == 4
    assert loaded.rotations == original.rotations and loaded.rotation("WARDS").coverage
    assert loaded.block_rotations == original.block_rotations
    assert loaded.plan == original.plan
    assert (loaded.year, loaded.curriculum) == (original.year, original.curriculum)
    assert (loaded.requests, loaded.holidays, loaded.attending) == (
        original.requests,
        original.holidays,
        original.attending,
    )
    assert loaded.person("R1-01").clinic == original.person("R1-01").clinic
    assert loaded.person("R2-01").clinic is None
    assert (loaded.clinic_service, loaded.didactics, loaded.didactics_service) == ("AMB", original.didactics, "EDU")


def test_saving_a_v2_program_twice_changes_nothing_and_reports_the_v2_parts(database):
    first = _save(database, v2_program()).as_dict()
    assert first["plan"] == {"created": 4, "updated": 0, "unchanged": 0}
    assert first["shift_types"]["created"] == 5 and first["block_rotations"]["created"] == 2
    assert first["requests"]["created"] == 3 and first["holidays"]["created"] == 1
    assert first["attending"]["created"] == 2
    again = _save(database, v2_program()).as_dict()
    assert all(counts["created"] == counts["updated"] == 0 for counts in again.values()), again


def test_a_v1_program_reports_only_the_v1_parts(database):
    assert set(_save(database, v1_program()).as_dict()) == {"settings", "people", "rotations", "absences", "staff"}
    loaded = _load(database)
    assert loaded.shift_types == () and loaded.block_rotations == () and loaded.plan == ()
    assert loaded.year is None and loaded.curriculum == () and loaded.didactics == ()
    assert loaded.shift_ids == ("AM", "PM", "CALL")


def test_changed_v2_parts_are_updated(database):
    _save(database, v2_program())
    original = v2_program()
    renamed = original.shift_types[0].model_copy(update={"hours": 12})
    changed = v2_program(
        shift_types=(renamed, *original.shift_types[1:]),
        plan=(original.plan[0], original.plan[1].model_copy(update={"rotation_id": "WARDS"}), *original.plan[2:]),
        requests=(original.requests[0].model_copy(update={"priority": 3}), *original.requests[1:]),
    )
    counts = _save(database, changed).as_dict()
    assert counts["shift_types"] == {"created": 0, "updated": 1, "unchanged": 4}
    assert counts["plan"] == {"created": 0, "updated": 1, "unchanged": 3}
    assert counts["requests"] == {"created": 0, "updated": 1, "unchanged": 2}
    assert _load(database) == changed


def test_an_assignment_on_a_v2_shift_is_stored_as_its_id(database):
    _save(database, v2_program())
    duty = Assignment(person_id="R1-01", date=date(2026, 7, 4), slot="CALL24", rotation_id="WARDS")
    v1_duty = Assignment(person_id="R1-01", date=date(2026, 7, 5), slot="AM", rotation_id="WARDS")
    with database.write() as session:
        AssignmentRepository(session).upsert(assignments=[duty, v1_duty])
    with database.read() as session:
        loaded = AssignmentRepository(session).schedule().assignments
    assert loaded == (duty, v1_duty)
    assert all(type(a.slot) is str for a in loaded)


def test_a_64_character_shift_id_fits_the_slot_column(database):
    _save(database, v1_program())
    long_id = "S" * 64
    with database.write() as session:
        AssignmentRepository(session).upsert(
            assignments=[Assignment(person_id="R1-01", date=date(2026, 3, 12), slot=long_id, rotation_id="WARDS")]
        )
    with database.read() as session:
        assert AssignmentRepository(session).schedule().assignments[0].slot == long_id


def test_a_clinic_day_without_its_shift_is_refused(database):
    with pytest.raises(IntegrityError), database.write() as session:
        session.execute(
            insert(PersonRow).values(
                id="R9", name="R9", role="resident", pgy=1, active=True, clinic_day="tue", clinic_shift=None
            )
        )
    with pytest.raises(IntegrityError), database.write() as session:
        session.execute(
            insert(PersonRow).values(
                id="R9", name="R9", role="resident", pgy=1, active=True, clinic_day="xyz", clinic_shift="PM"
            )
        )
    with database.write() as session:
        session.execute(
            insert(PersonRow).values(
                id="R9", name="R9", role="resident", pgy=1, active=True, clinic_day="sun", clinic_shift="PM"
            )
        )


def test_a_service_kind_is_accepted_and_an_unknown_kind_refused(database):
    _save(database, v2_program())
    with database.read() as session:
        assert session.get(RotationRow, "WARDS").kind == "service"
    with pytest.raises(IntegrityError), database.write() as session:
        session.get(RotationRow, "WARDS").kind = "pool"


# ---------------------------------------------------------------------------- the plan repository


def _entry(person, start, end, rotation="WARDS", **overrides):
    return PlanEntry(person_id=person, start=start, end=end, rotation_id=rotation, **overrides)


def test_plan_rows_of_a_range_are_those_covering_any_of_its_days(database):
    _save(database, v2_program())
    with database.read() as session:
        plans = PlanRepository(session)
        assert plans.rows() == v2_program().plan
        # The last day of block 1 is covered by both people's block-1 rows, not by block 2's.
        assert [(e.person_id, e.start) for e in plans.rows(start=BLOCK1[1], end=BLOCK1[1])] == [
            ("R1-01", BLOCK1[0]),
            ("R2-01", date(2026, 7, 15)),
        ]
        assert [(e.person_id, e.start) for e in plans.rows(start=BLOCK2[0], end=BLOCK2[0])] == [("R1-01", BLOCK2[0])]
        assert plans.count(start=date(2026, 7, 14), end=date(2026, 7, 15)) == 3
        assert plans.count(start=date(2026, 9, 1)) == 0


def test_replacing_a_range_keeps_locked_rows_and_rows_that_started_before_it(database):
    _save(database, v2_program())
    # Replace from R2-01's second half-block on: its first half (before the range) and R1-01's
    # locked block 1 stay; R2-01's second half and R1-01's block 2 are replaced.
    start, end = date(2026, 7, 15), BLOCK2[1]
    new = [
        _entry("R2-01", date(2026, 7, 15), BLOCK1[1], "NF", source=AssignmentSource.SOLVER),
        _entry("R1-01", BLOCK2[0], BLOCK2[1], "WARDS", source=AssignmentSource.SOLVER),
        _entry("R2-01", BLOCK2[0], BLOCK2[1], "WARDS", source=AssignmentSource.SOLVER),
        # Overlaps R1-01's locked row: left out.
        _entry("R1-01", date(2026, 7, 20), date(2026, 7, 28), "NF"),
        # Starts before the range: not the range's to write.
        _entry("R2-01", date(2026, 7, 1), date(2026, 7, 14), "WARDS"),
    ]
    with database.write() as session:
        counts = PlanRepository(session).replace_range(start=start, end=end, entries=new)
    assert counts.as_dict() == {"created": 3, "updated": 2, "unchanged": 0}
    with database.read() as session:
        rows = PlanRepository(session).rows()
    assert rows == (
        v2_program().plan[0],
        new[1],
        v2_program().plan[2],
        new[0],
        new[2],
    )


def test_a_row_starting_on_the_range_start_is_replaced_one_starting_the_day_before_is_not(database):
    _save(database, v2_program())
    with database.write() as session:
        # Start one day after R2-01's second half begins: that row is history now.
        counts = PlanRepository(session).replace_range(start=date(2026, 7, 16), end=BLOCK2[1], entries=[])
    assert counts.updated == 1  # R1-01's block 2 only
    with database.read() as session:
        assert PlanRepository(session).count() == 3
    with database.write() as session:
        counts = PlanRepository(session).replace_range(start=date(2026, 7, 15), end=BLOCK2[1], entries=[])
    assert counts.updated == 1  # R2-01's second half
    with database.read() as session:
        assert [e.start for e in PlanRepository(session).rows()] == [BLOCK1[0], BLOCK1[0]]


def test_the_plan_digest_changes_with_the_plan(database):
    _save(database, v2_program())
    with database.read() as session:
        before = PlanRepository(session).digest(start=BLOCK1[0], end=BLOCK2[1])
        block1_before = PlanRepository(session).digest(start=BLOCK1[0], end=BLOCK1[1])
    with database.write() as session:
        PlanRepository(session).upsert(entries=[v2_program().plan[1].model_copy(update={"locked": True})])
    with database.read() as session:
        after = PlanRepository(session).digest(start=BLOCK1[0], end=BLOCK2[1])
        only_block1 = PlanRepository(session).digest(start=BLOCK1[0], end=BLOCK1[1])
        empty = [PlanRepository(session).digest(start=date(2026, m, 1), end=date(2026, m, 2)) for m in (9, 10)]
    assert before != after
    # Only R1-01's block-2 row changed: a range that it does not cover digests the same.
    assert only_block1 == block1_before
    assert empty[0] == empty[1]


def test_a_plan_row_must_not_end_before_it_starts_nor_repeat_a_start(database):
    _save(database, v2_program())
    row = {"person_id": "R1-01", "rotation_id": "NF", "source": "manual", "locked": False}
    with pytest.raises(IntegrityError), database.write() as session:
        session.execute(insert(RotationPlanRow).values(**row, start_date=date(2026, 9, 2), end_date=date(2026, 9, 1)))
    with pytest.raises(IntegrityError), database.write() as session:
        session.execute(insert(RotationPlanRow).values(**row, start_date=BLOCK1[0], end_date=BLOCK1[0]))
