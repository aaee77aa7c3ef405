"""Swaps over a real database (SQLite and PostgreSQL): request, answer, approve, execute, roll back."""

from datetime import timedelta

import pytest

from rotaguard.db import AssignmentRepository, AuditLog
from rotaguard.domain import Slot
from rotaguard.domain.swaps import DateRange, SwapKind, SwapStatus
from rotaguard.swaps import SwapDenied, SwapRefused
from swapdata import day


def span(first: int, last: int | None = None) -> DateRange:
    return DateRange(start=day(first), end=day(last if last is not None else first))


def holder(database, when, slot):
    with database.read() as session:
        return sorted(
            a.person_id
            for a in AssignmentRepository(session).schedule(start=when, end=when).assignments
            if a.slot == slot
        )


def actions(database):
    with database.read() as session:
        log = AuditLog(session)
        assert log.verify().ok
        return [e.action for e in reversed(log.events())]


def absorb(swaps, *, giver="R2-01", taker="R2-03", days=(0, 0), actor=None):
    return swaps.request(
        actor_id=actor or giver, kind=SwapKind.ABSORB, person_a=giver, person_b=taker, range_a=span(*days)
    )


def test_absorb_is_requested_accepted_executed_and_rolled_back(swaps, database, clock):
    asked = absorb(swaps)
    assert asked.request.status is SwapStatus.PENDING and asked.request.deadline == clock.now + timedelta(hours=48)
    accepted = swaps.answer(swap_id=asked.request.id, actor_id="R2-03", accept=True)
    assert accepted.request.status is SwapStatus.APPROVED, accepted.message
    executed = swaps.execute(swap_id=asked.request.id, actor_id="R2-01")
    assert executed.request.status is SwapStatus.EXECUTED and len(executed.moves) == 1
    assert holder(database, day(0), Slot.CALL) == ["R2-03"]
    again = swaps.execute(swap_id=asked.request.id, actor_id="R2-01")
    assert not again.changed and "already executed" in again.message
    clock.now += timedelta(hours=3)
    rolled = swaps.rollback(swap_id=asked.request.id, actor_id="R2-01")
    assert rolled.request.status is SwapStatus.ROLLED_BACK
    assert holder(database, day(0), Slot.CALL) == ["R2-01"]
    second = swaps.rollback(swap_id=asked.request.id, actor_id="R2-01")
    assert not second.changed and "already rolled back" in second.message
    assert actions(database) == ["swap.request", "swap.accept", "swap.validate", "swap.execute", "swap.rollback"]


def test_one_to_one_exchanges_both_ranges(swaps, database):
    asked = swaps.request(
        actor_id="R2-02", kind=SwapKind.ONE_TO_ONE, person_a="R2-02", person_b="R3-01", range_a=span(1), range_b=span(2)
    )
    accepted = swaps.answer(swap_id=asked.request.id, actor_id="R3-01", accept=True)
    assert accepted.request.status is SwapStatus.APPROVED, accepted.message
    swaps.execute(swap_id=asked.request.id, actor_id="C-01")
    assert holder(database, day(1), Slot.CALL) == ["R3-01"]
    assert holder(database, day(2), Slot.CALL) == ["R2-02"]
    assert holder(database, day(4), Slot.PM) == ["R2-02"]  # outside both ranges: stays


def test_a_tier1_break_is_refused_at_request_naming_the_rule(swaps, database):
    with pytest.raises(SwapRefused, match="acgme.call.consecutive_nights"):
        absorb(swaps, giver="R2-02", taker="R2-01", days=(1, 1))  # R2-01 has call the night before
    assert actions(database) == []


def test_a_tier2_warning_needs_a_coordinators_approval(swaps, database):
    # R2-03 comes off call at 07:00 on day 4; R2-02's ward afternoon starts at 13:00: 6 h of rest.
    asked = absorb(swaps, giver="R2-02", taker="R2-03", days=(4, 4))
    accepted = swaps.answer(swap_id=asked.request.id, actor_id="R2-03", accept=True)
    assert accepted.request.status is SwapStatus.NEEDS_APPROVAL
    assert "acgme.rest.between_duties" in accepted.message
    with pytest.raises(SwapRefused, match="only an approved swap"):
        swaps.execute(swap_id=asked.request.id, actor_id="R2-02")
    with pytest.raises(SwapDenied):
        swaps.decide(swap_id=asked.request.id, actor_id="R2-03", approve=True)
    approved = swaps.decide(swap_id=asked.request.id, actor_id="C-01", approve=True, comment="one-off")
    assert approved.request.status is SwapStatus.APPROVED
    swaps.execute(swap_id=asked.request.id, actor_id="R2-02")
    assert holder(database, day(4), Slot.PM) == ["R2-03"]
    assert "swap.denied" in actions(database)


