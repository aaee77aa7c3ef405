"""What the execute and rollback flows share: parameters, outcome, and the guarded step."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from prefect import get_run_logger
from prefect.artifacts import create_table_artifact
from pydantic import BaseModel, Field

from rotaguard.db.swaps import SwapRepository
from rotaguard.errors import RotaGuardError
from rotaguard.flows.gate import LOCKED
from rotaguard.flows.slots import schedule_writes_slot
from rotaguard.swaps.tentative import window
from rotaguard.tasks.context import database_session
from rotaguard.tasks.generation import GateError, ensure_recent_backup
from rotaguard.tasks.swaps import notify_people

IDENTIFIER = r"^[A-Za-z0-9_.\-]{1,64}$"


class SwapActionParams(BaseModel):
    """Which swap, and who acts (a person's or staff member's id)."""

    swap_id: str = Field(pattern=r"^[A-Za-z0-9\-]{1,36}$")
    actor_id: str = Field(pattern=IDENTIFIER)
    lock_wait_seconds: int = Field(default=120, ge=0, le=3600)


class SwapOutcome(BaseModel):
    status: str  # the swap's status, or "refused"
    swap_id: str
    message: str
    changed: bool = False
    backup_id: str | None = None
    moves: list[dict[str, Any]] = Field(default_factory=list)


# A swap task: (swap id, actor id) -> the swap's outcome as a dict (status, message, changed, moves).
SwapStep = Callable[[str, str], dict[str, Any]]


def _swap_span(swap_id: str) -> tuple[dt.date, dt.date]:
    with database_session() as database, database.read() as session:
        request = SwapRepository(session).get(swap_id=swap_id)
    if request is None:
        raise RotaGuardError(f"no swap request {swap_id!r}")
    return window(request, 0)


def run_guarded(params: SwapActionParams, operation: str, step: SwapStep) -> SwapOutcome:
    logger = get_run_logger()
    try:
        start, end = _swap_span(params.swap_id)
        with schedule_writes_slot(params.lock_wait_seconds):
            backup = ensure_recent_backup(f"{operation}-{params.swap_id}", start, end, operation=operation)
            outcome = step(params.swap_id, params.actor_id)
    except (RotaGuardError, GateError, TimeoutError) as refused:
        logger.warning("swap %s %s refused: %s", params.swap_id, operation, refused)
        return SwapOutcome(
            status="refused",
            swap_id=params.swap_id,
            message=str(refused) or LOCKED,
        )
    if outcome["moves"]:
        create_table_artifact(key=f"{operation}-moves", table=outcome["moves"], description=outcome["message"])
    if outcome["changed"]:
        notify_people(outcome)
    logger.info(outcome["message"])
    return SwapOutcome(
        status=outcome["status"],
        swap_id=params.swap_id,
        message=outcome["message"],
        changed=outcome["changed"],
        backup_id=backup["id"],
        moves=outcome["moves"],
    )
