"""The deployments `rotaguard serve` registers, and prefect.yaml, checked without a server.

A run created from a deployment (the UI's Quick run, or its form) is judged twice: by the
Prefect API against the deployment's parameter schema (required fields, patterns, bounds),
then by the flow against its pydantic model (the range rules). Both are run here on the
defaults each deployment offers.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
import yaml

from rotaguard.deployments.definitions import (
    SPECS,
    build_deployments,
    default_parameters,
    next_block,
    nightly_schedule,
    static_defaults,
)
from rotaguard.errors import RotaGuardError
from test_layers import _imports

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "rotaguard"
NAMES = [
    "generate-schedule",
    "validate-schedule",
    "request-swap",
    "execute-swap",
    "rollback-swap",
    "nightly-backup",
    "restore-backup",
    "bulk-assign",
    "plan-year",
    "clear-assignments",
]
TODAY = dt.date(2026, 11, 30)
# What a person types into the swap forms: each swap flow needs its people or its swap named.
NAMED = {
    "request-swap": {
        "actor_id": "R2-01",
        "person_a": "R2-01",
        "person_b": "R2-03",
        "a_start": "2027-01-11",
        "a_end": "2027-01-11",
    },
    "execute-swap": {"swap_id": "4f7d8c1e-0000-4000-8000-000000000001", "actor_id": "R2-01"},
    "rollback-swap": {"swap_id": "4f7d8c1e-0000-4000-8000-000000000001", "actor_id": "R2-01"},
    "restore-backup": {"backup_id": "rotaguard_20261122_020000"},
    "clear-assignments": {"start": "2027-01-11", "end": "2027-01-17"},
    "plan-year": {"year": 2027},
}


def _api_check(parameters: dict, schema: dict, *, ignore_required: bool = False) -> None:
    """The Prefect server's own check of a run's (or a deployment's) parameters."""
    from prefect.utilities.schema_tools.validation import validate

    validate(parameters, schema, raise_on_error=True, ignore_required=ignore_required)


@pytest.fixture(scope="module")
def deployments():
    return {d.name: d for d in build_deployments(today=TODAY, program_timezone="America/Chicago")}


@pytest.fixture(scope="module")
def prefect_yaml():
    text = (ROOT / "prefect.yaml").read_text()
    return yaml.safe_load(text)


def test_the_ten_deployments_are_named_after_their_flows_and_described(deployments):
    assert [spec.name for spec in SPECS] == NAMES
    assert list(deployments) == NAMES
    for spec in SPECS:
        deployment = deployments[spec.name]
        assert deployment.flow_name == spec.name == spec.load_flow().name
        assert deployment.description == spec.description and len(deployment.description) > 80
        assert deployment.entrypoint == spec.module_entrypoint  # importable from any directory
        assert deployment.tags[0] == "rotaguard" and deployment.paused is False
        assert deployment.enforce_parameter_schema is True
        # Only the nightly backup runs by itself.
        assert bool(deployment.schedules) == (spec.name == "nightly-backup")
        assert list(deployment._parameter_openapi_schema.properties) == ["params"]


def test_a_dated_deployment_defaults_to_the_next_block_and_quick_run_is_valid(deployments):
    start, end = next_block(TODAY)
    assert (end - start).days == 27
    for name in ("generate-schedule", "validate-schedule"):
        deployment = deployments[name]
        spec = next(s for s in SPECS if s.name == name)
        params = deployment.parameters["params"]
        assert (params["start"], params["end"]) == (start.isoformat(), end.isoformat())
        assert deployment.parameters == default_parameters(spec, TODAY)
        # Quick run sends the defaults as they are: the API accepts them, and so does the flow's model.
        _api_check(deployment.parameters, deployment._parameter_openapi_schema.model_dump())
        model = spec.load_flow().validate_parameters(deployment.parameters)["params"]
        assert isinstance(model, spec.load_model()) and model.start == start and model.end == end


def test_the_default_block_follows_the_day_serving_starts():
    generate = SPECS[0]
    assert default_parameters(generate, dt.date(2026, 3, 11))["params"]["start"] == "2026-03-12"
    assert default_parameters(generate, dt.date(2026, 3, 12))["params"]["start"] == "2026-04-09"


def test_the_nightly_backup_runs_at_two_in_the_program_time_zone_unless_configured(deployments, monkeypatch):
    (schedule,) = deployments["nightly-backup"].schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone, schedule.active) == (
        "0 2 * * *",
        "America/Chicago",
        True,
    )
    # Quick run and the schedule send the defaults: valid for the API and the flow.
    spec = next(s for s in SPECS if s.name == "nightly-backup")
    _api_check(
        deployments["nightly-backup"].parameters, deployments["nightly-backup"]._parameter_openapi_schema.model_dump()
    )
    assert isinstance(
        spec.load_flow().validate_parameters(deployments["nightly-backup"].parameters)["params"], spec.load_model()
    )
    assert nightly_schedule(program_timezone=None).timezone == "UTC"
    monkeypatch.setenv("ROTAGUARD_NIGHTLY_BACKUP_CRON", "30 3 * * 1-5")
    monkeypatch.setenv("ROTAGUARD_NIGHTLY_BACKUP_TIMEZONE", "Europe/Berlin")
    configured = nightly_schedule(program_timezone="America/Chicago")
    assert (configured.cron, configured.timezone) == ("30 3 * * 1-5", "Europe/Berlin")
    monkeypatch.setenv("ROTAGUARD_NIGHTLY_BACKUP_CRON", "0 25 * * *")
    with pytest.raises(RotaGuardError, match="ROTAGUARD_NIGHTLY_BACKUP_CRON/_TIMEZONE: Invalid cron string"):
        nightly_schedule()
    monkeypatch.setenv("ROTAGUARD_NIGHTLY_BACKUP_CRON", "0 2 * * *")
    monkeypatch.setenv("ROTAGUARD_NIGHTLY_BACKUP_TIMEZONE", "Mars/Olympus")
    with pytest.raises(RotaGuardError, match="Invalid timezone"):
        nightly_schedule()


