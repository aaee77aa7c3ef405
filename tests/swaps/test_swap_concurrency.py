"""Concurrent executions over overlapping assignments: exactly one wins, nothing lost or doubled."""

import threading
from collections import Counter

from rotaguard.db import AssignmentRepository, AuditLog
from rotaguard.domain import Slot
from rotaguard.domain.swaps import DateRange, SwapKind, SwapStatus
from rotaguard.swaps import SwapRefused, SwapService
from swapdata import Clock, day, seed, swap_program
from factories import assignment

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
        asked = swaps.request(actor_id=giver, kind=SwapKind.ABSORB, person_a=giver, person_b=TAKER, range_a=DateRange(start=day(5), end=day(5)))
        assert swaps.answer(swap_id=asked.request.id, actor_id=TAKER, accept=True).request.status is SwapStatus.APPROVED
        ids.append(asked.request.id)
    before = _state(database)
    results = _run_all([lambda swap_id=swap_id: SwapService(database, clock=Clock()).execute(swap_id=swap_id, actor_id="C-01") for swap_id in ids])
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
    asked = swaps.request(actor_id="R2-01", kind=SwapKind.ABSORB, person_a="R2-01", person_b="R2-03", range_a=DateRange(start=day(0), end=day(0)))
    swaps.answer(swap_id=asked.request.id, actor_id="R2-03", accept=True)
    before = len(_state(database))
    results = _run_all([lambda: SwapService(database, clock=Clock()).execute(swap_id=asked.request.id, actor_id="R2-01") for _ in range(8)])
    assert not any(isinstance(r, Exception) for r in results), results
    assert sum(1 for r in results if r.changed) == 1
    assert len(_state(database)) == before
