"""Realistic synthetic v2 programs: their structure, their planner and the arithmetic checker."""

import json
from collections import Counter
from datetime import date, time, timedelta
from functools import cache

import pytest

from rotaguard.domain import (
    BlockRotation,
    Capacity,
    Count,
    Coverage,
    CurriculumRequirement,
    DutyPattern,
    PatternDuty,
    Person,
    PlanEntry,
    Program,
    RequestKind,
    ResidentStaffing,
    Role,
    Rotation,
    Schedule,
    ShiftKind,
    ShiftType,
    Weekday,
    model_problems,
)
from rotaguard.errors import InputError
from rotaguard.interchange import document_v2
from rotaguard.interchange.profiles import (
    Profile,
    academic_year,
    class_sizes,
    plan_problems,
    plan_year,
    profile_arithmetic,
    rotation_problems,
    synthesize_profile,
    us_holidays,
    weekly_hours,
)

PROFILES = (Profile.INTERNAL_MEDICINE, Profile.FAMILY_MEDICINE)
START = date(2026, 7, 1)


@cache
def _program(profile: Profile, residents: int = 36, seed: int = 1) -> Program:
    return synthesize_profile(profile, residents, seed, start=START)


def _residents(program: Program) -> list[Person]:
    return [p for p in program.people if p.is_resident]


# ----------------------------------------------------------------------------- the whole profiles


@pytest.mark.parametrize("residents", [36, 90])
@pytest.mark.parametrize("profile", PROFILES)
def test_profiles_pass_their_arithmetic_and_their_plan_meets_curriculum_and_capacity(profile, residents):
    program = _program(profile, residents)
    assert model_problems(program) == []
    assert profile_arithmetic(program) == []
    assert plan_problems(program) == []


@pytest.mark.parametrize("seed", [2, 3])
def test_other_seeds_pass_too(seed):
    program = _program(Profile.INTERNAL_MEDICINE, 36, seed)
    assert profile_arithmetic(program) == [] and plan_problems(program) == []


@pytest.mark.parametrize("profile", PROFILES)
def test_same_seed_same_program_and_another_seed_differs(profile):
    first = dump_v2(synthesize_profile(profile, 36, 7, start=START))
    assert first == dump_v2(synthesize_profile(profile, 36, 7, start=START))
    assert first != dump_v2(synthesize_profile(profile, 36, 8, start=START))


def test_classes_are_forty_percent_interns():
    assert class_sizes(36) == (14, 11, 11)
    assert class_sizes(90) == (36, 27, 27)
    program = _program(Profile.INTERNAL_MEDICINE)
    assert Counter(p.pgy for p in _residents(program)) == {1: 14, 2: 11, 3: 11}


def test_the_year_is_thirteen_four_week_blocks_from_july():
    program = _program(Profile.INTERNAL_MEDICINE)
    assert program.year is not None and program.year.label == "2026-27"
    blocks = program.year.blocks
    assert len(blocks) == 13 and blocks[0].start == START and blocks[-1].end == date(2027, 6, 29)
    assert all((b.end - b.start).days + 1 == 28 for b in blocks)
    # The default 28-day blocks agree with the year's own.
    assert program.block_anchor == START and program.block_dates(date(2026, 11, 1)) == (
        date(2026, 10, 21),
        date(2026, 11, 17),
    )


def test_shift_types_are_the_realistic_ones():
    shifts = {s.id: s for s in _program(Profile.INTERNAL_MEDICINE).shifts}
    assert (shifts["DAY"].start, shifts["DAY"].hours, shifts["DAY"].kind) == (time(7), 11, ShiftKind.DAY)
    assert (shifts["NIGHT"].start, shifts["NIGHT"].hours) == (time(19), 12)
    call = shifts["CALL24"]
    assert (call.start, call.hours, call.transition_hours, call.kind) == (time(7), 24, 4, ShiftKind.CALL_24)
    assert (shifts["AM"].start, shifts["AM"].hours, shifts["PM"].start, shifts["PM"].hours) == (time(8), 5, time(13), 4)
    # A morning session ends when the afternoon's clinic, session or academic half day begins: a
    # lunch hour between them would read as 1 h of rest between two duty periods (acgme.rest).
    for afternoon in ("PM", "CLINIC", "ACADEMIC"):
        assert shifts[afternoon].start == time(13)
    assert shifts["CLINIC"].kind is ShiftKind.CLINIC and shifts["ACADEMIC"].kind is ShiftKind.DIDACTICS


