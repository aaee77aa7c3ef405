"""Each builder on a tiny instance (2-4 people, a few days) whose optimum is known by hand."""

from datetime import date, timedelta

import pytest

from factories import BLOCK_START, assignment, call_rotation, faculty, program, resident, session_rotation
from rotaguard.compliance import validate
from rotaguard.domain import Credential, ResidentStaffing, RuleParams, Schedule, Slot, Staffing
from rotaguard.solver import Request, RequestKind, ScheduleProblem, SolverStatus, Weights, solve

ACLS = (Credential(name="BLS"), Credential(name="ACLS"))
DAY = BLOCK_START  # a Thursday
QUIET = Weights(call_fairness=0, weekend_fairness=0, continuity=0)


def _wards(minimum: int, maximum: int = 4, supervised: bool = False, faculty_staff=(0, 0), **extra):
    return session_rotation(
        residents=ResidentStaffing(min=minimum, max=maximum, pgy=(1, 2, 3)),
        faculty=Staffing(min=faculty_staff[0], max=faculty_staff[1]),
        supervised=supervised,
        **extra,
    )


def _solve(prog, days=1, existing=(), requests=(), weights=QUIET, start=DAY):
    problem = ScheduleProblem(
        program=prog,
        start=start,
        end=start + timedelta(days=days - 1),
        existing=Schedule(assignments=tuple(existing)),
        requests=tuple(requests),
        weights=weights,
    )
    return solve(problem, workers=1, timeout_seconds=30)


def _made(result, day=None):
    return sorted(
        (a.person_id, a.date, a.slot, a.rotation_id)
        for a in result.schedule.assignments
        if a.source == "solver" and (day is None or a.date == day)
    )


def test_min_staffing_filled_when_possible():
    prog = program(people=(resident(),), rotations=(_wards(1, days=("thu",)),))
    result = _solve(prog)
    assert result.status is SolverStatus.OPTIMAL and result.objective == 0
    assert _made(result) == [("R1-01", DAY, "AM", "WARDS"), ("R1-01", DAY, "PM", "WARDS")]


def test_staffing_max_is_hard_and_requests_are_soft():
    prog = program(people=(resident(), resident("R1-02")), rotations=(_wards(0, maximum=1, days=("thu",)),))
    wishes = [Request(person_id=p, date=DAY, kind=RequestKind.WORK) for p in ("R1-01", "R1-02")]
    result = _solve(
        prog, requests=wishes, weights=Weights(call_fairness=0, weekend_fairness=0, continuity=0, request=5)
    )
    # One slot each for AM and PM: both wishes can be granted (one works AM, the other PM) at cost 0.
    assert result.objective == 0
    assert all(sum(1 for a in result.schedule.assignments if a.slot == s) == 1 for s in (Slot.AM, Slot.PM))


def test_request_off_is_granted_when_free():
    prog = program(people=(resident(), resident("R1-02")), rotations=(_wards(1, maximum=1, days=("thu",)),))
    result = _solve(
        prog,
        requests=[Request(person_id="R1-01", date=DAY)],
        weights=Weights(call_fairness=0, weekend_fairness=0, continuity=0),
    )
    assert result.objective == 0 and {a.person_id for a in result.schedule.assignments} == {"R1-02"}


def test_supervision_needs_faculty_or_leaves_a_gap():
    interns = (resident(), resident("R1-02"), resident("R1-03"))
    prog = program(
        people=interns + (faculty(),), rotations=(_wards(3, supervised=True, faculty_staff=(0, 2), days=("thu",)),)
    )
    # Three PGY-1 need two faculty; with one, only two interns may work each slot: 2 gaps.
    result = _solve(prog)
    assert result.penalties["unmet_staffing"] == 2 * 1000
    for slot in ("AM", "PM"):
        on = [a for a in _made(result) if a[2] == slot]
        assert sum(1 for a in on if a[0].startswith("R1")) == 2 and sum(1 for a in on if a[0] == "F-01") == 1


