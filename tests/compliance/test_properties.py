"""Invariants over random schedules (hypothesis)."""

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factories import BLOCK_START, assignment, program, resident
from rotaguard.compliance import validate
from rotaguard.domain import Credential, Schedule, Slot

PEOPLE = ("R1-01", "R2-01")
PROGRAM = program(
    people=(resident(), resident("R2-01", pgy=2, credentials=(Credential(name="BLS"), Credential(name="ACLS"))))
)
MONOTONE_RULES = {
    "acgme.hours.max_80_per_week",
    "acgme.days_off.one_in_seven",
    "acgme.call.every_third_night",
    "acgme.call.consecutive_nights",
}

slots = st.tuples(st.sampled_from(PEOPLE), st.integers(0, 40), st.sampled_from(list(Slot)))


def _schedule(keys) -> Schedule:
    unique = {}
    for person, offset, slot in keys:
        rotation = "NIGHT" if slot is Slot.CALL else "WARDS"
        unique[(person, offset, slot)] = assignment(person, BLOCK_START + timedelta(days=offset), slot, rotation)
    return Schedule(assignments=tuple(unique.values()))


def _report(schedule):
    return validate(schedule, PROGRAM, start=BLOCK_START, end=BLOCK_START + timedelta(days=40), resilience=False)


def _hours(report, person):
    return next(p.hours for p in report.metrics.people if p.person_id == person)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(slots, max_size=60), slots)
def test_adding_an_assignment_never_lowers_hours(keys, extra):
    before = _report(_schedule(keys))
    after = _report(_schedule([*keys, extra]))
    for person in PEOPLE:
        assert _hours(after, person) >= _hours(before, person)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(slots, min_size=1, max_size=80), st.data())
def test_removing_an_assignment_never_adds_hours_call_or_days_off_violations(keys, data):
    schedule = _schedule(keys)
    removed = data.draw(st.sampled_from(schedule.assignments))
    smaller = Schedule(assignments=tuple(a for a in schedule.assignments if a != removed))

    def measured(report):
        return {(v.rule_id, v.person_id): v.measured for v in report.violations if v.rule_id in MONOTONE_RULES}

    before, after = measured(_report(schedule)), measured(_report(smaller))
    assert set(after) <= set(before)