def test_internal_medicine_rotations_and_their_patterns():
    program = _program(Profile.INTERNAL_MEDICINE)
    rotations = program.block_rotations_by_id
    assert set(rotations) == {"WARDS", "ICU", "NF", "EM", "AMB", "ELEC"}
    assert {r.id for r in program.rotations} == {"WARDS", "ICU", "NF", "EM", "AMB", "CLINIC", "ELEC", "ACAD"}
    # Continuity clinic and the academic half day on ambulatory and electives, not inpatient blocks.
    assert {r.id for r in program.block_rotations if r.clinic} == {"AMB", "ELEC"}
    assert {r.id for r in program.block_rotations if r.vacation} == {"AMB", "ELEC"}
    nights = rotations["NF"].pattern_duty("NF", "NIGHT")
    assert nights is not None and nights.runs == Count(min=5, max=5) and nights.per_block == Count(min=18, max=20)
    call = rotations["ICU"].pattern_duty("ICU", "CALL24")
    assert call is not None and call.every == 4 and call.per_block.max == 7
    assert all(r.pattern.days_off_per_week == 1 for r in program.block_rotations)
    assert program.clinic_service == "CLINIC" and program.didactics_service == "ACAD"
    assert [(s.day, s.shift) for s in program.didactics] == [(Weekday.WED, "ACADEMIC")]


@pytest.mark.parametrize("profile", PROFILES)
def test_weekly_hours_of_every_rotation_are_between_50_and_80(profile):
    program = _program(profile)
    for rotation in program.block_rotations:
        low, high = weekly_hours(program, rotation)
        assert 50 <= low <= high <= 80, rotation.id


def test_the_documented_weekly_hours():
    program = _program(Profile.INTERNAL_MEDICINE)
    hours = {r.id: weekly_hours(program, r) for r in program.block_rotations}
    # 7 x 24 + 10 x 11 = 278 h at most on ICU (69.5 a week); 20 nights of 12 h on night float.
    assert hours == {
        "WARDS": (60.5, 66.0),
        "ICU": (58.0, 69.5),
        "NF": (54.0, 60.0),
        "EM": (54.0, 60.0),
        "AMB": (56.0, 56.0),  # 20 mornings of 5 h, 12 afternoons, 4 weekend ward days, clinic, academic
        "ELEC": (52.0, 52.0),
    }


@pytest.mark.parametrize("profile", PROFILES)
def test_every_resident_has_a_weekday_clinic_afternoon(profile):
    program = _program(profile)
    days = Counter()
    for person in _residents(program):
        assert person.clinic is not None and person.clinic.shift == "CLINIC"
        assert person.clinic.day in (Weekday.MON, Weekday.TUE, Weekday.THU, Weekday.FRI)
        days[person.clinic.day] += 1
    assert max(days.values()) - min(days.values()) <= 4


@pytest.mark.parametrize("profile", PROFILES)
def test_vacation_is_four_weeks_requested_on_rotations_that_allow_it_and_mostly_approved(profile):
    program = _program(profile)
    vacations = [r for r in program.requests if r.kind is RequestKind.VACATION]
    per_person = Counter()
    for request in vacations:
        per_person[request.person_id] += (request.end - request.start).days + 1
        rotation = program.planned_rotation(request.person_id, request.start)
        assert rotation is not None and rotation.vacation
        assert program.planned(request.person_id, request.end) == program.planned(request.person_id, request.start)
    assert set(per_person.values()) == {28}
    assert len(per_person) == len(_residents(program))
    approved = {(a.person_id, a.start, a.end) for a in program.absences}
    assert all(a.kind == "vacation" for a in program.absences)
    assert approved <= {(r.person_id, r.start, r.end) for r in vacations}
    assert 0.6 <= len(approved) / len(vacations) < 1
    day_off = [r for r in program.requests if r.kind is RequestKind.DAY_OFF]
    assert len(day_off) == 2 * len(_residents(program)) and all(r.start == r.end for r in day_off)


