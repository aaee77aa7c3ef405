"""Eligibility, absences, credentials, supervision, staffing and fairness rules."""

from datetime import date, timedelta

import pytest

from factories import BLOCK_START, absence, assignment, call_rotation, faculty, program, resident, session_rotation
from rotaguard.compliance import RULES, check_rule, validate
from rotaguard.domain import Credential, ResidentStaffing, Schedule, Slot, Staffing

ACLS_UNTIL = (Credential(name="BLS"), Credential(name="ACLS", expires=BLOCK_START))


def check(rule_id, assignments, prog=None, start=BLOCK_START, end=None):
    prog = prog or program()
    return check_rule(
        rule_id, Schedule(assignments=tuple(assignments)), prog, start=start, end=end or start + timedelta(days=27)
    )


def test_every_rule_is_registered_with_tier_and_citation():
    assert len(RULES) >= 18
    for rule in RULES.values():
        assert rule.tier in (1, 2) and rule.cites and rule.title
    for acgme_rule in (r for r in RULES.values() if r.id.startswith("acgme.")):
        assert "VI.F" in acgme_rule.cites and "6.2" in acgme_rule.cites, acgme_rule.id


def test_credential_valid_through_expiry_day_then_not():
    prog = program(people=(resident("R2-01", pgy=2, credentials=ACLS_UNTIL),))
    on_expiry = assignment("R2-01", BLOCK_START, Slot.CALL, "NIGHT")
    assert check("schedule.credentials", [on_expiry], prog) == []
    day_after = assignment("R2-01", BLOCK_START + timedelta(days=1), Slot.CALL, "NIGHT")
    found = check("schedule.credentials", [day_after], prog)
    assert len(found) == 1 and "without ACLS" in found[0].message and found[0].tier == 1


def test_absence_first_and_last_day_fail_day_after_passes():
    prog = program(absences=(absence(start=BLOCK_START, end=BLOCK_START + timedelta(days=2)),))
    inside = [assignment(day=BLOCK_START), assignment(day=BLOCK_START + timedelta(days=2))]
    found = check("schedule.absence", inside, prog)
    assert [v.date for v in found] == [BLOCK_START, BLOCK_START + timedelta(days=2)]
    assert check("schedule.absence", [assignment(day=BLOCK_START + timedelta(days=3))], prog) == []


def test_pgy_eligibility():
    found = check("schedule.eligibility", [assignment("R1-01", BLOCK_START, Slot.CALL, "NIGHT")])
    assert len(found) == 1 and "does not take PGY-1" in found[0].message
    assert check("schedule.eligibility", [assignment("R2-01", BLOCK_START, Slot.CALL, "NIGHT")]) == []
    assert check("schedule.eligibility", [assignment("F-01", BLOCK_START, Slot.CALL, "NIGHT")])  # faculty max 0


def test_pgy1_may_not_moonlight():
    moonlight = session_rotation("MOON", moonlighting=True, supervised=False, faculty=Staffing(min=0, max=0))
    prog = program(rotations=(session_rotation(), call_rotation(), moonlight))
    assert len(check("acgme.moonlighting.pgy1", [assignment("R1-01", rotation_id="MOON")], prog)) == 1
    assert check("acgme.moonlighting.pgy1", [assignment("R2-01", rotation_id="MOON")], prog) == []


def test_overlapping_duties_are_double_booking():
    long_am = session_rotation("LONG", hours=8, supervised=False)
    prog = program(rotations=(session_rotation(), call_rotation(), long_am))
    overlapping = [assignment("R1-01", slot=Slot.AM, rotation_id="LONG"), assignment("R1-01", slot=Slot.PM)]
    found = check("schedule.double_booked", overlapping, prog)
    assert len(found) == 1 and found[0].slot == Slot.PM  # the shift id (a str since v2)
    assert check("schedule.double_booked", [assignment(slot=Slot.AM), assignment(slot=Slot.PM)]) == []


