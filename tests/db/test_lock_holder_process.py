"""A schedule-writes holder that is provably gone (killed on this machine) is taken over at once; one
that may still run (alive, or on another machine) keeps its lock until the lease lapses. The same
rule for the Prefect slot's lease holder ids. Both databases."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import timedelta

from sqlalchemy import update

from rotaguard.db import processes
from rotaguard.db.locks import SCHEDULE_WRITES, acquire_lock, lock_holder
from rotaguard.db.tables import OperationLockRow


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _held_by(database, *, host: str, pid: int) -> None:
    assert acquire_lock(database, name=SCHEDULE_WRITES, holder="killed-run", ttl=timedelta(hours=1), wait_seconds=0)
    with database.write() as session:
        session.execute(update(OperationLockRow).values(host=host, pid=pid))


def test_the_lock_of_a_process_gone_on_this_machine_is_taken_at_once(database):
    _held_by(database, host=processes.host_key(), pid=_dead_pid())
    assert lock_holder(database, name=SCHEDULE_WRITES) is None
    assert acquire_lock(database, name=SCHEDULE_WRITES, holder="next", ttl=timedelta(minutes=5), wait_seconds=0)
    with database.read() as session:
        row = session.get(OperationLockRow, SCHEDULE_WRITES)
        assert (row.holder, row.host, row.pid) == ("next", processes.host_key(), os.getpid())


def test_a_live_holder_or_one_on_another_machine_keeps_the_lock(database):
    _held_by(database, host=processes.host_key(), pid=os.getppid())  # alive
    assert not acquire_lock(database, name=SCHEDULE_WRITES, holder="next", ttl=timedelta(minutes=5), wait_seconds=0)
    elsewhere = "another-host" + processes.host_key()[processes.host_key().index(processes.SEPARATOR) :]
    with database.write() as session:
        session.execute(update(OperationLockRow).values(host=elsewhere, pid=_dead_pid()))
    assert lock_holder(database, name=SCHEDULE_WRITES) == "killed-run"
    assert not acquire_lock(database, name=SCHEDULE_WRITES, holder="next", ttl=timedelta(minutes=5), wait_seconds=0)
    with database.write() as session:  # a lock written before holders were recorded
        session.execute(update(OperationLockRow).values(host=None, pid=None))
    assert not acquire_lock(database, name=SCHEDULE_WRITES, holder="next", ttl=timedelta(minutes=5), wait_seconds=0)


def test_a_machine_booted_since_runs_nothing_of_before(database):
    name, namespace, _ = processes.host_key().split(processes.SEPARATOR)
    _held_by(database, host=processes.SEPARATOR.join((name, namespace, "an-earlier-boot")), pid=os.getppid())
    assert acquire_lock(database, name=SCHEDULE_WRITES, holder="next", ttl=timedelta(minutes=5), wait_seconds=0)


def test_lease_holder_ids_name_this_process():
    from rotaguard.flows.slots import holder_gone, holder_id

    mine = holder_id()
    assert mine.version == 8 and holder_id() == mine
    assert not holder_gone(mine) and not holder_gone(holder_id(os.getppid()))
    assert holder_gone(holder_id(_dead_pid()))
    assert not holder_gone(uuid.uuid4()) and not holder_gone(None) and not holder_gone("not a uuid")
    other_machine = uuid.UUID(int=mine.int ^ (1 << 100))  # another host digest, same layout
    assert other_machine.version == 8 and not holder_gone(other_machine)