def test_us_holidays_of_the_year():
    holidays = {h.date: h.name for h in us_holidays(START, date(2027, 6, 29))}
    assert len(holidays) == 11
    assert holidays[date(2026, 7, 4)] == "Independence Day"
    assert holidays[date(2026, 9, 7)] == "Labor Day"
    assert holidays[date(2026, 11, 26)] == "Thanksgiving Day"
    assert holidays[date(2027, 1, 18)] == "Martin Luther King Jr. Day"
    assert holidays[date(2027, 5, 31)] == "Memorial Day"
    assert holidays[date(2027, 6, 19)] == "Juneteenth"
    assert len(_program(Profile.INTERNAL_MEDICINE).holidays) == 11


@pytest.mark.parametrize("profile", PROFILES)
def test_faculty_attend_supervised_services_week_by_week_and_staff_act(profile):
    program = _program(profile)
    faculty = [p for p in program.people if p.role is Role.FACULTY]
    assert len(faculty) >= 36 / 3
    supervised = {s.id for s in program.rotations if s.supervised}
    assert program.attending and {a.service_id for a in program.attending} == supervised
    assert all((a.end - a.start).days == 6 for a in program.attending)
    assert {(s.id, s.role.value) for s in program.staff} == {("A-01", "admin"), ("C-01", "coordinator")}


def dump_v2(program):
    return document_v2.dump_document(document_v2.document_from(program, Schedule(), rule_overrides={}))


def test_the_v2_document_names_services_and_rotations_and_reads_back_as_the_program():
    program = _program(Profile.INTERNAL_MEDICINE)
    document = json.loads(dump_v2(program))
    assert document["format"] == "rotaguard-program/2"
    assert {s["id"] for s in document["services"]} == {r.id for r in program.rotations}
    assert {r["id"] for r in document["rotations"]} == {r.id for r in program.block_rotations}
    assert len(document["plan"]) == 36 * 13
    # Read back and written again, the document is the same (the document orders every list).
    assert dump_v2(document_v2.parse_v2(dump_v2(program)).to_program()) == dump_v2(program)


def test_minimal_is_the_v1_generator():
    program = synthesize_profile(Profile.MINIMAL, 18, 1, start=date(2026, 12, 17))
    assert not program.has_plan_model and {r.id for r in program.rotations} == {"WARDS", "CLINIC", "ELECTIVE", "NIGHT"}


def test_profile_sizes_are_checked():
    with pytest.raises(InputError, match="--residents: must be 24-240, got 23"):
        synthesize_profile(Profile.INTERNAL_MEDICINE, 23)
    assert synthesize_profile(Profile.FAMILY_MEDICINE, 24, start=START).people


# ----------------------------------------------------------------------------- the planner

SEQUENCES = {
    1: ("A", "B", "C", "D"),
    2: ("A", "B", "C", "D"),
}


def _people(counts: dict[int, int]) -> list[Person]:
    return [
        Person(id=f"R{pgy}-{n:02d}", name=f"Resident {pgy}-{n:02d}", role=Role.RESIDENT, pgy=pgy)
        for pgy, count in counts.items()
        for n in range(1, count + 1)
    ]


