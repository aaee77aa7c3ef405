"""Differential test: on random small programs, whatever the solver publishes, compliance passes.

Random people, rotations (some with their own hours), slot times, history before the range and
locked assignments inside it; every schedule the solver returns as OPTIMAL or FEASIBLE must have
0 Tier 1 violations when the independent compliance engine judges it.
"""

import random
from datetime import date, time, timedelta

import pytest

from rotaguard.compliance import validate
from rotaguard.domain import (
    Assignment,
    Credential,
    Person,
    Program,
    ResidentStaffing,
    Role,
    Rotation,
    RotationKind,
    RuleParams,
    Schedule,
    Slot,
    SlotTime,
    SlotTimes,
    Staffing,
)
from rotaguard.solver import ScheduleProblem, SolverStatus, solve

START = date(2026, 3, 5)


def _random_problem(seed: int) -> ScheduleProblem:
    rng = random.Random(seed)
    people = []
    for i in range(rng.randint(3, 6)):
        pgy = rng.choice((1, 2, 3))
        credentials = (Credential(name="ACLS"),) if rng.random() < 0.7 else ()
        people.append(
            Person(id=f"R{pgy}-{i:02d}", name=f"Resident {i}", role=Role.RESIDENT, pgy=pgy, credentials=credentials)
        )
    for i in range(rng.randint(1, 2)):
        people.append(Person(id=f"F-{i:02d}", name=f"Faculty {i}", role=Role.FACULTY))
    am_start = rng.choice((6, 7, 8))
    slots = SlotTimes(
        AM=SlotTime(start=time(am_start), hours=rng.choice((5, 6))),
        PM=SlotTime(start=time(am_start + 6), hours=rng.choice((5, 6))),
        CALL=SlotTime(start=time(am_start + 12), hours=rng.choice((10, 12))),
    )
    rotations = (
        Rotation(
            id="WARDS",
            name="Wards",
            kind=RotationKind.SESSION,
            slots=(Slot.AM, Slot.PM),
            residents=ResidentStaffing(min=rng.randint(1, 3), max=4, pgy=(1, 2, 3)),
            faculty=Staffing(min=0, max=2),
            supervised=rng.random() < 0.5,
            hours=rng.choice((None, None, 7.0)),
        ),
        Rotation(
            id="NIGHT",
            name="Night",
            kind=RotationKind.CALL,
            slots=(Slot.CALL,),
            residents=ResidentStaffing(min=1, max=1, pgy=(2, 3)),
            credentials=("ACLS",),
            in_house=rng.random() < 0.8,
        ),
    )
    rules = RuleParams(strict_one_in_seven=rng.random() < 0.3, max_hours_per_week=rng.choice((80, 70, 60)))
    program = Program(name=f"Random {seed}", slots=slots, rotations=rotations, people=people, rules=rules)
    history = []
    residents = [p for p in people if p.is_resident]
    for offset in range(1, 15):
        day = START - timedelta(days=offset)
        for person in rng.sample(residents, k=min(len(residents), rng.randint(0, 3))):
            history.append(
                Assignment(person_id=person.id, date=day, slot=rng.choice((Slot.AM, Slot.PM)), rotation_id="WARDS")
            )
    locks = []
    for person in rng.sample(residents, k=1):
        locks.append(
            Assignment(
                person_id=person.id,
                date=START + timedelta(days=rng.randint(0, 5)),
                slot=Slot.AM,
                rotation_id="WARDS",
                locked=True,
            )
        )
    unique = {a.key: a for a in history + locks}
    return ScheduleProblem(
        program=program,
        start=START,
        end=START + timedelta(days=9),
        existing=Schedule(assignments=tuple(unique.values())),
    )


@pytest.mark.parametrize("seed", range(30))
def test_solver_output_passes_compliance(seed):
    problem = _random_problem(seed)
    result = solve(problem, workers=1, timeout_seconds=3)  # any schedule it returns must be clean
    if result.status is SolverStatus.INFEASIBLE:
        assert result.conflicts, "an infeasible answer must say why"
        return
    assert result.status in (SolverStatus.OPTIMAL, SolverStatus.FEASIBLE)
    report = validate(result.schedule, problem.program, start=problem.start, end=problem.end, resilience=False)
    assert [v.message for v in report.tier1] == []


@pytest.mark.parametrize("seed", range(30))
def test_greedy_output_passes_compliance(seed):
    problem = _random_problem(seed)
    result = solve(problem, algorithm="greedy")
    report = validate(result.schedule, problem.program, start=problem.start, end=problem.end, resilience=False)
    assert [v.message for v in report.tier1] == []
