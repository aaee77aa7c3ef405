"""The block grid: one row per person that reads as their rotation, one character per day."""

from datetime import date, time, timedelta

from factories import BLOCK_START, absence, assignment, program, resident
from rotaguard.domain import (
    BlockRotation,
    Count,
    Coverage,
    DutyPattern,
    PatternDuty,
    PlanEntry,
    ResidentStaffing,
    Rotation,
    Schedule,
    ShiftKind,
    ShiftType,
    Slot,
)
from rotaguard.interchange.grid import block_grid, row_label

END = BLOCK_START + timedelta(days=6)


def _v2_program():
    shifts = (
        ShiftType(id="DAY", name="Day", kind=ShiftKind.DAY, start=time(7), hours=11),
        ShiftType(id="NIGHT", name="Night", kind=ShiftKind.NIGHT, start=time(19), hours=12),
    )
    services = (
        Rotation(
            id="WARDS", name="Wards", coverage=(Coverage(shift="DAY", residents=(ResidentStaffing(min=1, max=2),)),)
        ),
        Rotation(
            id="NF", name="Nights", coverage=(Coverage(shift="NIGHT", residents=(ResidentStaffing(min=1, max=1),)),)
        ),
    )
    rotations = (
        BlockRotation(
            id="WARDS", name="Wards", pattern=DutyPattern(duties=(PatternDuty(service="WARDS", shift="DAY"),))
        ),
        BlockRotation(
            id="NF",
            name="Night float",
            pattern=DutyPattern(duties=(PatternDuty(service="NF", shift="NIGHT", runs=Count(min=5, max=5)),)),
        ),
    )
    return program(
        people=(resident("R1-01"), resident("R1-02")),
        shift_types=shifts,
        rotations=services,
        block_rotations=rotations,
        plan=(
            PlanEntry(person_id="R1-01", start=BLOCK_START, end=BLOCK_START + timedelta(days=27), rotation_id="WARDS"),
            PlanEntry(person_id="R1-02", start=BLOCK_START, end=BLOCK_START + timedelta(days=27), rotation_id="NF"),
        ),
    )


def test_each_row_reads_as_the_planned_rotation_with_one_character_per_day():
    v2 = _v2_program()
    schedule = Schedule(
        assignments=tuple(
            [assignment("R1-01", BLOCK_START + timedelta(days=i), "DAY", "WARDS") for i in range(6)]
            + [assignment("R1-02", BLOCK_START + timedelta(days=i), "NIGHT", "NF") for i in range(5)]
        )
    )
    lines = block_grid(v2, schedule, BLOCK_START, END).splitlines()
    wards = next(line for line in lines if line.startswith("R1-01"))
    nights = next(line for line in lines if line.startswith("R1-02"))
    assert wards.split()[1:3] == ["WARDS", "DDDDDD."]
    assert nights.split()[1:3] == ["NF", "NNNNN.."]
    # 6 shifts of 11 h in one week; 5 nights of 12 h.
    assert wards.split()[-1] == "66.0" and nights.split()[-1] == "60.0"


def test_a_v1_row_is_labelled_by_the_services_worked_and_half_days_read_as_sessions():
    v1 = program()
    schedule = Schedule(
        assignments=(
            assignment("R1-01", BLOCK_START, Slot.AM),
            assignment("R1-01", BLOCK_START, Slot.PM),
            assignment("R1-01", BLOCK_START + timedelta(days=1), Slot.PM),
            assignment("R2-01", BLOCK_START, Slot.CALL, "NIGHT"),
        )
    )
    v1 = v1.model_copy(update={"absences": (absence("R2-01", BLOCK_START + timedelta(days=2), END),)})
    text = block_grid(v1, schedule, BLOCK_START, END)
    row = {line.split()[0]: line.split() for line in text.splitlines()}
    assert row["R1-01"][1:3] == ["WARDS", "Dp....."]
    assert row["R2-01"][1:3] == ["NIGHT", "C.vvvvv"]
    assert row_label(v1, Schedule(), "F-01", BLOCK_START, END) == "-"


def test_only_the_people_asked_for_and_two_different_duties_on_a_day_are_marked():
    v2 = _v2_program()
    both = Schedule(
        assignments=(
            assignment("R1-01", date(2026, 3, 12), "DAY", "WARDS"),
            assignment("R1-01", date(2026, 3, 12), "NIGHT", "NF"),
        )
    )
    text = block_grid(v2, both, BLOCK_START, END, people=("R1-01",))
    rows = [line for line in text.splitlines() if line.startswith("R1-")]
    assert len(rows) == 1 and rows[0].split()[2] == "*......"


def test_hours_per_week_are_over_the_days_present_and_clinic_names_its_day():
    v1 = program()
    v1 = v1.model_copy(update={"absences": (absence("R1-01", BLOCK_START + timedelta(days=1), END),)})
    schedule = Schedule(
        assignments=(assignment("R1-01", BLOCK_START, Slot.AM), assignment("R1-01", BLOCK_START, Slot.PM))
    )
    row = next(
        line.split() for line in block_grid(v1, schedule, BLOCK_START, END).splitlines() if line.startswith("R1-01")
    )
    # 12 h on the one day present is 84 h a week of presence, not 12 h over a week mostly away.
    assert row[2] == "Dvvvvvv" and row[-1] == "84.0"
    clinic = ShiftType(id="CLINIC", name="Clinic", kind=ShiftKind.CLINIC, start=time(13), hours=4)
    v2 = _v2_program()
    v2 = v2.model_copy(
        update={
            "shift_types": (*v2.shift_types, clinic),
            "rotations": (*v2.rotations, Rotation(id="CLIN", name="Clinic", slots=("CLINIC",))),
        }
    )
    both = Schedule(
        assignments=(
            assignment("R1-01", BLOCK_START, "DAY", "WARDS"),
            assignment("R1-01", BLOCK_START, "CLINIC", "CLIN"),
        )
    )
    row = next(line.split() for line in block_grid(v2, both, BLOCK_START, END).splitlines() if line.startswith("R1-01"))
    assert row[2] == "c......"
