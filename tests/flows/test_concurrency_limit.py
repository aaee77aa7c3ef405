"""The schedule-writes limit that `rotaguard generate`, `swap execute|rollback` and `serve` make sure of, against a real Prefect API."""

from __future__ import annotations


def test_the_limit_is_created_put_back_to_one_active_slot_and_otherwise_left_alone(prefect_api):
    from prefect import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate

    from rotaguard.deployments.limits import ensure_concurrency_limit

    with get_client(sync_client=True) as client:
        try:
            client.delete_global_concurrency_limit_by_name("schedule-writes")
            assert ensure_concurrency_limit() == "created"
            assert ensure_concurrency_limit() == "present"
            for change in ({"limit": 3}, {"active": False}):
                client.update_global_concurrency_limit("schedule-writes", GlobalConcurrencyLimitUpdate(**change))
                assert ensure_concurrency_limit() == "updated"
                limit = client.read_global_concurrency_limit_by_name("schedule-writes")
                assert (limit.limit, limit.active) == (1, True)
        finally:
            ensure_concurrency_limit()  # the session's other flow tests need it