def _history_half_days(person: str, count: int, end: date) -> list:
    """``count`` half days ending the day before ``end``, one day free every seventh."""
    out, day = [], end - timedelta(days=1)
    while len(out) < count:
        for slot in (Slot.PM, Slot.AM):
            if len(out) < count:
                out.append(assignment(person, day, slot))
        day -= timedelta(days=1)
    return out


@pytest.mark.parametrize("history_half_days, unmet", [(51, 0), (52, 1)])
def test_max_hours_counts_history(history_half_days, unmet):
    # 51 + 2 = 53 half days = 318 h fits; 52 + 2 = 54 = 324 h does not, so one slot stays empty.
    prog = program(
        people=(resident(),),
        rotations=(_wards(1, days=("thu",)),),
        rules=RuleParams(min_free_days_per_window=0),
    )
    result = _solve(prog, existing=_history_half_days("R1-01", history_half_days, DAY))
    assert result.penalties["unmet_staffing"] == unmet * 1000


def test_days_off_respect_history():
    # 24 touched days before the range leave no room for a 25th in the window.
    history = [assignment("R1-01", DAY - timedelta(days=d), Slot.AM) for d in range(1, 25)]
    prog = program(people=(resident(),), rotations=(_wards(1, days=("thu",)),))
    result = _solve(prog, existing=history)
    assert result.penalties["unmet_staffing"] == 2000
    assert _solve(prog, existing=history[:23]).penalties["unmet_staffing"] == 0


def _senior_program(**rules):
    senior = resident("R2-01", pgy=2, credentials=ACLS)
    return program(
        people=(senior,),
        rotations=(_wards(0, maximum=1), call_rotation(residents=ResidentStaffing(min=1, max=1, pgy=(2, 3)))),
        rules=RuleParams(**rules),
    )


def test_consecutive_calls_forbidden():
    result = _solve(_senior_program(), days=2)
    assert result.penalties["unmet_staffing"] == 1000
    assert len([a for a in _made(result) if a[2] == "CALL"]) == 1


def test_consecutive_calls_allowed_when_the_option_is_off():
    result = _solve(_senior_program(forbid_consecutive_calls=False), days=2)
    assert result.penalties["unmet_staffing"] == 0


def test_call_limit_counts_history():
    history = [assignment("R2-01", DAY - timedelta(days=d), Slot.CALL, "NIGHT") for d in range(3, 28, 3)]  # 9 calls
    result = _solve(_senior_program(), existing=history)
    assert result.penalties["unmet_staffing"] == 1000
    assert _solve(_senior_program(), existing=history[:8]).penalties["unmet_staffing"] == 0


def test_24_hour_limit_and_14_hours_rest():
    # Wards needs the senior on day 2 AM and PM, after a 24-hour call day that is locked on day 1.
    senior = resident("R2-01", pgy=2, credentials=ACLS)
    prog = program(
        people=(senior,),
        rotations=(
            _wards(1, maximum=1, days=("fri",)),
            call_rotation(residents=ResidentStaffing(min=0, max=1, pgy=(2, 3))),
        ),
    )
    locked_call_day = [
        assignment("R2-01", DAY, Slot.AM, "WARDS", locked=True),
        assignment("R2-01", DAY, Slot.PM, "WARDS", locked=True),
        assignment("R2-01", DAY, Slot.CALL, "NIGHT", locked=True),
    ]
    result = _solve(prog, days=2, existing=locked_call_day)
    # Friday AM would make 30 h; Friday PM starts 6 h after the 24 h ended: both stay empty.
    assert result.status is SolverStatus.OPTIMAL
    assert result.penalties["unmet_staffing"] == 2000
    assert [a for a in result.schedule.assignments if a.date == DAY + timedelta(days=1)] == []


def test_locked_assignments_are_kept_and_unlocked_ones_replaced():
    prog = program(people=(resident(), resident("R1-02")), rotations=(_wards(1, maximum=1, days=("thu",)),))
    current = [assignment("R1-01", DAY, Slot.AM, locked=True), assignment("R1-01", DAY, Slot.PM)]
    result = _solve(
        prog, existing=current, weights=Weights(call_fairness=0, weekend_fairness=0, continuity=0, change=3)
    )
    kept = [a for a in result.schedule.assignments if a.locked]
    assert [(a.person_id, a.slot) for a in kept] == [("R1-01", Slot.AM)]
    # Minimal change: the unlocked PM stays with R1-01 rather than moving to R1-02.
    assert ("R1-01", DAY, "PM", "WARDS") in _made(result)
    assert result.penalties.get("change", 0) == 0