def test_the_planner_spreads_each_class_evenly_over_the_blocks():
    year = academic_year(START)
    people = _people({1: 8, 2: 5})
    plan = plan_year({1: SEQUENCES[1] * 3 + ("A",), 2: SEQUENCES[2] * 3 + ("B",)}, people, year)
    assert len(plan) == 13 * 13
    for block in year.blocks:
        interns = Counter(e.rotation_id for e in plan if e.start == block.start and e.person_id.startswith("R1"))
        assert sum(interns.values()) == 8
        # 8 interns over a 13-block cycle: no rotation has more than one intern above another block's count.
        assert max(interns.values()) - min(interns.get(r, 0) for r in "ABCD") <= 2
    # Every resident's year is the sequence from some block on: the same counts for everyone.
    per_person = Counter((e.person_id, e.rotation_id) for e in plan)
    assert per_person[("R1-01", "A")] == 4 and per_person[("R1-05", "B")] == 3


def test_the_planner_puts_the_required_rotation_first():
    year = academic_year(START)
    people = _people({1: 13})
    sequence = ("NF", "E", "ICU", "E", "W", "W", "E", "W", "E", "W", "E", "W", "E")
    unrepaired = plan_year({1: sequence}, people, year)
    firsts = {}
    for entry in sorted(unrepaired, key=lambda e: e.start):
        firsts.setdefault((entry.person_id, entry.rotation_id), entry.start)
    # Without the rule some interns meet night float before the ICU; with it none does.
    assert any(firsts[(p.id, "NF")] < firsts[(p.id, "ICU")] for p in people)
    plan = plan_year({1: sequence}, people, year, before=[(1, "ICU", ("NF",))], flexible=["E"])
    firsts = {}
    for entry in sorted(plan, key=lambda e: e.start):
        firsts.setdefault((entry.person_id, entry.rotation_id), entry.start)
    assert all(firsts[(p.id, "ICU")] < firsts[(p.id, "NF")] for p in people)
    assert Counter(e.rotation_id for e in plan) == Counter(e.rotation_id for e in unrepaired)


def test_plan_problems_finds_curriculum_and_capacity_breaches():
    program = _program(Profile.INTERNAL_MEDICINE)
    intern = "R1-01"
    rows = program.plan_by_person[intern]
    icu = next(r for r in rows if r.rotation_id == "ICU")
    nf = next(r for r in rows if r.rotation_id == "NF")
    first, second = (icu, nf) if icu.start < nf.start else (nf, icu)
    # Exchange the intern's first ICU block with their night float: NF now comes first.
    swapped = [
        r.model_copy(update={"rotation_id": "NF"})
        if r == first
        else r.model_copy(update={"rotation_id": "ICU"})
        if r == second
        else r
        for r in program.plan
    ]
    assert first.rotation_id == "ICU"  # the generated plan keeps the order
    broken = program.model_copy(update={"plan": tuple(swapped)})
    problems = plan_problems(broken)
    assert f"{intern} is on NF before ICU" in problems
    dropped = program.model_copy(update={"plan": tuple(r for r in program.plan if r != first)})
    problems = plan_problems(dropped)
    assert any(p.startswith(f"{intern} is not on a rotation every day of block") for p in problems)
    assert any("capacity" in p for p in problems) or any("blocks of ICU" in p for p in problems)


# ----------------------------------------------------------------------------- the checker at its boundaries

TEN_HOURS = ShiftType(id="DAY", name="Day", kind=ShiftKind.DAY, start=time(7), hours=10)


