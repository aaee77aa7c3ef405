"""The generation flow against a real Prefect API, on SQLite and PostgreSQL."""

import datetime as dt
import json

from sqlalchemy import select

from factories import dumps, program_document
from rotaguard.db import AssignmentRepository, AuditLog, Database
from rotaguard.db.tables import ScheduleRunRow
from rotaguard.flows.generate_schedule import GenerateParams, generate_schedule
from rotaguard.interchange.document import parse_document
from rotaguard.interchange.importer import import_document

START = dt.date(2026, 3, 12)
END = dt.date(2026, 3, 14)


def _seed(database_url: str, *, night_min: int = 0) -> Database:
    document = program_document()
    document["rotations"][1]["residents"]["min"] = night_min
    database = Database(database_url)
    import_document(database, parse_document(json.dumps(document)), actor="test", source="factory")
    return database


def _run_row(database, run_id):
    with database.read() as session:
        return session.get(ScheduleRunRow, run_id)


def test_happy_path_publishes(flow_env):
    database = _seed(flow_env)
    outcome = generate_schedule(GenerateParams(start=START, end=END, auto_approve_as="A-01", timeout_seconds=30))
    assert outcome.status == "published", outcome.reason
    assert outcome.metrics["tier1_violations"] == 0 and outcome.metrics["demand_coverage"] == 1.0
    assert outcome.backup_id and outcome.flow_run_id
    run = _run_row(database, outcome.run_id)
    assert run.status == "published" and run.approved_by == "A-01" and run.backup_id == outcome.backup_id
    with database.read() as session:
        made = AssignmentRepository(session).schedule(start=START, end=END).assignments
        actions = [e.action for e in reversed(AuditLog(session).events())]
        assert AuditLog(session).verify().ok
    assert any(a.source == "solver" for a in made)
    assert actions == ["program.import", "schedule.approval", "schedule.write", "schedule.publish"]
    database.dispose()


def test_failing_gate_rolls_back_to_the_exact_previous_range(flow_env):
    # One senior cannot take call three nights running: coverage stays below 100%.
    database = _seed(flow_env, night_min=1)
    with database.read() as session:
        before = AssignmentRepository(session).digest(start=START, end=END)
    outcome = generate_schedule(
        GenerateParams(start=START, end=END, auto_approve_as="A-01", min_coverage=1.0, timeout_seconds=30)
    )
    assert outcome.status == "rolled_back" and "demand coverage" in outcome.reason
    with database.read() as session:
        assert AssignmentRepository(session).digest(start=START, end=END) == before
    assert _run_row(database, outcome.run_id).status == "rolled_back"
    database.dispose()


def test_a_held_lock_rejects_the_run(flow_env):
    from rotaguard.db.locks import SCHEDULE_WRITES, acquire_lock, release_lock

    database = _seed(flow_env)
    assert acquire_lock(
        database, name=SCHEDULE_WRITES, holder="someone-else", ttl=dt.timedelta(minutes=5), wait_seconds=0
    )
    with database.read() as session:
        before = AssignmentRepository(session).digest(start=START, end=END)
    outcome = generate_schedule(
        GenerateParams(start=START, end=END, auto_approve_as="A-01", lock_wait_seconds=1, timeout_seconds=30)
    )
    assert outcome.status == "rejected" and outcome.reason.startswith("locked")
    with database.read() as session:
        assert AssignmentRepository(session).digest(start=START, end=END) == before
    release_lock(database, name=SCHEDULE_WRITES, holder="someone-else")
    database.dispose()


def _wait_for_pause(database, run_id, seconds=60):
    import time

    from rotaguard.db.runs import ScheduleRunRepository

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with database.read() as session:
            run = ScheduleRunRepository(session).get(run_id=run_id)
            if run is not None and (run.metrics or {}).get("awaiting_approval") and run.flow_run_id:
                flow_run_id = run.flow_run_id
                break
        time.sleep(0.5)
    else:
        raise AssertionError("the flow never paused for approval")
    from prefect import get_client
    from prefect.client.schemas.objects import StateType

    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            if client.read_flow_run(flow_run_id).state.type is StateType.PAUSED:
                return flow_run_id
            time.sleep(0.5)
    raise AssertionError("the flow run never reached the Paused state")


def _run_in_thread(params):
    import threading

    box = {}
    thread = threading.Thread(target=lambda: box.update(outcome=generate_schedule(params)), daemon=True)
    thread.start()
    return thread, box


def test_approval_pause_refuses_bad_input_then_takes_a_rejection(flow_env):
    import uuid

    import pytest
    from prefect.flow_runs import resume_flow_run

    database = _seed(flow_env)
    with database.read() as session:
        before = AssignmentRepository(session).digest(start=START, end=END)
    run_id = str(uuid.uuid4())
    thread, box = _run_in_thread(
        GenerateParams(start=START, end=END, run_id=run_id, timeout_seconds=30, approval_timeout_seconds=120)
    )
    flow_run_id = _wait_for_pause(database, run_id)
    with pytest.raises(RuntimeError, match="Cannot resume"):
        resume_flow_run(uuid.UUID(flow_run_id), run_input={"approve": True})  # no approver: the schema refuses it
    from prefect import get_client
    from prefect.client.schemas.objects import StateType

    with get_client(sync_client=True) as client:
        assert client.read_flow_run(flow_run_id).state.type is StateType.PAUSED
    resume_flow_run(
        uuid.UUID(flow_run_id), run_input={"approve": False, "approver": "Chief Resident", "comment": "not this week"}
    )
    thread.join(timeout=120)
    outcome = box["outcome"]
    assert outcome.status == "rejected" and outcome.reason == "rejected by Chief Resident"
    run = _run_row(database, run_id)
    assert run.status == "rejected" and run.approved_by == "Chief Resident"
    with database.read() as session:
        assert AssignmentRepository(session).digest(start=START, end=END) == before
    database.dispose()


