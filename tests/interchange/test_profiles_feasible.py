"""A profile's block can be staffed: every coverage minimum met, fill_rate >= 0.95, Tier 1 kept.

Until the block solver proves it with the real rule builders, this CP-SAT model is stricter
than the rules where it simplifies them: a resident works at most one shift of DAY, NIGHT and
CALL24 a day and no session beside it, nothing the day after a night or a 24-hour call (the
post-call day), at most 320 h in the block, one untouched day in each 7-day week of the block,
24-hour calls at most one in four days; faculty come only from their attending rows and meet the
supervision ratio on every supervised shift. (Night-float runs are left to the block solver.)
"""

from datetime import date, timedelta

import pytest
from ortools.sat.python import cp_model

from rotaguard.domain import Program, ShiftKind, Weekday, allowed_count, expected_count
from rotaguard.interchange.profiles import Profile, synthesize_profile

FULL_DAY = {ShiftKind.DAY, ShiftKind.NIGHT, ShiftKind.CALL_24}


def _status(program: Program, block_index: int) -> tuple[str, float]:
    assert program.year is not None
    block = program.year.blocks[block_index]
    days = [block.start + timedelta(days=i) for i in range(28)]
    model = cp_model.CpModel()
    works: dict[tuple[str, int], list[tuple[str, str, cp_model.IntVar]]] = {}
    staff: dict[tuple[str, str, int], list[tuple[int | None, cp_model.IntVar]]] = {}
    credits, expected_total = [], 0

    def add(person_id: str, pgy: int | None, i: int, service: str, shift: str) -> cp_model.IntVar:
        var = model.new_bool_var(f"{person_id}_{i}_{service}_{shift}")
        works.setdefault((person_id, i), []).append((service, shift, var))
        staff.setdefault((service, shift, i), []).append((pgy, var))
        return var

    for person in program.people:
        if person.is_resident:
            entry = program.planned(person.id, block.start)
            assert entry is not None
            rotation = program.block_rotation(entry.rotation_id)
            present = [i for i, d in enumerate(days) if program.absent(person.id, d) is None]
            duties = [(d.service, d.shift, d.days, d.per_block.min, d.per_block.max) for d in rotation.pattern.duties]
            if rotation.clinic and person.clinic is not None:
                duties.append((program.clinic_service, person.clinic.shift, (person.clinic.day,), None, None))
            if rotation.didactics:
                duties += [(program.didactics_service, s.shift, (s.day,), None, None) for s in program.didactics]
            for service, shift, weekdays, low, high in duties:
                service_ = program.rotation(service)
                dated = [i for i in present if Weekday.of(days[i]) in weekdays and service_.coverage_on(days[i], shift)]
                variables = [add(person.id, person.pgy, i, service, shift) for i in dated]
                expected = len(dated) if low is None else expected_count(low, len(present), 28)
                allowed = len(dated) if high is None else allowed_count(high, len(present), 28)
                model.add(sum(variables) <= allowed)
                credit = model.new_int_var(0, expected, "")
                model.add(credit <= sum(variables))
                credits.append(credit)
                expected_total += expected
        else:
            for i, d in enumerate(days):
                service_id = program.attending_service(person.id, d)
                if service_id is None:
                    continue
                for shift in program.rotation(service_id).slots:
                    if program.rotation(service_id).coverage_on(d, shift):
                        add(person.id, None, i, service_id, shift)
    for person in program.people:
        touched = []
        hours = []
        for i in range(28):
            today = works.get((person.id, i), [])
            kinds = [(program.shift(shift).kind, shift, var) for _, shift, var in today]
            full = [v for k, _, v in kinds if k in FULL_DAY]
            model.add(sum(full) <= 1)
            am = [v for _, s, v in kinds if s == "AM"]
            pm = [v for k, s, v in kinds if s != "AM" and k not in FULL_DAY]
            model.add(sum(am) <= 1)
            model.add(sum(pm) <= 1)
            for f in full:
                for v in am + pm:
                    model.add_bool_or([f.Not(), v.Not()])
            hours += [int(program.hours_for(service, shift) * 10) * var for service, shift, var in today]
            tomorrow = [(program.shift(s).kind, v) for _, s, v in works.get((person.id, i + 1), [])]
            for kind, _, duty in kinds:
                # After a night only another night; after a 24-hour call nothing (the post-call day).
                for next_kind, later in tomorrow:
                    if kind is ShiftKind.CALL_24 or (kind is ShiftKind.NIGHT and next_kind is not ShiftKind.NIGHT):
                        model.add_bool_or([duty.Not(), later.Not()])
            if person.is_resident:
                calls = [v for k, _, v in kinds if k is ShiftKind.CALL_24]
                for j in range(i + 1, min(i + 4, 28)):
                    later_calls = [
                        v for _, s, v in works.get((person.id, j), []) if program.shift(s).kind is ShiftKind.CALL_24
                    ]
                    for c in calls:
                        for v in later_calls:
                            model.add_bool_or([c.Not(), v.Not()])
            day_touched = model.new_bool_var("")
            yesterday = [
                v
                for _, s, v in works.get((person.id, i - 1), [])
                if program.shift(s).kind in (ShiftKind.NIGHT, ShiftKind.CALL_24)
            ]
            for v in [v for _, _, v in today] + yesterday:
                model.add_implication(v, day_touched)
            touched.append(day_touched)
        limit = 320 if person.is_resident else int(program.rules.faculty_max_hours_per_window)
        model.add(sum(hours) <= limit * 10)
        if person.is_resident:
            for week in range(4):
                model.add(sum(touched[week * 7 : week * 7 + 7]) <= 6)
    for service in program.rotations:
        for shift in service.slots:
            for i, d in enumerate(days):
                entry = service.coverage_on(d, shift)
                if entry is None:
                    continue
                on = staff.get((service.id, shift, i), [])
                residents = [(pgy, v) for pgy, v in on if pgy is not None]
                for group in entry.residents:
                    members = [v for pgy, v in residents if pgy in group.pgy]
                    model.add(sum(members) >= group.min)
                    model.add(sum(members) <= group.max)
                faculty = [v for pgy, v in on if pgy is None]
                model.add(sum(faculty) >= entry.faculty.min)
                model.add(sum(faculty) <= entry.faculty.max)
                if service.supervised:
                    # faculty >= ceil((2 * PGY1 + others) / 4) with the default ratios
                    model.add(4 * sum(faculty) >= sum((2 if pgy == 1 else 1) * v for pgy, v in residents))
    model.add(20 * sum(credits) >= 19 * expected_total)
    model.maximize(sum(credits))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = 120
    solver.parameters.num_workers = 2
    solver.parameters.random_seed = 0
    status = solver.solve(model)
    fill = solver.value(sum(credits)) / expected_total if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else 0.0
    return solver.status_name(status), fill


