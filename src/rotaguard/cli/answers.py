"""Run a flow in this process and answer its pause: at a terminal, or by pointing at the Prefect UI."""

from __future__ import annotations

import sys
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import typer

PAUSE_WAIT_SECONDS = 60  # from the flow announcing its pause until the API shows it paused

OutcomeT = TypeVar("OutcomeT")


def _wait_until_paused(flow_run_id: str) -> bool:
    from prefect import get_client

    deadline = time.monotonic() + PAUSE_WAIT_SECONDS
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            state = client.read_flow_run(uuid.UUID(flow_run_id)).state
            if state is not None and state.is_paused():
                return True
            time.sleep(0.5)
    return False


def run_answering(
    run: Callable[[], OutcomeT], *, request_id: str, question: str, answer: Callable[[bool], dict[str, Any]]
) -> OutcomeT:
    """Call ``run`` (a flow) in a thread; when it pauses for ``request_id``, show what it asks and
    resume it with ``answer(yes)`` at a terminal, or say where the Prefect UI shows the form."""
    from prefect.flow_runs import resume_flow_run
    from prefect.settings import PREFECT_UI_URL

    from rotaguard.flows.pauses import pending_answer

    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["outcome"] = run()
        except BaseException as error:  # handed to the caller's thread
            box["error"] = error

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    asked = False
    while worker.is_alive():
        worker.join(timeout=0.5)
        pending = None if asked else pending_answer(request_id)
        if pending is None or not _wait_until_paused(pending.flow_run_id):
            continue
        asked = True
        if sys.stdin.isatty():
            sys.stderr.write(pending.description + "\n\n")
            yes = typer.confirm(question, default=False)
            resume_flow_run(uuid.UUID(pending.flow_run_id), run_input=answer(yes))
        else:
            ui = PREFECT_UI_URL.value() or "the Prefect UI"
            sys.stderr.write(
                f"rotaguard: waiting for approval in the Prefect UI: {ui}/runs/flow-run/{pending.flow_run_id}\n"
            )
    if "error" in box:
        raise box["error"]
    outcome: OutcomeT = box["outcome"]
    return outcome
