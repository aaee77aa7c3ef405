"""The swap flows' steps: small Prefect tasks over ``rotaguard.swaps``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from rotaguard.db import AuditLog, ProgramRepository
from rotaguard.domain.swaps import DateRange, SwapKind
from rotaguard.errors import RotaGuardError
from rotaguard.notify import send_notice
from rotaguard.settings import Settings
from rotaguard.swaps import SwapService
from rotaguard.swaps.service import SwapResult, swap_notice
from rotaguard.tasks.context import database_session
from rotaguard.tasks.generation import retry_transient


@contextmanager
def swap_service() -> Iterator[SwapService]:
    """The swap service over the settings' database, disposed when the block ends."""
    with database_session() as database:
        yield SwapService(database)


def _done(result: SwapResult) -> dict[str, Any]:
    return {**result.as_dict(), "notify": list(filter(None, result.notify))}


@task(cache_policy=NO_CACHE)
def create_swap_request(
    actor_id: str,
    kind: str,
    person_a: str,
    range_a: DateRange,
    person_b: str | None,
    range_b: DateRange | None,
    reason: str,
    answer_within_hours: int,
    flow_run_id: str | None,
) -> dict[str, Any]:
    """Check and store the request; rank candidates when nobody is named."""
    with swap_service() as service:
        result = service.request(
            actor_id=actor_id,
            kind=SwapKind(kind),
            person_a=person_a,
            person_b=person_b,
            range_a=range_a,
            range_b=range_b,
            reason=reason,
            answer_within=timedelta(hours=answer_within_hours),
            flow_run_id=flow_run_id,
        )
    return _done(result)


@task(cache_policy=NO_CACHE)
def answer_swap_request(
    swap_id: str, actor_id: str, accept: bool, for_person: str | None, comment: str
) -> dict[str, Any]:
    """Person B (or staff for B) accepts, which validates the swap, or declines."""
    with swap_service() as service:
        result = service.answer(
            swap_id=swap_id, actor_id=actor_id, accept=accept, for_person=for_person, comment=comment
        )
    return _done(result)


@task(cache_policy=NO_CACHE)
def decide_swap_request(swap_id: str, actor_id: str, approve: bool, comment: str) -> dict[str, Any]:
    """A coordinator or admin approves or rejects a swap that needs approval."""
    with swap_service() as service:
        result = service.decide(swap_id=swap_id, actor_id=actor_id, approve=approve, comment=comment)
    return _done(result)


@task(retries=2, retry_delay_seconds=2, retry_condition_fn=retry_transient, cache_policy=NO_CACHE)
def execute_swap_request(swap_id: str, actor_id: str) -> dict[str, Any]:
    """Move the assignments in one transaction (idempotent: a retry finds it executed)."""
    with swap_service() as service:
        result = service.execute(swap_id=swap_id, actor_id=actor_id)
    return _done(result)


@task(retries=2, retry_delay_seconds=2, retry_condition_fn=retry_transient, cache_policy=NO_CACHE)
def rollback_swap_request(swap_id: str, actor_id: str) -> dict[str, Any]:
    """Put the assignments back within 24 hours (a second rollback says so and does nothing)."""
    with swap_service() as service:
        result = service.rollback(swap_id=swap_id, actor_id=actor_id)
    return _done(result)


@task(retries=3, retry_delay_seconds=[2, 10, 30], cache_policy=NO_CACHE)
def send_swap_email(outcome: dict[str, Any]) -> bool:
    """E-mail both people after the commit; retried, and a final failure never undoes the swap."""
    with database_session() as database, database.read() as session:
        program = ProgramRepository(session).load()
    if program is None:
        raise RotaGuardError("no program is stored: nobody's address is known")
    return send_notice(Settings(), swap_notice(program, outcome))


def notify_people(outcome: dict[str, Any]) -> None:
    """Send the e-mail; when every retry failed, log and audit it and go on."""
    logger = get_run_logger()
    state = send_swap_email(outcome, return_state=True)
    if state.is_completed():
        logger.info(
            "swap %s: e-mail %s", outcome["id"], "sent" if state.result() else "off (no SMTP host or no addresses)"
        )
        return
    logger.error("swap %s: e-mail failed after retries; the swap stands", outcome["id"])
    with database_session() as database, database.write() as session:
        AuditLog(session).append(
            actor="rotaguard", action="swap.notify_failed", subject=outcome["id"], details={"to": outcome["notify"]}
        )