@pytest.mark.parametrize(
    "profile, residents, block_index",
    [
        (Profile.INTERNAL_MEDICINE, 36, 0),
        (Profile.INTERNAL_MEDICINE, 36, 6),
        (Profile.INTERNAL_MEDICINE, 90, 0),
        (Profile.FAMILY_MEDICINE, 36, 0),
        (Profile.FAMILY_MEDICINE, 90, 3),
    ],
)
def test_a_profile_block_is_fully_staffable(profile, residents, block_index):
    program = synthesize_profile(profile, residents, 1, start=date(2026, 7, 1))
    status, fill = _status(program, block_index)
    assert status in ("OPTIMAL", "FEASIBLE") and fill >= 0.95


def _wards_interns(program: Program, minimum: int) -> Program:
    wards = program.rotation("WARDS")
    weekday = wards.coverage[0]
    interns = weekday.residents[0].model_copy(update={"min": minimum})
    raised = weekday.model_copy(update={"residents": (interns, *weekday.residents[1:])})
    wards = wards.model_copy(update={"coverage": (raised, *wards.coverage[1:])})
    return program.model_copy(update={"rotations": tuple(wards if r.id == "WARDS" else r for r in program.rotations)})


def test_the_check_can_fail():
    """In a block with four interns on the wards, all four every weekday can be staffed; five cannot."""
    program = synthesize_profile(Profile.INTERNAL_MEDICINE, 36, 1, start=date(2026, 7, 1))
    assert program.year is not None
    block_index = next(
        n
        for n, block in enumerate(program.year.blocks)
        if sum(
            1
            for p in program.people
            if p.pgy == 1 and (e := program.planned(p.id, block.start)) is not None and e.rotation_id == "WARDS"
        )
        == 4
    )
    assert _status(_wards_interns(program, 4), block_index)[0] in ("OPTIMAL", "FEASIBLE")
    assert _status(_wards_interns(program, 5), block_index)[0] == "INFEASIBLE"
