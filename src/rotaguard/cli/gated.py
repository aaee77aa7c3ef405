"""The one way a command runs a gated flow (generate, assign, clear, backup restore): whether the
acting identity may, someone to answer the approval, Prefect's environment, then the run."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel

from rotaguard.cli.common import actor, authorize, flow_params, hide_refusals_from_the_terminal, prefect_environment
from rotaguard.cli.context import close_databases
from rotaguard.deployments.limits import ensure_concurrency_limit
from rotaguard.errors import RotaGuardError

if TYPE_CHECKING:
    from rotaguard.db import Database
    from rotaguard.domain import Program
    from rotaguard.settings import Settings

ParamsT = TypeVar("ParamsT", bound=BaseModel)
OutcomeT = TypeVar("OutcomeT")


@dataclass(frozen=True)
class GatedFlow(Generic[ParamsT, OutcomeT]):
    """A gated flow and its parameters' model; ``request_id_field``: the parameter its approval
    pause is keyed by (the CLI picks the id, to find the pause it answers)."""

    flow: Callable[[ParamsT], OutcomeT]
    params_model: type[ParamsT]
    request_id_field: str = "run_id"


def answers_here(yes: bool) -> bool:
    """Whether ROTAGUARD_ACTOR answers the approval (--yes, or at this terminal), so that whether
    they may is known before anything starts; otherwise the Prefect UI's approver is checked."""
    return yes or sys.stdin.isatty()


def require_an_answerer(yes: bool, what: str) -> None:
    """A pause needs someone to answer it: --yes, a terminal, or a Prefect server's UI (the
    ephemeral API a bare command starts has none)."""
    if yes or sys.stdin.isatty() or os.environ.get("PREFECT_API_URL"):
        return
    raise RotaGuardError(
        f"{what} needs approval: rerun with --yes, at a terminal, or with PREFECT_API_URL set to a Prefect server whose UI can answer"
    )


def approval_at_the_terminal(_params: BaseModel, approve: bool) -> dict[str, Any]:
    """The approval form's answer given at this terminal, by ROTAGUARD_ACTOR."""
    return {"approve": approve, "approver": actor(), "comment": "answered at the terminal"}


def run_gated_command(
    *,
    settings: Settings,
    database: Database,
    subject: str,
    what: str,
    yes: bool,
    load_flow: Callable[[], GatedFlow[ParamsT, OutcomeT]],
    values: dict[str, Any],
    question: Callable[[ParamsT], str],
    answer: Callable[[ParamsT, bool], dict[str, Any]] = approval_at_the_terminal,
    program: Program | None = None,
    while_running: Callable[[], AbstractContextManager[object]] = nullcontext,
) -> tuple[ParamsT, OutcomeT]:
    """Run a gated flow in this process, approved by --yes, at the terminal, or in the Prefect UI.

    ``subject``: its authorization matrix entry, checked here when the approval is answered here
    (``program``: the stored program when the caller has loaded it). ``what``: what needs approval,
    named when nobody can answer. ``load_flow`` imports the flow once Prefect's environment is set
    (importing Prefect reads it). ``values``: the flow's parameters but the request id. ``question``
    and ``answer``: what the terminal asks, and the form's answer from yes or no.
    """
    if answers_here(yes):
        authorize(database, subject, program=program)
    close_databases()  # the flow opens its own connections
    require_an_answerer(yes, what)
    prefect_environment(settings)
    gated = load_flow()
    hide_refusals_from_the_terminal()
    request_id = str(uuid.uuid4())
    params = flow_params(gated.params_model, **{gated.request_id_field: request_id}, **values)
    with while_running():
        ensure_concurrency_limit()
        if yes:
            return params, gated.flow(params)
        from rotaguard.cli.answers import run_answering

        outcome = run_answering(
            lambda: gated.flow(params),
            request_id=request_id,
            question=question(params),
            answer=lambda approve: answer(params, approve),
        )
    return params, outcome
