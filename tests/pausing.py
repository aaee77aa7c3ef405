"""A flow called in a thread of the test, and its pause answered through the API as the Prefect UI's form does."""

from __future__ import annotations

import threading
import time
import uuid

from rotaguard.flows.pauses import pending_answer

PAUSE_SECONDS = 90


class Running:
    """A flow called in a thread, and the pause it reaches."""

    def __init__(self, call) -> None:
        self.box: dict = {}
        self.thread = threading.Thread(target=lambda: self.box.update(outcome=call()), daemon=True)
        self.thread.start()

    def paused(self, request_id: str):
        """The flow run once the API shows it Paused, and the description its form shows."""
        from prefect import get_client

        deadline = time.monotonic() + PAUSE_SECONDS
        while time.monotonic() < deadline and self.thread.is_alive():
            pending = pending_answer(request_id)
            if pending is not None:
                with get_client(sync_client=True) as client:
                    state = client.read_flow_run(uuid.UUID(pending.flow_run_id)).state
                if state is not None and state.is_paused():
                    return pending
            time.sleep(0.3)
        raise AssertionError(f"the flow never paused (it ended: {self.box})")

    def answer(self, request_id: str, run_input: dict):
        from prefect.flow_runs import resume_flow_run

        pending = self.paused(request_id)
        resume_flow_run(uuid.UUID(pending.flow_run_id), run_input=run_input)
        return self.outcome()

    def outcome(self):
        self.thread.join(timeout=PAUSE_SECONDS)
        assert not self.thread.is_alive(), "the flow did not finish after its answer"
        return self.box["outcome"]
