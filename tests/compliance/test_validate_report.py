"""Whole reports: hand-made schedules with known violations report exactly those; metrics; N-1/N-2."""

from datetime import timedelta

from factories import BLOCK_START, absence, assignment, faculty, program, resident, session_rotation
from rotaguard.compliance import validate
from rotaguard.domain import Credential, ResidentStaffing, Schedule, Slot, Staffing

ACLS = (Credential(name="BLS"), Credential(name="ACLS"))
WEEK = [BLOCK_START + timedelta(days=i) for i in range(7)]


def _clean_week() -> list:
    wards = [assignment(p, d, s) for d in WEEK[:5] for s in (Slot.AM, Slot.PM) for p in ("R1-01", "F-01")]
    calls = [assignment("R2-01", d, Slot.CALL, "NIGHT") for d in WEEK[::3]]
    return wards + calls


def _week_program():
    return program(people=(resident(), resident("R2-01", pgy=2, credentials=ACLS), faculty()))


def _report(assignments, prog=None, **kwargs):
    return validate(
        Schedule(assignments=tuple(assignments)), prog or _week_program(), start=WEEK[0], end=WEEK[-1], **kwargs
    )


def test_clean_week_has_no_violations():
    report = _report(_clean_week())
    assert report.violations == () and report.publishable
    assert report.metrics.tier1_violations == 0 and report.metrics.tier2_warnings == 0


def test_known_violations_are_reported_exactly():
    schedule = _clean_week()
    schedule.remove(assignment("F-01", WEEK[1], Slot.AM))  # R1-01 unsupervised on Friday AM
    schedule.append(assignment("R2-01", WEEK[1], Slot.CALL, "NIGHT"))  # call on consecutive nights 0-1
    schedule.append(assignment("R1-01", WEEK[5], Slot.CALL, "NIGHT"))  # PGY-1 without ACLS on the senior call
    report = _report(schedule)
    found = {(v.rule_id, v.person_id or v.rotation_id, v.date) for v in report.tier1}
    assert found == {
        ("program.supervision", "WARDS", WEEK[1]),
        ("acgme.call.consecutive_nights", "R2-01", WEEK[1]),
        ("schedule.eligibility", "R1-01", WEEK[5]),
        ("schedule.credentials", "R1-01", WEEK[5]),
    }
    assert not report.publishable and report.metrics.tier1_violations == 4


def test_metrics():
    report = _report(_clean_week())
    metrics = report.metrics
    # WARDS: 7 days x 2 slots x (1 resident + 1 faculty) required, filled on 5 days; NIGHT 7 x 1, filled 3.
    assert metrics.demand_coverage == round((20 + 3) / (28 + 7), 4)
    assert metrics.coverage_gaps == 4 * 2 + 4  # weekend wards (resident and faculty, AM and PM) + 4 empty nights
    # 20 half days of 3 people x 7 days x 2 half days.
    assert metrics.slot_fill_rate == round(20 / 42, 4)
    loads = {p.person_id: p for p in metrics.people}
    assert loads["R1-01"].hours == 60 and loads["R2-01"].calls == 3 and loads["R2-01"].hours == 36
    assert metrics.call_spread == 0  # only R2-01 is call-eligible


def test_report_json_shape():
    data = _report(_clean_week()).as_json()
    assert set(data) >= {"violations", "warnings", "coverage_gaps", "metrics"}
    assert {"demand_coverage", "slot_fill_rate", "tier1_violations", "tier2_warnings", "n1_compliant"} <= set(
        data["metrics"]
    )


def _n1_program(absent_second: bool):
    wards = session_rotation(residents=ResidentStaffing(min=1, max=2), faculty=Staffing(min=0, max=2), supervised=False)
    people = (resident(), resident("R1-02"), resident("R1-03"))
    absences = (absence("R1-02", WEEK[0], WEEK[0]),) if absent_second else ()
    return program(people=people, rotations=(wards,), absences=absences)


def test_n1_passes_when_someone_can_step_in():
    report = _report([assignment("R1-01", WEEK[0], Slot.AM)], _n1_program(absent_second=False))
    assert report.metrics.n1_compliant is True and report.resilience == ()


def test_n1_fails_when_no_eligible_rule_abiding_substitute_exists():
    prog = _n1_program(absent_second=True)
    # R1-03 could step in, but a 28-day history of 318 h leaves no room for 6 more hours.
    history = [
        assignment("R1-03", WEEK[0] - timedelta(days=27) + timedelta(days=i // 2), Slot.AM if i % 2 == 0 else Slot.PM)
        for i in range(53)
    ]
    report = _report(history + [assignment("R1-01", WEEK[0], Slot.AM)], prog)
    assert report.metrics.n1_compliant is False and report.metrics.n1_failures == 1
    gap = report.resilience[0]
    assert gap.person_ids == ("R1-01",) and gap.date == WEEK[0] and gap.uncovered == (f"WARDS {WEEK[0]} AM (resident)",)


def test_n2_checks_the_pair_behind_a_single_substitute():
    prog = _n1_program(absent_second=True)
    # R1-01 on AM is covered only by R1-03: losing both leaves the slot empty.
    report = _report([assignment("R1-01", WEEK[0], Slot.AM)], prog)
    assert report.metrics.n1_compliant is True
    assert report.metrics.n2_compliant is False
    assert report.resilience[0].person_ids == ("R1-01", "R1-03")


def test_overstaffed_slot_is_not_a_hole():
    prog = _n1_program(absent_second=True)
    both = [assignment("R1-01", WEEK[0], Slot.AM), assignment("R1-03", WEEK[0], Slot.AM)]
    report = _report(both, prog)
    assert report.metrics.n1_compliant is True and report.metrics.n2_compliant is True