def _short_rest_warnings(result, prog, first, last):
    report = validate(result.schedule, prog, start=first, end=last, resilience=False)
    return sum(1 for v in report.violations if v.rule_id == "acgme.rest.between_duties")


def test_short_rest_is_avoided_when_someone_else_can_work():
    """A PM six hours after a call ends is a Tier 2 warning: with no AM to fill the gap, R2-01's
    wish to work that PM would be a short rest, and rest (the plan level) comes before requests."""
    seniors = (resident("R2-01", pgy=2, credentials=ACLS), resident("R2-02", pgy=2, credentials=ACLS))
    prog = program(
        people=seniors,
        rotations=(
            _wards(0, maximum=1, days=("fri",), slots=(Slot.PM,)),
            call_rotation(residents=ResidentStaffing(min=0, max=1, pgy=(2, 3))),
        ),
    )
    locked_call = [assignment("R2-01", DAY, Slot.CALL, "NIGHT", locked=True)]
    want_pm = [Request(person_id="R2-01", date=DAY + timedelta(days=1), slot=Slot.PM, kind=RequestKind.WORK)]
    result = _solve(
        prog,
        days=2,
        existing=locked_call,
        requests=want_pm,
        weights=Weights(call_fairness=0, weekend_fairness=0, continuity=0, request=100, short_rest=2),
    )
    # Even at a request weight of 100 against 2 for the rest: the levels decide, not the weights.
    assert result.penalties["short_rest"] == 0 and result.penalties["request"] == 100
    assert ("R2-01", DAY + timedelta(days=1), "PM", "WARDS") not in _made(result)
    assert [level.id for level in result.levels][-2:] == ["plan", "requests"]


def test_a_24_hour_call_is_one_duty_period_not_a_short_rest():
    """AM, PM and the night CALL back to back (07:00-07:00) are one 24-hour period: the 6 h between
    the AM's end and the CALL's start is filled, so neither the solver nor validate counts it."""
    senior = resident("R2-01", pgy=2, credentials=ACLS)
    prog = program(
        people=(senior,),
        rotations=(
            _wards(1, maximum=1, days=("thu",)),
            call_rotation(residents=ResidentStaffing(min=1, max=1, pgy=(2, 3)), days=("thu",)),
        ),
    )
    result = _solve(prog, weights=Weights(call_fairness=0, weekend_fairness=0, continuity=0, short_rest=2))
    assert _made(result) == [("R2-01", DAY, s, r) for s, r in (("AM", "WARDS"), ("CALL", "NIGHT"), ("PM", "WARDS"))]
    assert result.penalties["unmet_staffing"] == 0 and result.penalties["short_rest"] == 0
    assert _short_rest_warnings(result, prog, DAY, DAY) == 0


def test_a_real_short_rest_is_charged_once_as_validate_counts_it():
    """An AM that ends at 13:00 and the CALL at 19:00 with the PM off: 6 h of rest, one warning."""
    senior = resident("R2-01", pgy=2, credentials=ACLS)
    prog = program(
        people=(senior,),
        rotations=(
            _wards(1, maximum=1, days=("thu",), slots=(Slot.AM,)),
            call_rotation(residents=ResidentStaffing(min=1, max=1, pgy=(2, 3)), days=("thu",)),
        ),
    )
    result = _solve(prog, weights=Weights(call_fairness=0, weekend_fairness=0, continuity=0, short_rest=2))
    assert _made(result) == [("R2-01", DAY, "AM", "WARDS"), ("R2-01", DAY, "CALL", "NIGHT")]
    assert result.penalties["short_rest"] == 2  # one short rest, weight 2
    assert _short_rest_warnings(result, prog, DAY, DAY) == 1
