"""The deployments `rotaguard serve` registers, run the way the Prefect UI runs them, on SQLite and PostgreSQL.

`rotaguard serve` runs as a subprocess against the session's real `prefect server start`. The
tests then do through the API what the UI's buttons do: **Run** on a deployment creates a flow
run from it (`create_flow_run_from_deployment` with the whole `params` object the form holds),
and **Resume** on a paused run sends the form's answer (`resume_flow_run` with `run_input`).
The served process picks the runs up and runs each flow in a subprocess of its own.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from e2e_processes import rotaguard_environment, stop_process_group
from factories import program_document
from rotaguard.db import AssignmentRepository, AuditLog, Database
from rotaguard.db.swaps import SwapRepository
from rotaguard.db.tables import ScheduleRunRow
from rotaguard.domain import Slot
from rotaguard.interchange.document import parse_document
from rotaguard.interchange.importer import import_document
from swapdata import day, seed

NAMES = ("generate-schedule", "validate-schedule", "request-swap", "execute-swap", "rollback-swap")
START, END = dt.date(2026, 3, 12), dt.date(2026, 3, 14)
APPROVER = "Coordinator Example"
SERVE_READY_SECONDS = 120  # start-up, the limit, five registrations and a first poll
PAUSE_SECONDS = 120  # pick-up, a subprocess, backup, health and data checks until the pause
FINISH_SECONDS = 180  # solve, write, validate and publish (or execute) after the answer
POLL_SECONDS = "2"  # how often the served runner asks for new runs (Prefect's default is 10)


def _client(api_url: str):
    from prefect.client.orchestration import SyncPrefectClient

    return SyncPrefectClient(api=api_url)


class Served:
    """`rotaguard serve` as a subprocess in its own process group; its output goes to a file."""

    def __init__(self, process: subprocess.Popen, log: Path, api_url: str, started: dt.datetime) -> None:
        self.process, self.log, self.api_url, self.started = process, log, api_url, started
        self.flow_run_ids: list[uuid.UUID] = []

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def wait_until_serving(self, seconds: float = SERVE_READY_SECONDS) -> dict:
        """Every deployment registered by THIS process (the server keeps earlier tests' ones) and polled since."""
        deadline = time.monotonic() + seconds
        with _client(self.api_url) as client:
            while True:
                if self.process.poll() is not None:
                    raise AssertionError(f"rotaguard serve exited {self.process.returncode}:\n{self.output()}")
                found = {}
                for name in NAMES:
                    with contextlib.suppress(Exception):
                        found[name] = client.read_deployment_by_name(f"{name}/{name}")
                ready = [
                    d for d in found.values() if d.updated and d.updated >= self.started and d.last_polled and d.last_polled >= self.started
                ]
                if len(ready) == len(NAMES):
                    return found
                if time.monotonic() > deadline:
                    raise AssertionError(f"only {sorted(d.name for d in ready)} served after {seconds} s:\n{self.output()}")
                time.sleep(0.5)

    def run(self, deployment, params: dict) -> uuid.UUID:
        """What the UI's Run button does: a flow run from the deployment with the form's whole params object."""
        with _client(self.api_url) as client:
            flow_run = client.create_flow_run_from_deployment(deployment.id, parameters={"params": params} if params else {})
        self.flow_run_ids.append(flow_run.id)
        return flow_run.id

    def wait_for(self, flow_run_id: uuid.UUID, wanted, seconds: float):
        deadline = time.monotonic() + seconds
        with _client(self.api_url) as client:
            while True:
                flow_run = client.read_flow_run(flow_run_id)
                state = flow_run.state
                if state is not None and state.type is wanted:
                    return flow_run
                if state is not None and state.is_final():
                    raise AssertionError(f"flow run {flow_run_id} ended {state.type.value} ({state.message}), not {wanted.value}:\n{self.output()}")
                if self.process.poll() is not None:
                    raise AssertionError(f"rotaguard serve exited {self.process.returncode}:\n{self.output()}")
                if time.monotonic() > deadline:
                    raise AssertionError(f"flow run {flow_run_id} is {state.type.value if state else None}, not {wanted.value}, after {seconds} s:\n{self.output()}")
                time.sleep(0.5)

    def resume(self, flow_run_id: uuid.UUID, run_input: dict) -> None:
        """What the Resume form's Submit does."""
        from prefect.client.schemas.responses import SetStateStatus

        with _client(self.api_url) as client:
            result = client.resume_flow_run(flow_run_id, run_input=run_input)
        assert result.status is SetStateStatus.ACCEPT, result.details

    def pause_form(self, flow_run) -> tuple[str, dict]:
        """What the Resume dialog shows: the description and the form's schema, as the paused flow stored them."""
        from prefect.input.run_input import keyset_from_paused_state

        keyset = keyset_from_paused_state(flow_run.state)
        with _client(self.api_url) as client:
            description = json.loads(client.read_flow_run_input(flow_run.id, keyset["description"]))
            schema = json.loads(client.read_flow_run_input(flow_run.id, keyset["schema"]))
        return description, schema

    def wait_for_log(self, flow_run_id: uuid.UUID, text: str, seconds: float = 30) -> str:
        """A line of the run's log as the UI shows it (logs reach the API in batches, so wait a little)."""
        from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

        deadline = time.monotonic() + seconds
        with _client(self.api_url) as client:
            while True:
                messages = [log.message for log in client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))]
                found = [m for m in messages if text in m]
                if found:
                    return found[0]
                if time.monotonic() > deadline:
                    raise AssertionError(f"no {text!r} in the log of {flow_run_id} after {seconds} s: {messages}")
                time.sleep(0.5)

    def artifacts(self, flow_run_id: uuid.UUID) -> dict:
        from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

        with _client(self.api_url) as client:
            found = client.read_artifacts(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
        return {a.key: (a.type, json.loads(a.data) if a.type == "table" else a.data) for a in found}


@contextlib.contextmanager
def serving(database_url: str, api_url: str, tmp_path: Path):
    """Start `rotaguard serve`; afterwards stop its whole process group and leave the server clean."""
    env = rotaguard_environment(database_url, api_url, tmp_path) | {"PREFECT_RUNNER_POLL_FREQUENCY": POLL_SECONDS}
    rotaguard = Path(sys.executable).parent / "rotaguard"
    log = tmp_path / "serve.log"
    started = dt.datetime.now(dt.UTC)
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(rotaguard), "serve"], env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    served = Served(process, log, api_url, started)
    try:
        yield served
    finally:
        stop_process_group(process)
        _leave_the_server_clean(served)