def _tiny(
    *,
    residents: int = 2,
    per_block: tuple[int, int] = (20, 24),
    coverage: tuple[int, int] = (1, 2),
    days_off: int = 1,
) -> Program:
    """One service staffed by one rotation's residents for one year."""
    year = academic_year(START)
    people = tuple(_people({2: residents}))
    service = Rotation(
        id="S",
        name="Service",
        coverage=(Coverage(shift="DAY", residents=(ResidentStaffing(pgy=(2,), min=coverage[0], max=coverage[1]),)),),
    )
    rotation = BlockRotation(
        id="R",
        name="Rotation",
        pgy=(2,),
        capacity=(Capacity(pgy=(2,), min=residents, max=residents),),
        clinic=False,
        didactics=False,
        pattern=DutyPattern(
            duties=(PatternDuty(service="S", shift="DAY", per_block=Count(min=per_block[0], max=per_block[1])),),
            days_off_per_week=days_off,
        ),
    )
    plan = tuple(
        PlanEntry(person_id=p.id, start=b.start, end=b.end, rotation_id="R") for p in people for b in year.blocks
    )
    return Program(
        name="Tiny",
        block_anchor=START,
        people=people,
        rotations=(service,),
        shift_types=(TEN_HOURS,),
        block_rotations=(rotation,),
        plan=plan,
        year=year,
        curriculum=(CurriculumRequirement(pgy=2, rotation="R", min_blocks=13, max_blocks=13),),
    )


def test_the_tiny_program_is_consistent():
    assert profile_arithmetic(_tiny()) == [] and plan_problems(_tiny()) == []


def test_supply_against_the_minimum_at_the_boundary():
    # Two residents can work 14 days each: 28 duties cover one a day exactly; 13 each leave gaps.
    assert profile_arithmetic(_tiny(per_block=(14, 14), coverage=(1, 2), days_off=0)) == [
        "rotation R: 35.0-35.0 h a week, outside 50-80"
    ]
    problems = profile_arithmetic(_tiny(per_block=(13, 13), coverage=(1, 2), days_off=0))
    assert "block 1 S/DAY PGY-2: the minimum needs 28 duties, the planned residents can work 26" in problems


def test_heads_against_the_minimum_at_the_boundary():
    # Two residents can both be on every day (the heads allow a minimum of 2), but not three.
    two = profile_arithmetic(_tiny(per_block=(20, 24), coverage=(2, 2)))
    assert not any("residents can work it" in p for p in two)
    three = profile_arithmetic(_tiny(per_block=(20, 24), coverage=(3, 3)))
    assert "block 1 S/DAY PGY-2 2026-07-01: minimum 3, only 2 residents can work it" in three


def test_room_under_the_maximum_at_the_boundary():
    # Two residents expected to work 20 days each need 40 places: 28 days of 1 are too few, of 2 enough.
    assert profile_arithmetic(_tiny(per_block=(20, 24), coverage=(0, 2))) == []
    problems = profile_arithmetic(_tiny(per_block=(20, 24), coverage=(0, 1)))
    assert any("expected to work 40, the maximum leaves room for 28" in p for p in problems)


def test_weekly_hours_at_the_boundary():
    # 20 ten-hour days a block are 50 h a week; 19 are 47.5.
    assert rotation_problems(_tiny(per_block=(20, 24))) == []
    assert rotation_problems(_tiny(per_block=(19, 24))) == ["rotation R: 47.5-60.0 h a week, outside 50-80"]
    # 32 a block are 80 h a week, 33 are 82.5 (and touch more days than one free day a week leaves).
    assert "rotation R: 20.0-82.5 h a week, outside 50-80" in rotation_problems(_tiny(per_block=(8, 33), days_off=0))
    assert rotation_problems(_tiny(per_block=(20, 32), days_off=0)) == []


def test_days_touched_against_the_days_off_at_the_boundary():
    assert rotation_problems(_tiny(per_block=(24, 24))) == []
    assert rotation_problems(_tiny(per_block=(25, 25))) == [
        "rotation R: its expected duties touch 25 days, the days off leave 24"
    ]


def test_an_absence_lowers_what_a_resident_can_supply():
    program = _tiny(per_block=(14, 14), coverage=(1, 2), days_off=0)
    from rotaguard.domain import Absence

    away = program.model_copy(
        update={"absences": (Absence(person_id="R2-01", start=START, end=START + timedelta(days=6), kind="vacation"),)}
    )
    problems = profile_arithmetic(away)
    # A week away leaves 21 of 28 days: 14 x 21 / 28 = 10.5, at most 11 duties; 25 < 28.
    assert "block 1 S/DAY PGY-2: the minimum needs 28 duties, the planned residents can work 25" in problems


