"""``rollback_swap``: within 24 hours, if nothing changed since, put a swap's assignments back."""

from __future__ import annotations

from prefect import flow

from rotaguard.flows.swap_actions import SwapActionParams, SwapOutcome, run_guarded
from rotaguard.tasks.swaps import rollback_swap_request


@flow(
    name="rollback-swap",
    description="Roll an executed swap back within 24 hours, if its assignments are unchanged since.",
)
def rollback_swap(params: SwapActionParams) -> SwapOutcome:
    return run_guarded(params, "unswap", rollback_swap_request)