def _leave_the_server_clean(served: Served) -> None:
    """Runs a failed test left paused or running are cancelled, and a killed holder's slot freed,
    so the next test's schedule write does not wait for a dead run's lease."""
    from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate
    from prefect.states import Cancelled

    with _client(served.api_url) as client:
        left = False
        for flow_run_id in served.flow_run_ids:
            with contextlib.suppress(Exception):
                state = client.read_flow_run(flow_run_id).state
                if state is not None and not state.is_final():
                    left = True
                    client.set_flow_run_state(flow_run_id, Cancelled(message="test cleanup"), force=True)
        if left:
            with contextlib.suppress(Exception):
                client.update_global_concurrency_limit("schedule-writes", GlobalConcurrencyLimitUpdate(active_slots=0))


def _seed_program(database_url: str) -> None:
    document = program_document()
    document["rotations"][1]["residents"]["min"] = 0  # solvable: the schedule publishes
    database = Database(database_url)
    try:
        import_document(database, parse_document(json.dumps(document)), actor="test", source="factory")
    finally:
        database.dispose()


def _with(database_url: str, read):
    database = Database(database_url)
    try:
        with database.read() as session:
            return read(session)
    finally:
        database.dispose()


def _backups(tmp_path: Path) -> set[str]:
    return {p.name for p in (tmp_path / "backups").glob("*.dump")} if (tmp_path / "backups").exists() else set()


def test_served_deployments_generate_with_the_ui_approval_and_validate(prefect_server, database_url, tmp_path):
    from prefect.client.schemas.objects import StateType
    from prefect.exceptions import PrefectHTTPStatusError

    from rotaguard.deployments.definitions import SPECS, default_parameters

    _seed_program(database_url)
    with serving(database_url, prefect_server, tmp_path) as served:
        deployments = served.wait_until_serving()
        for spec in SPECS:
            deployment = deployments[spec.name]
            assert (deployment.description, deployment.entrypoint, deployment.paused) == (spec.description, spec.module_entrypoint, False)
            # Serving started today: the same defaults the definitions give (a test running across midnight may differ).
            assert deployment.parameters == default_parameters(spec), spec.name
        generate = deployments["generate-schedule"]
        assert generate.parameter_openapi_schema["properties"]["params"]["$ref"] == "#/definitions/GenerateParams"

        # The run form with Start cleared: the API refuses it, nothing runs. The server merges a run's
        # parameters over the defaults at the top level only, so a form always sends all of params.
        partial = {k: v for k, v in generate.parameters["params"].items() if k != "start"}
        with pytest.raises(PrefectHTTPStatusError, match="start"):
            with _client(prefect_server) as client:
                client.create_flow_run_from_deployment(generate.id, parameters={"params": partial})

        # The form as a coordinator fills it in: the defaults, another range and a shorter solve.
        params = {**generate.parameters["params"], "start": str(START), "end": str(END), "timeout_seconds": 30, "approval_timeout_seconds": 600}
        flow_run_id = served.run(generate, params)
        paused = served.wait_for(flow_run_id, StateType.PAUSED, PAUSE_SECONDS)
        description, schema = served.pause_form(paused)
        assert description.startswith(f"## Approve schedule generation {START} .. {END}")
        assert schema["required"] == ["approver"] and schema["properties"]["approve"]["type"] == "boolean"
        served.resume(flow_run_id, {"approve": True, "approver": APPROVER, "comment": "approved from the deployment"})
        served.wait_for(flow_run_id, StateType.COMPLETED, FINISH_SECONDS)

        artifacts = served.artifacts(flow_run_id)
        assert {key: kind for key, (kind, _) in artifacts.items()} == {"metrics": "table", "violations": "table", "schedule-grid": "markdown"}
        metrics = {row["metric"]: row["value"] for row in artifacts["metrics"][1]}
        assert (metrics["tier1_violations"], metrics["demand_coverage"]) == ("0", "1.0")
        assert [row["rule"] for row in artifacts["violations"][1]] == ["none"]
        assert artifacts["schedule-grid"][1].startswith(f"## Schedule {START} .. {END}")
        # The generation's record: its run id is the flow run's, approved by the name typed in the form.
        row = _with(database_url, lambda s: s.get(ScheduleRunRow, str(flow_run_id)))
        assert (row.status, row.approved_by, row.flow_run_id) == ("published", APPROVER, str(flow_run_id))
        made = _with(database_url, lambda s: AssignmentRepository(s).schedule(start=START, end=END).assignments)
        assert any(a.source == "solver" for a in made)

        # validate-schedule: read-only, so it writes nothing and takes no backup.
        events = _with(database_url, lambda s: len(AuditLog(s).events()))
        backups = _backups(tmp_path)
        validate = deployments["validate-schedule"]
        checked = served.run(validate, {"start": str(START), "end": str(END), "require_n1": False})
        quick = served.run(validate, {})  # Quick run: the deployment's defaults, the next block
        served.wait_for(checked, StateType.COMPLETED, FINISH_SECONDS)
        served.wait_for(quick, StateType.COMPLETED, FINISH_SECONDS)
        checked_metrics = {row["metric"]: row["value"] for row in served.artifacts(checked)["validation-metrics"][1]}
        assert (checked_metrics["tier1_violations"], checked_metrics["demand_coverage"]) == ("0", "1.0")
        assert set(served.artifacts(quick)) == {"validation-metrics", "validation-violations"}
        assert _with(database_url, lambda s: len(AuditLog(s).events())) == events
        assert _backups(tmp_path) == backups


