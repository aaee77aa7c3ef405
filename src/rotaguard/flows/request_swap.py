"""``request_swap``: check and store a request, wait for person B's answer (a form in the
Prefect UI, or ``rotaguard swap accept``), a coordinator's decision when it needs one, then execute."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput
from pydantic import BaseModel, Field, model_validator

from rotaguard.domain.base import FREE_TEXT_PATTERN, MAX_DATE, MIN_DATE
from rotaguard.domain.swaps import MAX_SWAP_DAYS, DateRange
from rotaguard.errors import RotaGuardError
from rotaguard.flows.execute_swap import execute_swap
from rotaguard.flows.runs import current_flow_run_id
from rotaguard.flows.swap_actions import IDENTIFIER, SwapActionParams
from rotaguard.tasks.swaps import answer_swap_request, create_swap_request, decide_swap_request


class RequestSwapParams(BaseModel):
    """Bounded parameters of one swap request."""

    actor_id: str = Field(pattern=IDENTIFIER, description="Who asks: the person giving duties away, or a coordinator")
    kind: str = Field(default="absorb", pattern="^(absorb|one_to_one)$")
    person_a: str = Field(pattern=IDENTIFIER, description="Whose duties in range A move")
    person_b: str | None = Field(default=None, pattern=IDENTIFIER, description="Who takes them; empty: rank candidates")
    a_start: dt.date = Field(ge=MIN_DATE, le=MAX_DATE)
    a_end: dt.date = Field(ge=MIN_DATE, le=MAX_DATE)
    b_start: dt.date | None = Field(ge=MIN_DATE, le=MAX_DATE, default=None)
    b_end: dt.date | None = Field(ge=MIN_DATE, le=MAX_DATE, default=None)
    reason: str = Field(default="", max_length=2000, pattern=FREE_TEXT_PATTERN)
    answer_within_hours: int = Field(default=48, ge=1, le=14 * 24)
    wait_for_answer: bool = Field(
        default=True, description="Pause for person B's answer and, if needed, a coordinator's decision"
    )
    decision_timeout_hours: int = Field(default=72, ge=1, le=14 * 24)

    @model_validator(mode="after")
    def _ranges(self) -> RequestSwapParams:
        for start, end in ((self.a_start, self.a_end), (self.b_start, self.b_end)):
            if start is not None and end is not None and (end < start or (end - start).days + 1 > MAX_SWAP_DAYS):
                raise ValueError(f"a range runs forward and covers at most {MAX_SWAP_DAYS} days: {start}..{end}")
        if (self.b_start is None) != (self.b_end is None):
            raise ValueError("give both b_start and b_end, or neither")
        return self


class SwapAnswer(RunInput):
    accept: bool = False
    answered_by: str = Field(pattern=IDENTIFIER, description="Your id: person B, or a coordinator answering for B")
    for_person: str | None = Field(
        default=None, pattern=IDENTIFIER, description="An open request: the person taking it (when staff answer)"
    )
    comment: str = Field(default="", max_length=2000, pattern=FREE_TEXT_PATTERN)


class SwapDecision(RunInput):
    approve: bool = False
    decided_by: str = Field(pattern=IDENTIFIER, description="Your id (a coordinator or administrator)")
    comment: str = Field(default="", max_length=2000, pattern=FREE_TEXT_PATTERN)


class RequestOutcome(BaseModel):
    status: str
    swap_id: str | None = None
    message: str


Form = TypeVar("Form", bound=RunInput)


def _describe(outcome: dict[str, Any]) -> str:
    request = outcome["request"]
    lines = [f"## Swap {outcome['id']}: {request['kind']} from {request['person_a']}", "", outcome["message"], ""]
    lines += [f"* {m['date']} {m['slot']} {m['rotation_id']}: {m['from']} -> {m['to']}" for m in outcome["moves"]]
    lines += [f"* candidate {c['person_id']} ({c['name']}), score {c['score']:.2f}" for c in outcome["candidates"]]
    return "\n".join(lines)


def _pause(form: type[Form], description: str, hours: int) -> Form | None:
    try:
        return pause_flow_run(
            wait_for_input=form.with_initial_data(description=description), timeout=hours * 3600, poll_interval=2
        )
    except Exception:  # a pause that times out: nobody answered
        return None


@flow(
    name="request-swap",
    description="Request a swap: validate, rank candidates, wait for person B and (when needed) a coordinator, then execute.",
)
def request_swap(params: RequestSwapParams) -> RequestOutcome:
    logger = get_run_logger()
    range_b = DateRange(start=params.b_start, end=params.b_end) if params.b_start else None
    try:
        created = create_swap_request(
            params.actor_id,
            params.kind,
            params.person_a,
            DateRange(start=params.a_start, end=params.a_end),
            params.person_b,
            range_b,
            params.reason,
            params.answer_within_hours,
            current_flow_run_id(),
        )
    except RotaGuardError as refused:
        return RequestOutcome(status="refused", message=str(refused))
    swap_id = created["id"]
    if created["candidates"]:
        create_table_artifact(
            key="swap-candidates",
            table=[{**c, "parts": str(c["parts"])} for c in created["candidates"]],
            description="Ranked candidates",
        )
    if not params.wait_for_answer:
        return RequestOutcome(status=created["status"], swap_id=swap_id, message=created["message"])
    answer = _pause(
        SwapAnswer, _describe(created) + "\n\nPerson B: tick **accept** and give your id.", params.answer_within_hours
    )
    if answer is None:
        return RequestOutcome(
            status="pending", swap_id=swap_id, message="no answer before the deadline; it expires unanswered"
        )
    try:
        answered = answer_swap_request(swap_id, answer.answered_by, answer.accept, answer.for_person, answer.comment)
        if answered["status"] == "needs_approval":
            decision = _pause(
                SwapDecision,
                _describe(answered) + "\n\nA coordinator: tick **approve** and give your id.",
                params.decision_timeout_hours,
            )
            if decision is None:
                return RequestOutcome(
                    status="needs_approval", swap_id=swap_id, message="no decision before the timeout"
                )
            answered = decide_swap_request(swap_id, decision.decided_by, decision.approve, decision.comment)
    except RotaGuardError as refused:
        return RequestOutcome(status="refused", swap_id=swap_id, message=str(refused))
    if answered["status"] != "approved":
        return RequestOutcome(status=answered["status"], swap_id=swap_id, message=answered["message"])
    executed = execute_swap(SwapActionParams(swap_id=swap_id, actor_id=params.actor_id))
    logger.info(executed.message)
    return RequestOutcome(status=executed.status, swap_id=swap_id, message=executed.message)
