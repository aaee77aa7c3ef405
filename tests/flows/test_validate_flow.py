"""The read-only validate-schedule flow against a real Prefect API, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

from dbstate import digest
from factories import assignment
from rotaguard.db import Database
from rotaguard.domain import Slot
from swapdata import day, seed, week


def _artifacts(flow_run_id: str) -> dict[str, list]:
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
    return {a.key: json.loads(a.data) if isinstance(a.data, str) else a.data for a in found}


def _run(params):
    from rotaguard.flows.validate_schedule import validate_schedule

    state = validate_schedule(params, return_state=True)
    return state.result(), str(state.state_details.flow_run_id)


def test_a_clean_week_is_compliant_and_nothing_is_written(flow_env, tmp_path):
    from rotaguard.flows.validate_schedule import ValidateParams

    database = Database(flow_env)
    seed(database)
    before = digest(database)
    outcome, flow_run_id = _run(ValidateParams(start=day(0), end=day(6), require_n1=True))
    assert outcome.status == "compliant", outcome
    assert outcome.metrics["tier1_violations"] == 0 and outcome.metrics["n1_compliant"] is True
    artifacts = _artifacts(flow_run_id)
    metrics = {row["metric"]: row["value"] for row in artifacts["validation-metrics"]}
    assert metrics["tier1_violations"] == "0" and metrics["n1_compliant"] == "True"
    assert artifacts["validation-violations"] == [{"rule": "none", "tier": 0, "person": "", "date": "", "message": ""}]
    assert digest(database) == before
    assert not (tmp_path / "backups").exists() or not any((tmp_path / "backups").iterdir())  # no backup taken
    database.dispose()


def test_a_tier1_violation_is_reported_in_the_outcome_and_the_artifacts(flow_env):
    from rotaguard.flows.validate_schedule import ValidateParams

    database = Database(flow_env)
    # R2-01 on call two nights running: a Tier 1 rule.
    seed(database, assignments=[*week(), assignment("R2-01", day(1), Slot.CALL, "NIGHT")])
    outcome, flow_run_id = _run(ValidateParams(start=day(0), end=day(6)))
    assert outcome.status == "non_compliant" and outcome.reason.startswith(
        f"{outcome.metrics['tier1_violations']} Tier 1 violations"
    )
    assert outcome.metrics["tier1_violations"] >= 1 and outcome.tier1
    violations = _artifacts(flow_run_id)["validation-violations"]
    assert any(row["tier"] == 1 and row["person"] == "R2-01" for row in violations), violations
    database.dispose()


def test_without_a_program_it_says_so_and_publishes_nothing(flow_env):
    from rotaguard.flows.validate_schedule import ValidateParams

    outcome, flow_run_id = _run(ValidateParams(start=day(0), end=day(6)))
    assert (outcome.status, outcome.reason) == ("failed", "no program has been imported yet: import one first")
    assert _artifacts(flow_run_id) == {}
