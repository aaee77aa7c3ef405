import threading
import time

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from factories import program
from rotaguard.db import Database, ProgramRepository
from rotaguard.db.tables import AssignmentRow, PersonRow


def _person_count(database: Database) -> int:
    with database.read() as session:
        return len(session.scalars(select(PersonRow)).all())


def test_write_commits_as_one_transaction(database):
    with database.write() as session:
        ProgramRepository(session).save(program=program(), rule_overrides={})
    assert _person_count(database) == 3


def test_error_rolls_back_every_statement(database):
    with pytest.raises(RuntimeError):
        with database.write() as session:
            ProgramRepository(session).save(program=program(), rule_overrides={})
            session.flush()
            raise RuntimeError("failure after the rows were sent")
    assert _person_count(database) == 0


def test_database_enforces_one_assignment_per_person_slot(database):
    with database.write() as session:
        ProgramRepository(session).save(program=program(), rule_overrides={})
    from datetime import date

    with pytest.raises(IntegrityError):
        with database.write() as session:
            for rotation in ("WARDS", "NIGHT"):
                session.add(
                    AssignmentRow(
                        person_id="R1-01",
                        date=date(2026, 3, 12),
                        slot="AM",
                        rotation_id=rotation,
                        source="manual",
                        locked=False,
                    )
                )
            session.flush()


def test_foreign_keys_are_enforced(database):
    from datetime import date

    with pytest.raises(IntegrityError):
        with database.write() as session:
            session.add(
                AssignmentRow(
                    person_id="NOBODY",
                    date=date(2026, 3, 12),
                    slot="AM",
                    rotation_id="WARDS",
                    source="manual",
                    locked=False,
                )
            )
            session.flush()


def test_sqlite_uses_wal(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'x.db'}")
    with database.read() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
    database.dispose()


def test_sqlite_writer_takes_the_write_lock_at_begin(tmp_path):
    """BEGIN IMMEDIATE: a second writer waits for the first instead of failing mid-transaction."""
    url = f"sqlite:///{tmp_path / 'x.db'}"
    database = Database(url)
    with database.write() as session:
        session.execute(text("CREATE TABLE counter (n INTEGER)"))
        session.execute(text("INSERT INTO counter VALUES (0)"))
    events: list[str] = []
    first_has_lock = threading.Event()

    def first_writer():
        with database.write() as session:
            session.execute(text("SELECT n FROM counter")).scalar()
            first_has_lock.set()
            time.sleep(0.5)
            session.execute(text("UPDATE counter SET n = n + 1"))
            events.append("first committed")

    thread = threading.Thread(target=first_writer)
    thread.start()
    first_has_lock.wait(5)
    # A reader is not blocked by the writer (WAL) and sees the committed value.
    with database.read() as session:
        assert session.execute(text("SELECT n FROM counter")).scalar() == 0
    second = Database(url)
    with second.write() as session:
        session.execute(text("UPDATE counter SET n = n + 1"))
        events.append("second wrote")
    thread.join()
    assert events == ["first committed", "second wrote"]
    with database.read() as session:
        assert session.execute(text("SELECT n FROM counter")).scalar() == 2
    database.dispose()
    second.dispose()
