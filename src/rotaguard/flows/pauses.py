"""Pausing a flow run for a person's answer, in a way a command line running the flow in-process can find.

The Prefect UI finds a paused run by itself (its Resume button opens the RunInput as a form).
``rotaguard`` commands run the flow in a thread of their own process; they learn the flow run
to answer from ``pending_answer(request_id)`` and then resume it through the API, as the form does.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TypeVar

from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput
from prefect.runtime import flow_run

Answer = TypeVar("Answer", bound=RunInput)


@dataclass(frozen=True)
class PendingAnswer:
    flow_run_id: str
    description: str


_paused: dict[str, PendingAnswer] = {}
_guard = threading.Lock()


def pause_for_answer(
    model: type[Answer], *, description: str, timeout_seconds: int, request_id: str | None = None
) -> Answer | None:
    """Pause until a person answers through ``model``'s form; None when nobody answers in time."""
    if request_id:
        with _guard:
            _paused[request_id] = PendingAnswer(str(flow_run.id), description)
    try:
        return pause_flow_run(
            wait_for_input=model.with_initial_data(description=description), timeout=timeout_seconds, poll_interval=2
        )
    except FlowPauseTimeout:
        return None
    finally:
        if request_id:
            with _guard:
                _paused.pop(request_id, None)


def pending_answer(request_id: str) -> PendingAnswer | None:
    """The flow run pausing (or about to) for ``request_id`` in this process, and what it asks."""
    with _guard:
        return _paused.get(request_id)
