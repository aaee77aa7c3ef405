"""Swaps between people: authorization, ranked candidates, validation on the tentative
schedule, atomic execution and 24-hour rollback. No Prefect here: flows/ adapts it."""

from rotaguard.swaps.authorization import GRANTS, Action, authorize
from rotaguard.swaps.candidates import Candidate, rank_candidates
from rotaguard.swaps.service import ROLLBACK_WINDOW, SwapDenied, SwapRefused, SwapResult, SwapService
from rotaguard.swaps.tentative import SwapConflict, Verdict, apply_moves, judge, moves_for

__all__ = [
    "GRANTS",
    "ROLLBACK_WINDOW",
    "Action",
    "Candidate",
    "SwapConflict",
    "SwapDenied",
    "SwapRefused",
    "SwapResult",
    "SwapService",
    "Verdict",
    "apply_moves",
    "authorize",
    "judge",
    "moves_for",
    "rank_candidates",
]