@pytest.mark.parametrize(
    "name", ["request-swap", "execute-swap", "rollback-swap", "restore-backup", "clear-assignments", "plan-year"]
)
def test_a_swap_deployment_needs_its_people_named_and_then_its_defaults_are_valid(deployments, name):
    from prefect.exceptions import ParameterTypeError
    from prefect.utilities.schema_tools.validation import ValidationError

    deployment = deployments[name]
    spec = next(s for s in SPECS if s.name == name)
    schema = deployment._parameter_openapi_schema.model_dump()
    # Stored with the deployment: valid as far as it goes (how the API checks a deployment's defaults).
    _api_check(deployment.parameters, schema, ignore_required=True)
    # Quick run as it is: the API refuses it before anything starts, naming what is missing.
    with pytest.raises(ValidationError, match="is a required property"):
        _api_check(deployment.parameters, schema)
    with pytest.raises(ParameterTypeError):
        spec.load_flow().validate_parameters(deployment.parameters)
    # The form filled in (the whole params object, as the UI sends it): valid for the API and the flow.
    filled = {"params": {**deployment.parameters["params"], **NAMED[name]}}
    _api_check(filled, schema)
    assert isinstance(spec.load_flow().validate_parameters(filled)["params"], spec.load_model())


def test_bulk_assign_needs_its_rows_or_a_file_and_the_form_rows_are_checked(deployments):
    from prefect.exceptions import ParameterTypeError
    from prefect.utilities.schema_tools.validation import ValidationError

    deployment = deployments["bulk-assign"]
    flow = next(s for s in SPECS if s.name == "bulk-assign").load_flow()
    schema = deployment._parameter_openapi_schema.model_dump()
    # Quick run: the API cannot say "one of two" in the schema, the flow's model does, before any step.
    _api_check(deployment.parameters, schema)
    with pytest.raises(ParameterTypeError, match="give either assignments or path"):
        flow.validate_parameters(deployment.parameters)
    row = {"person": "R1-01", "date": "2027-01-11", "slot": "AM", "rotation": "WARDS", "locked": False}
    filled = {"params": {**deployment.parameters["params"], "assignments": [row]}}
    _api_check(filled, schema)
    assert flow.validate_parameters(filled)["params"].assignments[0].person == "R1-01"
    # A row the form got wrong is refused by the API itself: nothing runs.
    for bad in ({"slot": "NOON"}, {"date": "11/01/2027"}, {"person": ""}):
        with pytest.raises(ValidationError):
            _api_check({"params": {**filled["params"], "assignments": [{**row, **bad}]}}, schema)
    with pytest.raises(ParameterTypeError, match="give either assignments or path"):
        flow.validate_parameters({"params": {**filled["params"], "path": "/srv/block.csv"}})