def test_rotation_calendar_is_a_warning():
    weekdays_only = session_rotation(days=("mon", "tue", "wed", "thu", "fri"))
    prog = program(rotations=(weekdays_only, call_rotation()))
    saturday = date(2026, 3, 14)
    found = check("schedule.rotation_calendar", [assignment(day=saturday)], prog)
    assert len(found) == 1 and found[0].tier == 2


@pytest.mark.parametrize("pgy1, seniors, needed", [(1, 0, 1), (3, 0, 2), (0, 5, 2), (2, 4, 2), (2, 0, 1), (0, 4, 1)])
def test_supervision_table(pgy1, seniors, needed):
    people = tuple(resident(f"R1-{i:02d}", pgy=1) for i in range(pgy1)) + tuple(
        resident(f"R2-{i:02d}", pgy=2) for i in range(seniors)
    )
    staff = tuple(faculty(f"F-{i:02d}") for i in range(needed))
    wards = session_rotation(residents=ResidentStaffing(min=0, max=10), faculty=Staffing(min=0, max=10))
    prog = program(people=people + staff, rotations=(wards,))
    residents_on = [assignment(p.id) for p in people]
    enough = residents_on + [assignment(f.id) for f in staff]
    assert check("program.supervision", enough, prog) == []
    short = residents_on + [assignment(f.id) for f in staff[:-1]]
    found = check("program.supervision", short, prog)
    assert len(found) == 1 and (found[0].measured, found[0].limit) == (needed - 1, needed)


def test_unsupervised_rotation_needs_no_faculty():
    prog = program(rotations=(session_rotation(supervised=False), call_rotation()))
    assert check("program.supervision", [assignment("R1-01")], prog) == []


def test_staffing_above_max_is_a_warning_and_a_shortfall_is_a_coverage_gap():
    wards = session_rotation(residents=ResidentStaffing(min=2, max=2), faculty=Staffing(min=1, max=1), days=("thu",))
    people = (resident("R1-01"), resident("R2-01", pgy=2), resident("R3-01", pgy=3), faculty())
    prog = program(people=people, rotations=(wards,))
    three = [assignment(p) for p in ("R1-01", "R2-01", "R3-01")] + [assignment("F-01")]
    found = check("staffing.above_max", three, prog)
    assert len(found) == 1 and found[0].tier == 2 and found[0].measured == 3
    report = validate(
        Schedule(assignments=(assignment("R1-01"), assignment("F-01"))), prog, start=BLOCK_START, end=BLOCK_START
    )
    assert [(g.rotation_id, g.slot, g.role, g.required, g.assigned) for g in report.coverage_gaps] == [
        ("WARDS", Slot.AM, "residents", 2, 1),
        ("WARDS", Slot.PM, "residents", 2, 0),
        ("WARDS", Slot.PM, "faculty", 1, 0),
    ]
    assert not any(v.rule_id.startswith("staffing") for v in report.violations)
    assert report.metrics.demand_coverage == round(2 / 6, 4)


def test_call_spread_fairness():
    seniors = (
        resident("R2-01", pgy=2, credentials=ACLS_UNTIL[:1] + (Credential(name="ACLS"),)),
        resident("R2-02", pgy=2, credentials=(Credential(name="ACLS"),)),
    )
    prog = program(people=seniors)
    three_vs_zero = [assignment("R2-01", BLOCK_START + timedelta(days=d), Slot.CALL, "NIGHT") for d in (0, 3, 6)]
    found = check("fairness.call_spread", three_vs_zero, prog)
    assert len(found) == 1 and found[0].measured == 3 and found[0].tier == 2
    two_vs_zero = three_vs_zero[:2]
    assert check("fairness.call_spread", two_vs_zero, prog) == []


def test_unknown_references_are_reported():
    found = check("schedule.unknown_reference", [assignment("GHOST"), assignment(rotation_id="ICU")])
    assert len(found) == 2 and all(v.tier == 1 for v in found)
