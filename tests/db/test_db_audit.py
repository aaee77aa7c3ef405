import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from audit_tamper import triggers_bypassed
from rotaguard.db import AuditLog
from rotaguard.db.audit import GENESIS_HASH
from rotaguard.db.tables import AuditEventRow


def _append(database, n: int) -> None:
    for index in range(n):
        with database.write() as session:
            AuditLog(session).append(
                actor="coordinator", action="test.event", subject=f"s{index}", details={"n": index, "ünï": "cödé"}
            )


def test_chain_links_every_event(database):
    _append(database, 3)
    with database.read() as session:
        log = AuditLog(session)
        events = list(reversed(log.events()))
        assert log.verify().ok and log.verify().events == 3
    assert events[0].prev_hash == GENESIS_HASH
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]


def test_editing_an_event_breaks_the_chain(database):
    _append(database, 3)
    with triggers_bypassed(database) as session:
        session.execute(update(AuditEventRow).where(AuditEventRow.id == 2).values(details={"n": 99}))
    with database.read() as session:
        check = AuditLog(session).verify()
    assert not check.ok and check.first_bad_id == 2 and "altered" in check.reason


def test_removing_an_event_breaks_the_chain(database):
    _append(database, 3)
    with triggers_bypassed(database) as session:
        session.delete(session.get(AuditEventRow, 2))
    with database.read() as session:
        check = AuditLog(session).verify()
    assert not check.ok and check.first_bad_id == 3 and "does not follow" in check.reason


def test_a_fork_of_the_chain_is_refused(database):
    _append(database, 1)
    with pytest.raises(IntegrityError):
        with database.write() as session:
            tail = session.get(AuditEventRow, 1)
            session.add(
                AuditEventRow(
                    occurred_at=tail.occurred_at,
                    actor="x",
                    action="fork",
                    subject="",
                    details={},
                    prev_hash=tail.prev_hash,
                    hash="f" * 64,
                )
            )
            session.flush()


def test_concurrent_writers_each_extend_the_chain_once(database):
    """Sixteen transactions appending at once (a generation, backups, swaps side by side): each
    commits its event, none is refused for reading the same tail, and the chain verifies."""
    import threading

    barrier = threading.Barrier(16)
    failures: list[BaseException] = []

    def write(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            with database.write() as session:
                AuditLog(session).append(actor=f"writer-{n}", action="test.concurrent", subject=str(n))
        except BaseException as error:  # collected for the assertion below
            failures.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    with database.read() as session:
        log = AuditLog(session)
        assert sorted(e.subject for e in log.events()) == sorted(str(n) for n in range(16))
        assert log.verify().ok
