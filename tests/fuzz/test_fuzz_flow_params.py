"""Fuzzed parameters for every deployed flow, as a UI form or the API sends them: {"params": {...}}.

`flow.validate_parameters` returns the bounded model or raises Prefect's ParameterTypeError,
never anything else; and what the Prefect server's own check (the flow's parameter JSON
Schema) lets through, the model takes too, except the checks a schema cannot state (one field
against another, and the calendar bounds of a date: see docs/limits.md).
"""

from __future__ import annotations

import functools

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prefect.exceptions import ParameterTypeError
from prefect.utilities.schema_tools.validation import ValidationError as SchemaValidationError
from prefect.utilities.schema_tools.validation import validate
from pydantic import ValidationError
from strategies import date_texts, fuzz_settings, hostile_text, json_values

from rotaguard.deployments.definitions import SPECS

# A valid params object per flow: each example changes some of its fields.
VALID = {
    "generate-schedule": {"start": "2027-01-11", "end": "2027-02-07", "algorithm": "greedy", "timeout_seconds": 60},
    "validate-schedule": {"start": "2027-01-11", "end": "2027-02-07"},
    "request-swap": {
        "actor_id": "R2-01",
        "person_a": "R2-01",
        "person_b": "R2-03",
        "a_start": "2027-01-11",
        "a_end": "2027-01-11",
    },
    "execute-swap": {"swap_id": "0b6f3c9e-1d2a-4c55-9b7e-3f1e2d4c5a6b", "actor_id": "R2-01"},
    "rollback-swap": {"swap_id": "0b6f3c9e-1d2a-4c55-9b7e-3f1e2d4c5a6b", "actor_id": "C-01"},
    "nightly-backup": {},
    "restore-backup": {
        "backup_id": "rotaguard_20261122_020000",
        "scope": "assignments",
        "start": "2027-01-11",
        "end": "2027-01-17",
    },
    "bulk-assign": {
        "assignments": [{"person": "R1-01", "date": "2027-01-11", "slot": "AM", "rotation": "WARDS"}],
        "actor": "Coordinator 01",
    },
    "clear-assignments": {"start": "2027-01-11", "end": "2027-01-17", "people": ["R1-01"]},
    "plan-year": {"year": 2027, "from_block": 7, "timeout_seconds": 60},
}
SPEC_BY_NAME = {spec.name: spec for spec in SPECS}
# Checks a JSON Schema cannot state: the model may refuse what the server lets through for these.
UNSTATEABLE = {"value_error", "assertion_error"}


def test_every_flow_with_a_params_model_is_fuzzed():
    assert set(SPEC_BY_NAME) <= set(VALID), set(SPEC_BY_NAME) - set(VALID)


@functools.cache
def _flow(name: str):
    return SPEC_BY_NAME[name].load_flow()


@functools.cache
def _schema(name: str) -> dict:
    return _flow(name).parameters.model_dump()


def _server_accepts(name: str, parameters: dict) -> bool:
    try:
        validate(parameters, _schema(name), raise_on_error=True)
    except SchemaValidationError:
        return False
    return True


def _unstateable(error: dict, model) -> bool:
    """Errors the server's check cannot find: cross-field checks, and anything about a date (the
    schema says ``format: date``, but Prefect's server validates no formats, and a date's
    calendar bounds have no JSON Schema keyword)."""
    if error["type"] in UNSTATEABLE and len(error["loc"]) <= 1:
        return True
    if error["type"] == "string_unicode":  # a lone surrogate: pydantic refuses it, JSON Schema has no word for it
        return True
    field = model.model_fields.get(error["loc"][0]) if error["loc"] else None
    return field is not None and "date" in str(field.annotation) and len(error["loc"]) == 1


def values() -> st.SearchStrategy:
    return st.one_of(
        json_values(), hostile_text(), date_texts(), st.sampled_from((None, True, -1, 0, 2**63, 1e308, "", " ", [], {}))
    )


@pytest.mark.parametrize("name", sorted(VALID))
@fuzz_settings(quick=15, chaos=2000)
@given(data=st.data())
def test_fuzzed_params_give_the_model_or_a_parameter_type_error(name, data):
    if name not in SPEC_BY_NAME:
        pytest.fail(f"{name} is not deployed yet: add it to rotaguard.deployments.definitions.SPECS")
    model = SPEC_BY_NAME[name].load_model()
    params = dict(VALID[name])
    for field in data.draw(
        st.lists(st.sampled_from([*model.model_fields, "unknown_field"]), min_size=1, max_size=3, unique=True)
    ):
        if data.draw(st.booleans(), label=f"drop {field}"):
            params.pop(field, None)
        else:
            params[field] = data.draw(values(), label=field)
    parameters = {"params": params}
    try:
        validated = _flow(name).validate_parameters(parameters)
    except ParameterTypeError:
        validated = None
    if validated is not None:
        assert isinstance(validated["params"], model)
    if _server_accepts(name, parameters) and validated is None:
        try:
            model.model_validate(params)
        except ValidationError as error:
            stated = [e for e in error.errors(include_url=False) if not _unstateable(e, model)]
            assert not stated, f"the Prefect server accepts {params!r} but {model.__name__} refuses: {stated}"


@pytest.mark.parametrize("name", sorted(VALID))
def test_the_valid_params_are_valid_for_the_model_and_the_server(name):
    assert _server_accepts(name, {"params": VALID[name]})
    assert isinstance(
        _flow(name).validate_parameters({"params": VALID[name]})["params"], SPEC_BY_NAME[name].load_model()
    )


@pytest.mark.parametrize(
    "name, field",
    [
        ("generate-schedule", "start"),
        ("validate-schedule", "end"),
        ("clear-assignments", "start"),
        ("request-swap", "a_start"),
    ],
)
@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1899-12-31", "2200-01-01"])
def test_a_date_at_the_ends_of_the_calendar_is_refused_before_the_flow_runs(name, field, day):
    # 9999-12-31 plus the 28-day windows, or a CALL's end, is past Python's last day: the run would crash.
    params = {**VALID[name], field: day}
    if field.endswith("start"):
        params[field.replace("start", "end")] = day
    with pytest.raises(ParameterTypeError):
        _flow(name).validate_parameters({"params": params})


@pytest.mark.parametrize(
    "name, field",
    [
        ("generate-schedule", "auto_approve_as"),
        ("restore-backup", "auto_approve_as"),
        ("bulk-assign", "actor"),
        ("bulk-assign", "auto_approve_as"),
        ("clear-assignments", "confirm_range_as"),
        ("plan-year", "auto_approve_as"),
    ],
)
@pytest.mark.parametrize("who", [" ", "\u200b", "\u3164", "\t\n", "A\x00", "\u2800"])
def test_a_blank_looking_or_control_character_approver_is_refused_by_model_and_server(name, field, who):
    params = {**VALID[name], field: who}
    with pytest.raises(ParameterTypeError):
        _flow(name).validate_parameters({"params": params})
    assert not _server_accepts(name, {"params": params})