def test_decline_and_expiry(swaps, database, clock):
    declined = absorb(swaps)
    assert (
        swaps.answer(swap_id=declined.request.id, actor_id="R2-03", accept=False).request.status is SwapStatus.DECLINED
    )
    late = absorb(swaps)
    clock.now += timedelta(hours=48)
    with pytest.raises(SwapRefused, match="expired, not pending"):
        swaps.answer(swap_id=late.request.id, actor_id="R2-03", accept=True)
    statuses = {r.id: r.status for r in swaps.list(actor_id="C-01")}
    assert statuses == {declined.request.id: SwapStatus.DECLINED, late.request.id: SwapStatus.EXPIRED}
    assert holder(database, day(0), Slot.CALL) == ["R2-01"]


def test_only_person_b_answers_and_staff_answer_on_their_behalf(swaps, database):
    asked = absorb(swaps)
    with pytest.raises(SwapDenied):
        swaps.answer(swap_id=asked.request.id, actor_id="R2-02", accept=True)
    answered = swaps.answer(swap_id=asked.request.id, actor_id="C-01", accept=True)
    with database.read() as session:
        event = next(e for e in AuditLog(session).events() if e.action == "swap.accept")
    assert answered.request.status is SwapStatus.APPROVED
    assert event.actor == "C-01" and event.details["on_behalf_of"] == "R2-03"


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"actor_id": "R2-01", "person_a": "R2-01", "person_b": "R2-03", "range_a": span(5)}, "has no assignments"),
        ({"actor_id": "R2-01", "person_a": "R2-01", "person_b": "NOBODY", "range_a": span(0)}, "no person 'NOBODY'"),
        ({"actor_id": "R2-02", "person_a": "R2-01", "person_b": "R2-03", "range_a": span(0)}, "may not request"),
        (
            {"actor_id": "GHOST", "person_a": "R2-01", "person_b": "R2-03", "range_a": span(0)},
            "'GHOST' is not an active person or staff member",
        ),
        (
            {"actor_id": "R2-01", "person_a": "R2-01", "person_b": "R2-01", "range_a": span(0)},
            "cannot swap with themselves",
        ),
    ],
)
def test_bad_requests_are_refused_with_the_reason_and_store_nothing(swaps, arguments, message):
    with pytest.raises(SwapRefused, match=message):
        swaps.request(kind=SwapKind.ABSORB, **arguments)
    assert swaps.list(actor_id="C-01") == []


def test_past_dates_absences_and_overlapping_requests_are_refused(swaps, database, clock):
    start = clock.now
    clock.now = start + timedelta(days=6)  # the swapped day itself: too late
    with pytest.raises(SwapRefused, match="not in the future"):
        absorb(swaps)
    clock.now = start
    absorb(swaps)
    with pytest.raises(SwapRefused, match="already covers"):
        absorb(swaps, taker="R3-01")


def test_absent_receiver_is_refused(database, clock):
    from rotaguard.domain import Absence
    from rotaguard.swaps import SwapService
    from swapdata import seed, swap_program

    program = swap_program()
    seed(
        database,
        program.model_copy(
            update={"absences": (Absence(person_id="R2-03", start=day(0), end=day(0), kind="vacation"),)}
        ),
    )
    with pytest.raises(SwapRefused, match="absent|schedule.absence"):
        absorb(SwapService(database, clock=clock))


def test_an_open_request_ranks_candidates_and_one_of_them_takes_it(swaps, database):
    asked = swaps.request(actor_id="R2-01", kind=SwapKind.ABSORB, person_a="R2-01", range_a=span(0))
    ranked = [c.person_id for c in asked.candidates]
    assert "R1-01" not in ranked  # PGY-1: not eligible for call
    assert "R2-02" not in ranked  # on call the next night: consecutive calls
    assert ranked and set(ranked) <= {"R2-03", "R3-01"}
    assert all(
        0 <= c.score <= 1 and set(c.parts) == {"proximity", "same_rotation", "workload", "history"}
        for c in asked.candidates
    )
    assert [c.person_id for c in swaps.candidates(swap_id=asked.request.id, actor_id="R2-01")] == ranked
    taken = swaps.answer(swap_id=asked.request.id, actor_id=ranked[0], accept=True)
    assert taken.request.person_b == ranked[0] and taken.request.status is SwapStatus.APPROVED


