"""The plan-year flow end to end against a real Prefect API, on SQLite and PostgreSQL (issue 21):

- the year of a synthetic internal-medicine program (24 residents) planned through the gate, then a
  block generated through the real generate flow follows the stored plan (every resident duty from
  their planned rotation's pattern, or their clinic or didactics), then a re-plan from block 7 after
  a three-block leave keeps blocks 1..6 byte-identical (their digest) and plans nobody in the leave;
- an infeasible curriculum refused at the data check, with the planner's counting explanation,
  before the approval and before any write.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from rotaguard.compliance import plan_findings
from rotaguard.compliance import validate as judge
from rotaguard.db import AssignmentRepository, Database
from rotaguard.db.runs import ScheduleRunRepository
from rotaguard.db.tables import AuditEventRow
from rotaguard.domain import Absence, AssignmentSource, Weekday
from rotaguard.flows.generate_schedule import GenerateParams, generate_schedule
from rotaguard.flows.plan_year import PlanYearParams, plan_year
from rotaguard.recovery import PLAN_ALGORITHM
from year_plans import YEAR, block_span, plan_digest, plan_rows, save_unchecked, store_program, stored, year_program

ADMIN = "A-01"  # the profile's admin


@pytest.fixture
def database(flow_env):
    made = Database(flow_env)
    yield made
    made.dispose()


def _plan(**values) -> object:
    return plan_year(
        PlanYearParams(year=YEAR, auto_approve_as=ADMIN, timeout_seconds=5, lock_wait_seconds=10, **values)
    )


def _actions(database: Database) -> list[str]:
    with database.read() as session:
        return list(session.scalars(select(AuditEventRow.action).order_by(AuditEventRow.id)))


def _in_planned_pattern(program, duty) -> bool:
    """The duty is its person's planned rotation's (service, shift) on one of its weekdays, or the
    weekly clinic or the didactics that rotation allows: read from the plan and the pattern here,
    not from the compliance engine."""
    entry = program.planned(duty.person_id, duty.date)
    if entry is None:
        return False
    rotation = program.block_rotations_by_id[entry.rotation_id]
    weekday = Weekday.of(duty.date)
    if any(
        (d.service, d.shift) == (duty.rotation_id, duty.slot) and weekday in d.days for d in rotation.pattern.duties
    ):
        return True
    clinic = program.people_by_id[duty.person_id].clinic
    if rotation.clinic and duty.rotation_id == program.clinic_service and clinic is not None:
        return (clinic.day, clinic.shift) == (weekday, duty.slot)
    if rotation.didactics and duty.rotation_id == program.didactics_service:
        return any((s.day, s.shift) == (weekday, duty.slot) for s in program.didactics)
    return False


def test_the_year_planned_then_a_block_generated_follows_it_and_a_replan_keeps_the_earlier_blocks(database):
    store_program(database, year_program())
    heuristic = plan_rows(database)

    planned = _plan()
    assert planned.status == "published", planned
    program = stored(database)
    assert plan_rows(database) != heuristic and plan_findings(program) == []
    assert {e.source for e in program.plan} == {AssignmentSource.SOLVER}
    assert planned.metrics["planner_status"] in ("optimal", "feasible") and planned.metrics["findings"] == 0
    with database.read() as session:
        run = ScheduleRunRepository(session).get(run_id=planned.run_id)
    assert run is not None and (run.algorithm, run.status) == (PLAN_ALGORITHM, "published")
    assert {"plan.approval", "plan.write", "plan.publish"} <= set(_actions(database))

    # A block generated after the plan follows it.
    start, end = block_span(program, 2, 2)
    generated = generate_schedule(
        GenerateParams(start=start, end=end, timeout_seconds=30, auto_approve_as=ADMIN, lock_wait_seconds=10)
    )
    assert generated.status == "published", generated
    with database.read() as session:
        schedule = AssignmentRepository(session).schedule(start=start - dt.timedelta(days=28), end=end)
    report = judge(schedule, program, start=start, end=end, resilience=False)
    assert [v for v in report.violations if v.rule_id == "plan.outside_rotation"] == []
    residents = {p.id for p in program.people if p.is_resident}
    duties = [d for d in schedule.between(start, end).assignments if d.person_id in residents]
    assert duties and [d for d in duties if not _in_planned_pattern(program, d)] == []

    # A three-block leave from block 8: re-planned from block 7, blocks 1..6 are untouched.
    earlier = block_span(program, 1, 6)
    earlier_digest = plan_digest(database, *earlier)
    leave_start, leave_end = block_span(program, 8, 10)
    person = sorted(residents)[0]
    leave = Absence(person_id=person, start=leave_start, end=leave_end, kind="leave")
    store_program(database, program.model_copy(update={"absences": (*program.absences, leave)}))
    replanned = _plan(from_block=7)
    assert replanned.status == "published", replanned
    assert plan_digest(database, *earlier) == earlier_digest
    after = stored(database)
    assert not [e for e in after.plan if e.person_id == person and e.start <= leave_end and e.end >= leave_start]
    assert replanned.metrics["changed_blocks"] >= 3 and plan_findings(after) == []


def test_an_infeasible_curriculum_is_refused_before_any_write_with_the_explanation(database):
    program = year_program()
    curriculum = tuple(
        c.model_copy(update={"min_blocks": 6, "max_blocks": 6}) if (c.pgy, c.rotation) == (1, "ICU") else c
        for c in program.curriculum
    )
    store_program(database, program)
    # The import would refuse this curriculum itself (its document check counts the same way): saved
    # past it, the flow's data check is what must refuse it.
    save_unchecked(database, stored(database).model_copy(update={"curriculum": curriculum}))
    before, audited = plan_rows(database), _actions(database)

    refused = _plan()

    assert refused.status == "failed" and refused.reason.startswith("the curriculum cannot be met: "), refused
    assert "PGY-1" in refused.reason and "ICU" in refused.reason, refused.reason
    assert plan_rows(database) == before
    new_events = _actions(database)[len(audited) :]
    assert not {"plan.approval", "plan.write"} & set(new_events), new_events
    with database.read() as session:
        run = ScheduleRunRepository(session).get(run_id=refused.run_id)
    assert run is not None and run.status == "failed" and (run.metrics or {}).get("pre_digest") is None
