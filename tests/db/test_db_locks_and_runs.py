import threading
from datetime import date, timedelta

from factories import assignment, program
from rotaguard.db import AssignmentRepository, ProgramRepository
from rotaguard.db.locks import SCHEDULE_WRITES, acquire_lock, lock_holder, release_lock
from rotaguard.db.runs import ScheduleRunRepository
from rotaguard.domain import AssignmentSource, Slot

DAY = date(2026, 3, 12)


def test_lock_excludes_a_second_holder_until_released(database):
    assert acquire_lock(database, name=SCHEDULE_WRITES, holder="run-a", ttl=timedelta(minutes=5), wait_seconds=0)
    assert not acquire_lock(database, name=SCHEDULE_WRITES, holder="run-b", ttl=timedelta(minutes=5), wait_seconds=0.3)
    assert lock_holder(database, name=SCHEDULE_WRITES) == "run-a"
    assert not release_lock(database, name=SCHEDULE_WRITES, holder="run-b")
    assert release_lock(database, name=SCHEDULE_WRITES, holder="run-a")
    assert acquire_lock(database, name=SCHEDULE_WRITES, holder="run-b", ttl=timedelta(minutes=5), wait_seconds=0)


def test_an_expired_lock_is_taken_over(database):
    assert acquire_lock(database, name=SCHEDULE_WRITES, holder="dead-run", ttl=timedelta(seconds=-1), wait_seconds=0)
    assert lock_holder(database, name=SCHEDULE_WRITES) is None
    assert acquire_lock(database, name=SCHEDULE_WRITES, holder="run-b", ttl=timedelta(minutes=5), wait_seconds=0)


def test_concurrent_acquirers_get_exactly_one_lock(database_url):
    from rotaguard.db import Database

    winners = []

    def contend(name):
        db = Database(database_url)
        if acquire_lock(db, name=SCHEDULE_WRITES, holder=name, ttl=timedelta(minutes=5), wait_seconds=0):
            winners.append(name)
        db.dispose()

    threads = [threading.Thread(target=contend, args=(f"run-{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1


def _seed(database):
    with database.write() as session:
        ProgramRepository(session).save(program=program(), rule_overrides={})
        AssignmentRepository(session).upsert(
            assignments=[
                assignment(day=DAY, locked=True),
                assignment(day=DAY, slot=Slot.PM),
                assignment("R2-01", DAY + timedelta(days=5)),
            ]
        )


def test_replace_range_keeps_locked_rows_and_outside_range(database):
    _seed(database)
    new = [
        assignment("R2-01", DAY, Slot.AM, source=AssignmentSource.SOLVER),
        assignment(day=DAY, slot=Slot.AM, source=AssignmentSource.SOLVER),
    ]
    with database.write() as session:
        counts = ScheduleRunRepository(session).create(
            run_id="r1", start=DAY, end=DAY + timedelta(days=1), algorithm="cp_sat"
        )
        assert counts.status == "running"
        result = AssignmentRepository(session).replace_range(
            start=DAY, end=DAY + timedelta(days=1), assignments=new, run_id="r1"
        )
    assert (result.created, result.updated) == (1, 1)  # R1-01 AM is locked: kept, not overwritten
    with database.read() as session:
        rows = {(a.person_id, a.date, a.slot, a.locked) for a in AssignmentRepository(session).schedule().assignments}
    assert rows == {
        ("R1-01", DAY, Slot.AM, True),
        ("R2-01", DAY, Slot.AM, False),
        ("R2-01", DAY + timedelta(days=5), Slot.AM, False),
    }


def test_range_digest_changes_with_the_range_only(database):
    _seed(database)
    with database.read() as session:
        before = AssignmentRepository(session).digest(start=DAY, end=DAY)
    with database.write() as session:
        AssignmentRepository(session).upsert(assignments=[assignment("R2-01", DAY + timedelta(days=3))])
    with database.read() as session:
        assert AssignmentRepository(session).digest(start=DAY, end=DAY) == before
    with database.write() as session:
        AssignmentRepository(session).upsert(assignments=[assignment("R2-01", DAY, Slot.PM)])
    with database.read() as session:
        assert AssignmentRepository(session).digest(start=DAY, end=DAY) != before


def test_runs_in_flight_are_found(database):
    with database.write() as session:
        runs = ScheduleRunRepository(session)
        runs.create(run_id="a", start=DAY, end=DAY, algorithm="cp_sat")
        runs.create(run_id="b", start=DAY, end=DAY, algorithm="cp_sat")
        runs.update(run_id="a", status="writing", metrics={"pre_digest": "x"})
        runs.update(run_id="b", status="published")
    with database.read() as session:
        flight = ScheduleRunRepository(session).in_flight()
        assert [r.id for r in flight] == ["a"] and flight[0].metrics == {"pre_digest": "x"}
        assert ScheduleRunRepository(session).get(run_id="b").finished_at is not None
