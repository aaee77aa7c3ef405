"""Concurrent executions over overlapping assignments: exactly one wins, nothing lost or doubled."""

import threading
import time
from collections import Counter

from sqlalchemy import text

from factories import assignment
from rotaguard.db import AssignmentRepository, AuditLog
from rotaguard.domain import Slot
from rotaguard.domain.swaps import DateRange, SwapKind, SwapStatus
from rotaguard.swaps import SwapRefused, SwapService
from swapdata import Clock, day, seed, swap_program

GIVERS = [f"R2-{n:02d}" for n in range(1, 9)]
TAKER = "R2-09"


def _run_all(calls):
    results, barrier = [None] * len(calls), threading.Barrier(len(calls))

    def run(index, call):
        barrier.wait()
        try:
            results[index] = call()
        except SwapRefused as refused:
            results[index] = refused

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return results


def _state(database):
    with database.read() as session:
        return AssignmentRepository(session).schedule().assignments


def test_eight_swaps_into_one_slot_let_exactly_one_win(database):
    seed(database, swap_program(extra_seniors=6), [assignment(g, day(5), Slot.AM, "WARDS") for g in GIVERS])
    swaps = SwapService(database, clock=Clock(), lock_wait_seconds=120)
    ids = []
    for giver in GIVERS:
        asked = swaps.request(
            actor_id=giver,
            kind=SwapKind.ABSORB,
            person_a=giver,
            person_b=TAKER,
            range_a=DateRange(start=day(5), end=day(5)),
        )
        assert swaps.answer(swap_id=asked.request.id, actor_id=TAKER, accept=True).request.status is SwapStatus.APPROVED
        ids.append(asked.request.id)
    before = _state(database)
    results = _run_all(
        [
            lambda swap_id=swap_id: SwapService(database, clock=Clock()).execute(swap_id=swap_id, actor_id="C-01")
            for swap_id in ids
        ]
    )
    winners = [r for r in results if not isinstance(r, Exception)]
    assert len(winners) == 1 and all(isinstance(r, SwapRefused) for r in results if r not in winners)
    after = _state(database)
    holders = Counter(a.person_id for a in after)
    assert len(after) == len(before) == 8  # nothing lost, nothing doubled
    assert holders[TAKER] == 1 and sum(holders.values()) == 8
    with database.read() as session:
        assert AuditLog(session).verify().ok
        assert [e.action for e in AuditLog(session).events()].count("swap.execute") == 1


def test_one_swap_executed_eight_times_at_once_moves_once(database):
    seed(database)
    swaps = SwapService(database, clock=Clock(), lock_wait_seconds=120)
    asked = swaps.request(
        actor_id="R2-01",
        kind=SwapKind.ABSORB,
        person_a="R2-01",
        person_b="R2-03",
        range_a=DateRange(start=day(0), end=day(0)),
    )
    swaps.answer(swap_id=asked.request.id, actor_id="R2-03", accept=True)
    before = len(_state(database))
    results = _run_all(
        [
            lambda: SwapService(database, clock=Clock()).execute(swap_id=asked.request.id, actor_id="R2-01")
            for _ in range(8)
        ]
    )
    assert not any(isinstance(r, Exception) for r in results), results
    assert sum(1 for r in results if r.changed) == 1
    assert len(_state(database)) == before


def test_concurrent_requests_all_land_on_one_audit_chain(database):
    # Requests are not under the schedule-writes lock: on PostgreSQL each used to read the same
    # tail of the hash chain, and all but one failed on the unique prev_hash with a traceback.
    seed(database, swap_program(extra_seniors=6), [assignment(g, day(5), Slot.AM, "WARDS") for g in GIVERS])
    swaps = SwapService(database, clock=Clock())
    results = _run_all(
        [
            lambda giver=giver: swaps.request(
                actor_id=giver,
                kind=SwapKind.ABSORB,
                person_a=giver,
                person_b=TAKER,
                range_a=DateRange(start=day(5), end=day(5)),
            )
            for giver in GIVERS
        ]
    )
    assert all(r.request.status is SwapStatus.PENDING for r in results), results
    with database.read() as session:
        assert AuditLog(session).verify().ok
        assert [e.action for e in AuditLog(session).events()].count("swap.request") == len(GIVERS)


def test_requests_racing_for_one_duty_store_only_one(database):
    # "No other open swap covers these duties" was checked, then the request stored, with nothing
    # between them: racing requests for the same duty could all pass the check.
    takers = ["R2-02", "R2-03", "R3-01", "R2-04", "R2-05", "R2-06"]
    seed(database, swap_program(extra_seniors=3), [assignment("R2-01", day(5), Slot.AM, "WARDS")])
    swaps = SwapService(database, clock=Clock())
    results = _run_all(
        [
            lambda taker=taker: swaps.request(
                actor_id="R2-01",
                kind=SwapKind.ABSORB,
                person_a="R2-01",
                person_b=taker,
                range_a=DateRange(start=day(5), end=day(5)),
            )
            for taker in takers
        ]
    )
    stored = [r for r in results if not isinstance(r, Exception)]
    assert len(stored) == 1, results
    assert all("already covers some of these assignments" in str(r) for r in results if r not in stored)
    with database.read() as session:
        assert [e.action for e in AuditLog(session).events()].count("swap.request") == 1


def _waiters_on_a_lock(database) -> int:
    with database.read() as session:
        query = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        return session.execute(text(query)).scalar_one()


def test_a_request_outlasts_another_writer_extending_the_audit_chain(database):
    # A generation or a backup appends audit events without the swaps' own serialization: the
    # request that read the same chain tail is rolled back by the unique prev_hash and run again.
    seed(database)
    swaps = SwapService(database, clock=Clock())
    box = {}

    def ask():
        try:
            box["result"] = swaps.request(
                actor_id="R2-01",
                kind=SwapKind.ABSORB,
                person_a="R2-01",
                person_b="R2-03",
                range_a=DateRange(start=day(0), end=day(0)),
            )
        except Exception as error:  # the assertion below shows it
            box["result"] = error

    requester = threading.Thread(target=ask)
    with database.write() as session:
        AuditLog(session).append(actor="rotaguard", action="schedule.write", subject="another-writer")
        requester.start()
        if database.kind == "postgresql":  # SQLite's BEGIN IMMEDIATE simply waits for this commit
            waited_for = 0.0
            while not _waiters_on_a_lock(database):
                assert waited_for < 60, "the request never reached the audit chain"
                time.sleep(0.05)
                waited_for += 0.05
    requester.join(timeout=120)
    assert not isinstance(box["result"], Exception), box["result"]
    assert box["result"].request.status is SwapStatus.PENDING
    with database.read() as session:
        assert AuditLog(session).verify().ok
        actions = [e.action for e in reversed(AuditLog(session).events())]
    assert actions[-2:] == ["schedule.write", "swap.request"]
