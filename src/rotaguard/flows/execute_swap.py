"""``execute_swap``: verified backup, re-check, one-transaction move, audit, e-mail both people."""

from __future__ import annotations

from prefect import flow

from rotaguard.flows.swap_actions import SwapActionParams, SwapOutcome, run_guarded
from rotaguard.tasks.swaps import execute_swap_request


@flow(
    name="execute-swap",
    description="Execute an approved swap: verified backup, re-check, one-transaction move, audit, e-mail both people.",
)
def execute_swap(params: SwapActionParams) -> SwapOutcome:
    return run_guarded(params, "swap", execute_swap_request)
