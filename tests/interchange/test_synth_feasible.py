"""Synthetic programs can be staffed in full: proved with a CP-SAT model stricter than the rules.

Until the solver issue proves it with the real rule builders, this model over-approximates
the Tier 1 rules (every call is followed by a day off, a call day's date and the morning
after count as duty days), so a schedule it finds is compliant under the real ones too.
"""

from datetime import date, timedelta

import pytest
from ortools.sat.python import cp_model

from rotaguard.domain import BLOCK_DAYS, Program, Slot
from rotaguard.interchange.synth import minimum_faculty, synthesize

START = date(2026, 12, 17)
HALF_DAY_HOURS, CALL_HOURS = 6, 12


def _program(residents: int, faculty: int, seed: int) -> Program:
    return synthesize(residents=residents, faculty=faculty, seed=seed, start=START).to_program()


def _status(program: Program) -> str:
    rules = program.rules
    days = [START + timedelta(days=i) for i in range(BLOCK_DAYS)]
    model = cp_model.CpModel()
    works: dict[tuple[str, int, Slot], list] = {}
    staff: dict[tuple[str, int, Slot], list] = {}
    for person in program.people:
        for index, day in enumerate(days):
            if program.absent(person.id, day):
                continue
            for rotation in program.rotations:
                if not rotation.accepts(person) or person.missing_credentials(rotation.credentials, day):
                    continue
                for slot in rotation.slots:
                    if rotation.runs_on(day, slot):
                        var = model.new_bool_var(f"{person.id}_{index}_{slot}_{rotation.id}")
                        works.setdefault((person.id, index, slot), []).append(var)
                        staff.setdefault((rotation.id, index, slot), []).append((person, var))
    for person in program.people:

        def on(index: int, slot: Slot, person=person) -> list:
            return works.get((person.id, index, slot), [])

        for index in range(BLOCK_DAYS):
            for slot in Slot:
                model.add(sum(on(index, slot)) <= 1)
        hours = sum(HALF_DAY_HOURS * v for i in range(BLOCK_DAYS) for s in (Slot.AM, Slot.PM) for v in on(i, s))
        hours += sum(CALL_HOURS * v for i in range(BLOCK_DAYS) for v in on(i, Slot.CALL))
        model.add(hours <= int(rules.max_hours_per_window))
        touched = []
        for index in range(BLOCK_DAYS):
            day_touched = model.new_bool_var("")
            duties = [v for s in Slot for v in on(index, s)] + (on(index - 1, Slot.CALL) if index else [])
            for var in duties:
                model.add_implication(var, day_touched)
            touched.append(day_touched)
        model.add(sum(touched) <= BLOCK_DAYS - rules.min_free_days_per_window)
        model.add(sum(v for i in range(BLOCK_DAYS) for v in on(i, Slot.CALL)) <= rules.max_calls_per_window)
        for index in range(BLOCK_DAYS - 1):
            model.add(sum(on(index, Slot.CALL)) + sum(on(index + 1, Slot.CALL)) <= 1)
            for call in on(index, Slot.CALL):
                for next_day in on(index + 1, Slot.AM) + on(index + 1, Slot.PM):
                    model.add_bool_or([call.Not(), next_day.Not()])
    for rotation in program.rotations:
        for index, day in enumerate(days):
            for slot in rotation.slots:
                if not rotation.runs_on(day, slot):
                    continue
                people = staff.get((rotation.id, index, slot), [])
                residents_on = [(p, v) for p, v in people if p.is_resident]
                faculty_on = [v for p, v in people if not p.is_resident]
                model.add(sum(v for _, v in residents_on) >= rotation.residents.min)
                model.add(sum(v for _, v in residents_on) <= rotation.residents.max)
                model.add(sum(faculty_on) >= rotation.faculty.min)
                model.add(sum(faculty_on) <= rotation.faculty.max)
                if rotation.supervised:
                    # faculty >= ceil((2 * PGY1 + others) / 4) with the default ratios
                    model.add(4 * sum(faculty_on) >= sum((2 if p.pgy == 1 else 1) * v for p, v in residents_on))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = 60
    solver.parameters.num_workers = 2
    solver.parameters.random_seed = 0
    return solver.status_name(solver.solve(model))


@pytest.mark.parametrize("seed", range(1, 6))
def test_default_size_is_fully_staffable(seed):
    assert _status(_program(18, 8, seed)) in ("OPTIMAL", "FEASIBLE")


@pytest.mark.parametrize("residents", [8, 40])
def test_smallest_and_larger_programs_are_fully_staffable(residents):
    assert _status(_program(residents, minimum_faculty(residents), seed=1)) in ("OPTIMAL", "FEASIBLE")


def test_the_check_can_fail():
    """With one faculty left, wards cannot be supervised every half day: the model says so."""
    program = _program(18, 8, seed=1)
    one_faculty = [p for p in program.people if p.is_resident] + [next(p for p in program.people if not p.is_resident)]
    absences = tuple(a for a in program.absences if a.person_id in {p.id for p in one_faculty})
    assert _status(program.model_copy(update={"people": tuple(one_faculty), "absences": absences})) == "INFEASIBLE"