def test_rollback_refused_when_the_assignments_changed_since(swaps, database, clock):
    asked = absorb(swaps)
    swaps.answer(swap_id=asked.request.id, actor_id="R2-03", accept=True)
    swaps.execute(swap_id=asked.request.id, actor_id="R2-01")
    from sqlalchemy import update

    from rotaguard.db.tables import AssignmentRow

    with database.write() as session:
        session.execute(
            update(AssignmentRow)
            .where(AssignmentRow.person_id == "R2-03", AssignmentRow.date == day(0))
            .values(locked=True)
        )
    with pytest.raises(SwapRefused, match="changed since"):
        swaps.rollback(swap_id=asked.request.id, actor_id="R2-01")


@pytest.mark.parametrize("actor, allowed", [("R2-03", False), ("C-01", False), ("A-01", True), ("R2-01", True)])
def test_rollback_belongs_to_the_requester_or_an_admin(swaps, actor, allowed):
    asked = absorb(swaps)
    swaps.answer(swap_id=asked.request.id, actor_id="R2-03", accept=True)
    swaps.execute(swap_id=asked.request.id, actor_id="R2-01")
    if allowed:
        assert swaps.rollback(swap_id=asked.request.id, actor_id=actor).request.status is SwapStatus.ROLLED_BACK
    else:
        with pytest.raises(SwapDenied):
            swaps.rollback(swap_id=asked.request.id, actor_id=actor)


@pytest.mark.parametrize(
    "after, allowed",
    [
        (timedelta(0), True),
        (timedelta(hours=23, minutes=59, seconds=59), True),
        (timedelta(hours=24), False),
        (timedelta(hours=24, seconds=1), False),
    ],
)
def test_the_rollback_window_is_exactly_24_hours(swaps, clock, after, allowed):
    asked = absorb(swaps)
    swaps.answer(swap_id=asked.request.id, actor_id="R2-03", accept=True)
    executed = swaps.execute(swap_id=asked.request.id, actor_id="R2-01")
    assert executed.request.executed_at == clock.now
    clock.now = executed.request.executed_at + after
    if allowed:
        assert swaps.rollback(swap_id=asked.request.id, actor_id="R2-01").request.status is SwapStatus.ROLLED_BACK
    else:
        with pytest.raises(SwapRefused, match="24-hour window closed"):
            swaps.rollback(swap_id=asked.request.id, actor_id="R2-01")


@pytest.mark.parametrize("local_next_day, allowed", [("12:30", True), ("13:00", False)])
def test_the_window_is_24_real_hours_across_a_daylight_saving_change(database, local_next_day, allowed):
    """Executed at 12:00 EST on 13 March 2027; clocks spring forward that night, so 24 real hours
    later it is 13:00 EDT. At 12:30 local only 23.5 h have passed (a wall-clock window would be
    shut); at 13:00 it is shut."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from factories import assignment
    from rotaguard.domain import Slot
    from rotaguard.swaps import SwapService
    from swapdata import Clock, seed

    zone = ZoneInfo("America/New_York")
    march = datetime(2027, 3, 13, 12, 0, tzinfo=zone)
    seed(database, assignments=[assignment("R2-01", march.date() + timedelta(days=10), Slot.CALL, "NIGHT")])
    clock = Clock(march)
    swaps = SwapService(database, clock=clock)
    asked = swaps.request(
        actor_id="R2-01",
        kind=SwapKind.ABSORB,
        person_a="R2-01",
        person_b="R2-03",
        range_a=DateRange(start=march.date() + timedelta(days=10), end=march.date() + timedelta(days=10)),
    )
    swaps.answer(swap_id=asked.request.id, actor_id="R2-03", accept=True)
    swaps.execute(swap_id=asked.request.id, actor_id="R2-01")
    hour, minute = map(int, local_next_day.split(":"))
    clock.now = datetime(2027, 3, 14, hour, minute, tzinfo=zone)
    if allowed:
        assert swaps.rollback(swap_id=asked.request.id, actor_id="R2-01").changed
    else:
        with pytest.raises(SwapRefused, match="24-hour window closed"):
            swaps.rollback(swap_id=asked.request.id, actor_id="R2-01")


def test_the_database_clock_is_the_default(database):
    from datetime import UTC, datetime

    from rotaguard.db.swaps import database_now

    with database.read() as session:
        now = database_now(session)
    assert now.tzinfo is not None and abs((now - datetime.now(UTC)).total_seconds()) < 120


def test_an_open_request_is_readable_by_whoever_may_take_it(swaps):
    open_request = swaps.request(actor_id="R2-01", kind=SwapKind.ABSORB, person_a="R2-01", range_a=span(0))
    assert swaps.get(swap_id=open_request.request.id, actor_id="R3-01").id == open_request.request.id
    named = absorb(swaps, giver="R2-02", taker="R2-03", days=(4, 4))
    with pytest.raises(SwapDenied):
        swaps.get(swap_id=named.request.id, actor_id="R3-01")
