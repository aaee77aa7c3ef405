from datetime import date

from factories import absence, assignment, call_rotation, faculty, program, resident, session_rotation
from rotaguard.db import AssignmentRepository, ProgramRepository
from rotaguard.domain import AssignmentSource, Credential, RuleParams, Slot


def _save(database, prog, overrides=None):
    with database.write() as session:
        return ProgramRepository(session).save(program=prog, rule_overrides=overrides or {})


def _load(database):
    with database.read() as session:
        return ProgramRepository(session).load()


def test_load_before_any_save_is_none(database):
    assert _load(database) is None


def test_program_round_trips_through_the_database(database):
    original = program(
        absences=(absence(start=date(2026, 3, 15), end=date(2026, 3, 20)),),
        rules=RuleParams(max_hours_per_week=72, strict_one_in_seven=True),
    )
    _save(database, original, {"max_hours_per_week": 72, "strict_one_in_seven": True})
    loaded = _load(database)
    assert loaded.people == tuple(sorted(original.people, key=lambda p: p.id))
    assert loaded.rotations == tuple(sorted(original.rotations, key=lambda r: r.id))
    assert loaded.absences == original.absences
    assert loaded.staff == tuple(sorted(original.staff, key=lambda s: s.id)) and loaded.staff
    assert loaded.rules == original.rules
    assert (loaded.name, loaded.timezone, loaded.slots, loaded.block_anchor) == (
        original.name,
        original.timezone,
        original.slots,
        original.block_anchor,
    )


def test_saving_twice_changes_nothing(database):
    _save(database, program(absences=(absence(),)))
    changes = _save(database, program(absences=(absence(),)))
    assert changes.as_dict() == {
        "settings": {"created": 0, "updated": 0, "unchanged": 1},
        "people": {"created": 0, "updated": 0, "unchanged": 3},
        "rotations": {"created": 0, "updated": 0, "unchanged": 2},
        "absences": {"created": 0, "updated": 0, "unchanged": 1},
        "staff": {"created": 0, "updated": 0, "unchanged": 2},
    }


def test_changes_are_counted_and_stored(database):
    _save(database, program())
    changed = program(
        people=(
            resident(credentials=(Credential(name="BLS", expires=date(2027, 1, 1)),)),
            resident("R2-01", pgy=3),
            faculty(name="Faculty Renamed"),
            resident("R3-09", pgy=3),
        ),
        rotations=(session_rotation(supervised=False), call_rotation()),
    )
    changes = _save(database, changed)
    assert changes.people.as_dict() == {"created": 1, "updated": 3, "unchanged": 0}
    assert changes.rotations.as_dict() == {"created": 0, "updated": 1, "unchanged": 1}
    loaded = _load(database)
    assert loaded.person("R1-01").credentials == (Credential(name="BLS", expires=date(2027, 1, 1)),)
    assert loaded.person("R2-01").pgy == 3
    assert loaded.person("R2-01").credentials == (Credential(name="BLS"),)  # ACLS removed
    assert loaded.person("F-01").name == "Faculty Renamed"
    assert not loaded.rotation("WARDS").supervised


def test_save_never_deletes_what_it_omits(database):
    _save(database, program())
    _save(database, program(people=(resident(),), rotations=(session_rotation(),)))
    loaded = _load(database)
    assert {p.id for p in loaded.people} == {"R1-01", "R2-01", "F-01"}
    assert {r.id for r in loaded.rotations} == {"WARDS", "NIGHT"}


def test_assignment_upsert_and_range_queries(database):
    _save(database, program())
    days = [date(2026, 3, 12), date(2026, 3, 13), date(2026, 3, 14)]
    with database.write() as session:
        counts = AssignmentRepository(session).upsert(assignments=[assignment(day=d) for d in days])
    assert counts.as_dict() == {"created": 3, "updated": 0, "unchanged": 0}
    with database.write() as session:
        repository = AssignmentRepository(session)
        counts = repository.upsert(
            assignments=[assignment(day=days[0], locked=True, source=AssignmentSource.MANUAL), assignment(day=days[1])]
        )
    assert counts.as_dict() == {"created": 0, "updated": 1, "unchanged": 1}
    with database.read() as session:
        repository = AssignmentRepository(session)
        whole = repository.schedule()
        middle = repository.schedule(start=days[1], end=days[1])
        assert repository.count(start=days[1]) == 2
        assert repository.date_range() == (days[0], days[2])
    assert [a.date for a in whole.assignments] == days
    assert whole.assignments[0].locked and whole.assignments[0].source is AssignmentSource.MANUAL
    assert [a.date for a in middle.assignments] == [days[1]]
    # A v1 shift id comes back as the plain string it is stored as.
    assert middle.assignments[0].slot == Slot.AM and type(middle.assignments[0].slot) is str
