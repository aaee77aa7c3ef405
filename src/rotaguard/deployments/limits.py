"""The ``schedule-writes`` Prefect global concurrency limit: one slot, active.

The flows take it strictly (a missing limit is an error inside the flow), so whoever starts
them makes sure of it first: ``rotaguard generate``, ``rotaguard swap execute|rollback`` and
``rotaguard serve``. Prefect is imported inside the function: callers set PREFECT_HOME first.
"""

from __future__ import annotations

from rotaguard.db.locks import SCHEDULE_WRITES
from rotaguard.errors import RotaGuardError

SCHEDULE_WRITES_SLOTS = 1


def ensure_concurrency_limit() -> str:
    """Create the limit when missing, or put back one slot and activate it; returns what was done
    (``created``, ``updated`` or ``present``). An unreachable Prefect API is a one-line error."""
    import httpx
    from prefect import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate, GlobalConcurrencyLimitUpdate
    from prefect.exceptions import ObjectNotFound

    try:
        with get_client(sync_client=True) as client:
            try:
                limit = client.read_global_concurrency_limit_by_name(SCHEDULE_WRITES)
            except ObjectNotFound:
                client.create_global_concurrency_limit(
                    GlobalConcurrencyLimitCreate(name=SCHEDULE_WRITES, limit=SCHEDULE_WRITES_SLOTS)
                )
                return "created"
            if limit.limit != SCHEDULE_WRITES_SLOTS or not limit.active:
                # More slots, or an inactive limit, would let two schedule writes run at once.
                client.update_global_concurrency_limit(
                    SCHEDULE_WRITES, GlobalConcurrencyLimitUpdate(limit=SCHEDULE_WRITES_SLOTS, active=True)
                )
                return "updated"
            return "present"
    except httpx.HTTPError as error:
        raise RotaGuardError(
            f"the Prefect API is unreachable ({type(error).__name__}: {error}); cannot ensure the {SCHEDULE_WRITES} limit"
        ) from None
    except (
        ValueError
    ) as error:  # Prefect's own "No Prefect API URL provided" when no API and no ephemeral server may start
        raise RotaGuardError(
            f"no Prefect API: {error} (set PREFECT_API_URL); cannot ensure the {SCHEDULE_WRITES} limit"
        ) from None