def test_the_api_schema_refuses_what_the_model_bounds_refuse(deployments):
    from prefect.utilities.schema_tools.validation import ValidationError

    generate = deployments["generate-schedule"]
    schema = generate._parameter_openapi_schema.model_dump()
    for bad in ({"algorithm": "guess"}, {"timeout_seconds": 2}, {"min_coverage": 1.5}, {"end": None}):
        with pytest.raises(ValidationError):
            _api_check({"params": {**generate.parameters["params"], **bad}}, schema)


def test_the_range_rules_and_date_formats_are_the_flows_own(deployments):
    """The API passes these (it checks no string formats, and the range rule is not in the schema);
    the flow's model refuses them, so the run fails at its parameters before any step."""
    from prefect.exceptions import ParameterTypeError

    from rotaguard.flows.validate_schedule import ValidateParams, validate_schedule

    schema = deployments["validate-schedule"]._parameter_openapi_schema.model_dump()
    assert ValidateParams(start="2026-03-12", end="2027-03-12").end == dt.date(2027, 3, 12)  # 366 days
    for start, end in (("2026-03-12", "2027-03-13"), ("2026-03-12", "2026-03-11"), ("12/03/2026", "2026-03-13")):
        _api_check({"params": {"start": start, "end": end}}, schema)
        with pytest.raises(ParameterTypeError):
            validate_schedule.validate_parameters({"params": {"start": start, "end": end}})


def test_prefect_yaml_is_what_prefect_deploy_reads_and_matches_the_served_deployments(deployments, prefect_yaml):
    from prefect.cli.deploy._config import _load_deploy_configs_and_actions
    from prefect.flows import load_flow_from_entrypoint
    from rich.console import Console

    output = io.StringIO()
    configs, actions = _load_deploy_configs_and_actions(ROOT / "prefect.yaml", console=Console(file=output))
    assert output.getvalue() == ""  # no "Skipping" warnings: prefect deploy takes every entry
    assert [c["name"] for c in configs] == NAMES
    assert actions["build"] == [] and actions["push"] == []
    for config in configs:
        spec = next(s for s in SPECS if s.name == config["name"])
        served = deployments[spec.name]
        assert config["entrypoint"] == spec.entrypoint
        assert config["description"] == served.description
        assert config["tags"] == served.tags
        assert config["enforce_parameter_schema"] is True
        assert config["work_pool"]["name"] == "rotaguard"
        schedules = [(s["cron"], s["timezone"]) for s in config.get("schedules") or []]
        assert schedules == ([("0 2 * * *", "UTC")] if spec.nightly else [])
        # The served defaults, less the served-only next-block dates.
        assert config["parameters"] == static_defaults(spec)
        assert {
            **config["parameters"]["params"],
            **{k: v for k, v in served.parameters["params"].items() if k in ("start", "end")},
        } == served.parameters["params"]
        # The entrypoint, as a worker resolves it from the repository root, is this flow.
        path, function = config["entrypoint"].split(":")
        flow = load_flow_from_entrypoint(f"{ROOT / path}:{function}")
        assert flow.name == spec.name
        _api_check(config["parameters"], served._parameter_openapi_schema.model_dump(), ignore_required=True)
    assert prefect_yaml["prefect-version"].startswith("3.8.")


def test_deployments_sit_between_the_cli_and_the_flows():
    for layer, forbidden in (
        ("flows", ("deployments", "cli")),
        ("tasks", ("deployments", "cli", "flows")),
        ("deployments", ("cli",)),
    ):
        files = sorted((PACKAGE / layer).rglob("*.py"))
        assert files
        for path in files:
            for name in _imports(path):
                parts = name.split(".")
                assert not (parts[0] == "rotaguard" and len(parts) > 1 and parts[1] in forbidden), (
                    f"{path.relative_to(PACKAGE)} imports {name}"
                )