def test_the_generated_coverage_breaks_when_raised_by_one():
    program = _program(Profile.INTERNAL_MEDICINE)
    wards = program.rotation("WARDS")
    entry = wards.coverage[0]
    heads_max = entry.residents[0].max
    raised = entry.model_copy(
        update={"residents": (entry.residents[0].model_copy(update={"min": heads_max + 1}), *entry.residents[1:])}
    )
    broken = program.model_copy(
        update={
            "rotations": tuple(
                r.model_copy(update={"coverage": (raised, *r.coverage[1:])}) if r.id == "WARDS" else r
                for r in program.rotations
            )
        }
    )
    assert any("WARDS/DAY PGY-1" in p and "residents can work it" in p for p in profile_arithmetic(broken))


# ----------------------------------------------------------------------------- the command


def test_program_synth_writes_a_profile(cli, tmp_path):
    out = tmp_path / "im.json"
    args = ("program", "synth", "--profile", "internal-medicine", "--start", "2026-07-01", "--out", str(out))
    result = cli(*args, "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    program = _program(Profile.INTERNAL_MEDICINE)
    assert report == {
        "ok": True,
        "path": str(out),
        "people": len(program.people),
        "profile": "internal-medicine",
        "year_start": "2026-07-01",
    }
    assert out.read_text() == dump_v2(program)
    refused = cli("program", "synth", "--profile", "family-medicine", "--faculty", "3")
    assert refused.code == 2 and "--faculty: only the minimal profile takes it" in refused.err
    unknown = cli("program", "synth", "--profile", "pediatrics")
    assert unknown.code == 2 and "Invalid value for '--profile'" in unknown.err
    small = cli("program", "synth", "--profile", "internal-medicine", "--residents", "23")
    assert small.code == 2 and "--residents: must be 24-240, got 23" in small.err


def test_internal_medicine_coverage_at_36_residents():
    """The figures the demo meets (seed 1): (min, max) per PGY group and entry."""
    program = _program(Profile.INTERNAL_MEDICINE)

    def staffing(service: str, index: int = 0) -> dict:
        entry = program.rotation(service).coverage[index]
        return {g.pgy: (g.min, g.max) for g in entry.residents}

    assert staffing("WARDS", 0) == {(1,): (3, 5), (2, 3): (3, 6)}  # weekdays: about two teams
    assert staffing("WARDS", 1) == {(1,): (4, 11), (2, 3): (6, 15)}  # weekends, with ambulatory help
    assert staffing("NF") == {(1,): (0, 2), (2, 3): (1, 3)}
    assert staffing("ICU", 0) == {(1, 2, 3): (1, 7)} and staffing("ICU", 1) == {(1, 2, 3): (1, 7)}
    assert staffing("EM") == {(1, 2, 3): (1, 4)}
    assert staffing("AMB", 0) == {(1,): (0, 3), (2, 3): (3, 6)}
    # An elective resident works no day shift on their clinic afternoon (the solver offers none).
    assert staffing("ELEC") == {(1, 2, 3): (1, 8)}
    assert staffing("ACAD")[(1, 2, 3)][0] == 0  # attendance, not staffing
    # Faculty on supervised entries: the 1:2 / 1:4 ratio at the resident minimum.
    weekday = program.rotation("WARDS").coverage[0]
    assert weekday.faculty.min == 3 == program.rules.faculty_needed(pgy1_residents=3, senior_residents=3)


@pytest.mark.parametrize(
    "today, expected",
    [
        (date(2026, 12, 3), date(2026, 7, 1)),
        (date(2027, 6, 30), date(2026, 7, 1)),
        (date(2027, 7, 1), date(2027, 7, 1)),
    ],
)
def test_the_default_academic_year_is_the_current_one(today, expected):
    from rotaguard.interchange.profiles import default_year_start

    assert default_year_start(today) == expected