def test_served_swap_deployments_request_answer_execute_and_roll_back(prefect_server, database_url, tmp_path):
    from prefect.client.schemas.objects import StateType

    database = Database(database_url)
    try:
        seed(database)
    finally:
        database.dispose()

    def holders():
        assignments = _with(database_url, lambda s: AssignmentRepository(s).schedule(start=day(0), end=day(0)).assignments)
        return [a.person_id for a in assignments if a.slot is Slot.CALL]

    def swap():
        requests = _with(database_url, lambda s: SwapRepository(s).list())
        assert len(requests) == 1
        return requests[0]

    assert holders() == ["R2-01"]
    with serving(database_url, prefect_server, tmp_path) as served:
        deployments = served.wait_until_serving()
        request = deployments["request-swap"]
        params = {
            **request.parameters["params"],
            "actor_id": "R2-01",
            "person_a": "R2-01",
            "person_b": "R2-03",
            "a_start": str(day(0)),
            "a_end": str(day(0)),
            "reason": "conference",
        }
        flow_run_id = served.run(request, params)
        paused = served.wait_for(flow_run_id, StateType.PAUSED, PAUSE_SECONDS)
        description, schema = served.pause_form(paused)
        asked = swap()
        assert (asked.status.value, asked.flow_run_id) == ("pending", str(flow_run_id))
        assert description.startswith(f"## Swap {asked.id}: absorb from R2-01") and "R2-01 -> R2-03" in description
        assert schema["required"] == ["answered_by"]
        served.resume(flow_run_id, {"accept": True, "answered_by": "R2-03", "comment": "ok"})
        served.wait_for(flow_run_id, StateType.COMPLETED, FINISH_SECONDS)
        assert swap().status.value == "executed"
        assert holders() == ["R2-03"]

        # execute-swap from its deployment on the executed swap: a no-op that says so.
        execute = deployments["execute-swap"]
        again = served.run(execute, {**execute.parameters["params"], "swap_id": asked.id, "actor_id": "R2-03"})
        served.wait_for(again, StateType.COMPLETED, FINISH_SECONDS)
        assert served.wait_for_log(again, f"swap {asked.id} was already executed at ")
        assert (swap().status.value, holders()) == ("executed", ["R2-03"])

        rollback = deployments["rollback-swap"]
        rolled = served.run(rollback, {**rollback.parameters["params"], "swap_id": asked.id, "actor_id": "R2-01"})
        served.wait_for(rolled, StateType.COMPLETED, FINISH_SECONDS)
        assert swap().status.value == "rolled_back"
        assert holders() == ["R2-01"]
        kind, moves = served.artifacts(rolled)["unswap-moves"]
        assert kind == "table" and [(m["from"], m["to"]) for m in moves] == [("R2-03", "R2-01")]

    actions = _with(database_url, lambda s: (AuditLog(s).verify().ok, [e.action for e in reversed(AuditLog(s).events())]))
    assert actions[0] and actions[1][-5:] == ["swap.request", "swap.accept", "swap.validate", "swap.execute", "swap.rollback"]
