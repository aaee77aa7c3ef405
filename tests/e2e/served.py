"""`rotaguard serve` as a subprocess, and what the Prefect UI's buttons do, through the API."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

from e2e_processes import rotaguard_environment, stop_process_group

from rotaguard.deployments.definitions import SPECS

NAMES = tuple(spec.name for spec in SPECS)
SERVE_READY_SECONDS = 120  # start-up, the limit, the registrations and a first poll
POLL_SECONDS = "2"  # how often the served runner asks for new runs (Prefect's default is 10)


def client_for(api_url: str, auth_string: str | None = None):
    from prefect.client.orchestration import SyncPrefectClient

    return SyncPrefectClient(api=api_url, auth_string=auth_string)


class Served:
    """`rotaguard serve` as a subprocess in its own process group; its output goes to a file."""

    def __init__(
        self, process: subprocess.Popen, log: Path, api_url: str, started: dt.datetime, auth_string: str | None = None
    ) -> None:
        self.process, self.log, self.api_url, self.started = process, log, api_url, started
        self.auth_string = auth_string
        self.flow_run_ids: list[uuid.UUID] = []

    def client(self):
        return client_for(self.api_url, self.auth_string)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def wait_until_serving(self, seconds: float = SERVE_READY_SECONDS) -> dict:
        """Every deployment registered by THIS process (the server keeps earlier tests' ones) and polled since."""
        deadline = time.monotonic() + seconds
        with self.client() as client:
            while True:
                if self.process.poll() is not None:
                    raise AssertionError(f"rotaguard serve exited {self.process.returncode}:\n{self.output()}")
                found = {}
                for name in NAMES:
                    with contextlib.suppress(Exception):
                        found[name] = client.read_deployment_by_name(f"{name}/{name}")
                ready = [
                    d
                    for d in found.values()
                    if d.updated and d.updated >= self.started and d.last_polled and d.last_polled >= self.started
                ]
                if len(ready) == len(NAMES):
                    return found
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"only {sorted(d.name for d in ready)} served after {seconds} s:\n{self.output()}"
                    )
                time.sleep(0.5)

    def run(self, deployment, params: dict) -> uuid.UUID:
        """What the UI's Run button does: a flow run from the deployment with the form's whole params object."""
        with self.client() as client:
            flow_run = client.create_flow_run_from_deployment(
                deployment.id, parameters={"params": params} if params else {}
            )
        self.flow_run_ids.append(flow_run.id)
        return flow_run.id

    def wait_for(self, flow_run_id: uuid.UUID, wanted, seconds: float):
        deadline = time.monotonic() + seconds
        with self.client() as client:
            while True:
                flow_run = client.read_flow_run(flow_run_id)
                state = flow_run.state
                if state is not None and state.type is wanted:
                    return flow_run
                if state is not None and state.is_final():
                    raise AssertionError(
                        f"flow run {flow_run_id} ended {state.type.value} ({state.message}), not {wanted.value}:\n{self.output()}"
                    )
                if self.process.poll() is not None:
                    raise AssertionError(f"rotaguard serve exited {self.process.returncode}:\n{self.output()}")
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"flow run {flow_run_id} is {state.type.value if state else None}, not {wanted.value}, after {seconds} s:\n{self.output()}"
                    )
                time.sleep(0.5)

    def resume(self, flow_run_id: uuid.UUID, run_input: dict) -> None:
        """What the Resume form's Submit does."""
        from prefect.client.schemas.responses import SetStateStatus

        with self.client() as client:
            result = client.resume_flow_run(flow_run_id, run_input=run_input)
        assert result.status is SetStateStatus.ACCEPT, result.details

    def pause_form(self, flow_run) -> tuple[str, dict]:
        """What the Resume dialog shows: the description and the form's schema, as the paused flow stored them."""
        from prefect.input.run_input import keyset_from_paused_state

        keyset = keyset_from_paused_state(flow_run.state)
        with self.client() as client:
            description = json.loads(client.read_flow_run_input(flow_run.id, keyset["description"]))
            schema = json.loads(client.read_flow_run_input(flow_run.id, keyset["schema"]))
        return description, schema

    def wait_for_log(self, flow_run_id: uuid.UUID, text: str, seconds: float = 30) -> str:
        """A line of the run's log as the UI shows it (logs reach the API in batches, so wait a little)."""
        from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

        deadline = time.monotonic() + seconds
        with self.client() as client:
            while True:
                messages = [
                    log.message
                    for log in client.read_logs(
                        log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]))
                    )
                ]
                found = [m for m in messages if text in m]
                if found:
                    return found[0]
                if time.monotonic() > deadline:
                    raise AssertionError(f"no {text!r} in the log of {flow_run_id} after {seconds} s: {messages}")
                time.sleep(0.5)

    def artifacts(self, flow_run_id: uuid.UUID) -> dict:
        from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

        with self.client() as client:
            found = client.read_artifacts(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
        return {a.key: (a.type, json.loads(a.data) if a.type == "table" else a.data) for a in found}


@contextlib.contextmanager
def serving(
    database_url: str,
    api_url: str,
    tmp_path: Path,
    *,
    settings: dict[str, str] | None = None,
    auth_string: str | None = None,
):
    """Start `rotaguard serve`; afterwards stop its whole process group and leave the server clean."""
    env = (
        rotaguard_environment(database_url, api_url, tmp_path)
        | {"PREFECT_RUNNER_POLL_FREQUENCY": POLL_SECONDS}
        | (settings or {})
    )
    if auth_string:
        env["PREFECT_API_AUTH_STRING"] = auth_string
    rotaguard = Path(sys.executable).parent / "rotaguard"
    log = tmp_path / "serve.log"
    started = dt.datetime.now(dt.UTC)
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(rotaguard), "serve"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    served = Served(process, log, api_url, started, auth_string)
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

    with served.client() as client:
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