def test_approval_timeout_is_a_rejection(flow_env):
    import uuid

    database = _seed(flow_env)
    run_id = str(uuid.uuid4())
    outcome = generate_schedule(
        GenerateParams(start=START, end=END, run_id=run_id, timeout_seconds=30, approval_timeout_seconds=10)
    )
    assert outcome.status == "rejected" and outcome.reason == "approval timed out"
    database.dispose()


def test_an_exception_after_the_write_restores_the_range(flow_env, monkeypatch):
    from prefect import task

    import rotaguard.flows.generate_schedule as module

    database = _seed(flow_env)
    with database.read() as session:
        before = AssignmentRepository(session).digest(start=START, end=END)

    @task
    def broken_validation(start, end, require_n1):
        raise RuntimeError("validator crashed")

    monkeypatch.setattr(module, "validate_written_schedule", broken_validation)
    outcome = generate_schedule(GenerateParams(start=START, end=END, auto_approve_as="A-01", timeout_seconds=30))
    assert outcome.status == "rolled_back" and "validator crashed" in outcome.reason
    with database.read() as session:
        assert AssignmentRepository(session).digest(start=START, end=END) == before
    database.dispose()


def test_cli_generate_publishes_shows_progress_and_recover_finds_nothing(flow_env, cli, tmp_path):
    import uuid

    from prefect import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.logging.handlers import APILogWorker

    path = tmp_path / "p.json"
    document = program_document()
    document["rotations"][1]["residents"]["min"] = 0
    path.write_text(dumps(document))
    assert cli("program", "import", str(path)).code == 0
    result = cli("generate", "--start", str(START), "--end", str(END), "--yes", "--timeout", "30", "--json")
    assert result.code == 0, result.err
    payload = json.loads(result.out)
    assert payload["status"] == "published" and payload["backup_id"] and payload["flow_run_id"]
    assert {
        "demand_coverage",
        "slot_fill_rate",
        "tier1_violations",
        "tier2_warnings",
        "n1_compliant",
        "solver_status",
        "objective",
        "best_bound",
        "solve_seconds",
        "level_staffing",
        "shortfalls",
    } <= set(payload["metrics"])
    assert payload["metrics"]["level_staffing"].endswith("(proved)"), payload["metrics"]
    # The solver's progress: a live line from the CLI, and the same updates in the run's log.
    shown = [line for line in result.err.splitlines() if line.startswith("solving: objective ")]
    assert shown and all(", gap " in line and line.endswith(" s") for line in shown)
    APILogWorker.drain_all(timeout=10)
    with get_client(sync_client=True) as client:
        logs = client.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[uuid.UUID(payload["flow_run_id"])]))
        )
    assert any(log.message.startswith("solver progress (staffing): objective ") for log in logs)
    assert any(log.message.startswith("priority staffing: ") for log in logs)
    assert json.loads(cli("recover", "--json").out)["recovered"] == []


def test_a_rerun_of_the_same_run_reuses_its_backup_and_row(flow_env):
    database = _seed(flow_env)
    params = GenerateParams(start=START, end=END, auto_approve_as="A-01", timeout_seconds=30, run_id="rerun-fixed-id")
    first = generate_schedule(params)
    second = generate_schedule(params)
    assert first.status == second.status == "published"
    assert first.backup_id == second.backup_id  # the cached step, not a new backup
    with database.read() as session:
        assert len(session.scalars(select(ScheduleRunRow).where(ScheduleRunRow.id == "rerun-fixed-id")).all()) == 1
    other = generate_schedule(params.model_copy(update={"run_id": "another-run", "end": END + dt.timedelta(days=1)}))
    assert other.backup_id != first.backup_id
    database.dispose()


def test_two_concurrent_generations_never_interleave(flow_env):
    from rotaguard.db.tables import AssignmentRow

    database = _seed(flow_env)
    first, box_a = _run_in_thread(
        GenerateParams(
            start=START,
            end=END,
            auto_approve_as="C-01",
            timeout_seconds=30,
            run_id="concurrent-a",
            lock_wait_seconds=120,
        )
    )
    second, box_b = _run_in_thread(
        GenerateParams(
            start=START,
            end=END,
            auto_approve_as="A-01",
            timeout_seconds=30,
            run_id="concurrent-b",
            lock_wait_seconds=120,
        )
    )
    first.join(timeout=300)
    second.join(timeout=300)
    statuses = sorted([box_a["outcome"].status, box_b["outcome"].status])
    assert statuses in (["published", "published"], ["published", "rejected"])
    with database.read() as session:
        writers = set(
            session.scalars(
                select(AssignmentRow.run_id).where(
                    AssignmentRow.date >= START, AssignmentRow.date <= END, AssignmentRow.source == "solver"
                )
            )
        )
    assert len(writers) == 1  # the range holds one run's schedule, whole
    database.dispose()


def test_an_approver_of_only_blanks_is_refused():
    import pytest
    from pydantic import ValidationError

    from rotaguard.domain.base import VISIBLE_TEXT_PATTERN
    from rotaguard.flows.generate_schedule import Approval

    for blank in ("", "   ", "\t\n", "\u200b", " \u3000 "):
        with pytest.raises(ValidationError):
            Approval(approve=True, approver=blank)
    assert Approval(approve=True, approver=" Coordinator Example ").approver == " Coordinator Example "
    # The Prefect UI validates the form against this schema, so it refuses blank-looking names too.
    assert Approval.model_json_schema()["properties"]["approver"]["pattern"] == VISIBLE_TEXT_PATTERN
