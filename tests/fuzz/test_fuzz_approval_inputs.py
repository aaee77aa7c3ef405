"""Fuzzed answers to the flows' pauses: the RunInput forms a person fills in the Prefect UI.

Each model refuses (a pydantic ValidationError) or accepts, and never raises anything else.
An accepted answer always names someone visible: a blank-looking approver approves nothing.
What the Prefect server lets through when a run is resumed (its JSON Schema check of the
form) the flow's model accepts too, or the resumed run would fail on loading its own answer.
"""

from __future__ import annotations

import functools
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prefect.utilities.schema_tools.validation import ValidationError as SchemaValidationError
from prefect.utilities.schema_tools.validation import validate
from pydantic import ValidationError
from strategies import (
    BLANK_LOOKING_CHARACTERS,
    CONTROL_CHARACTERS,
    blank_looking_text,
    fuzz_settings,
    hostile_text,
    json_values,
)

from rotaguard.flows.clear_assignments import ClearConfirmation
from rotaguard.flows.generate_schedule import Approval
from rotaguard.flows.nightly_backup import DeletionConfirmation
from rotaguard.flows.request_swap import SwapAnswer, SwapDecision

# Each form, the field that names who answers, and a valid answer to start from.
FORMS = {
    "Approval": (Approval, "approver", {"approve": True, "approver": "Coordinator 01", "comment": "ok"}),
    "ClearConfirmation": (
        ClearConfirmation,
        "approver",
        {"approve": True, "approver": "Coordinator 01", "typed_range": "2027-01-11..2027-01-17"},
    ),
    "DeletionConfirmation": (DeletionConfirmation, "confirmed_by", {"delete": True, "confirmed_by": "Admin 01"}),
    "SwapAnswer": (SwapAnswer, "answered_by", {"accept": True, "answered_by": "R2-03"}),
    "SwapDecision": (SwapDecision, "decided_by", {"approve": True, "decided_by": "C-01"}),
}


def field_values() -> st.SearchStrategy:
    return st.one_of(
        hostile_text(),
        blank_looking_text(),
        json_values(),
        st.text(alphabet=BLANK_LOOKING_CHARACTERS + CONTROL_CHARACTERS + "Ab", max_size=6),
    )


def _load(model, answer: dict):
    """The model's verdict: the answer, or None when refused with a ValidationError (anything else raises)."""
    try:
        return model.model_validate(answer)
    except ValidationError:
        return None


@functools.cache
def _schema(model) -> dict:
    return model.model_json_schema()


def _server_accepts(model, answer: dict) -> bool:
    try:
        validate(answer, _schema(model), raise_on_error=True)
    except SchemaValidationError:
        return False
    return True


def _has_lone_surrogate(answer: dict) -> bool:
    try:
        json.dumps(answer, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _ends_in_newline(answer: dict) -> bool:
    return any(isinstance(value, str) and value.endswith("\n") for value in answer.values())


def _looks_blank(text: str) -> bool:
    return all(char in BLANK_LOOKING_CHARACTERS for char in text)


def _has_control_character(text: str) -> bool:
    return any(char in CONTROL_CHARACTERS for char in text)


@pytest.mark.parametrize("form", FORMS.values(), ids=FORMS.keys())
@fuzz_settings(quick=20, chaos=3000)
@given(data=st.data())
def test_a_fuzzed_answer_is_accepted_with_a_visible_name_or_refused(form, data):
    model, who, valid = form
    answer = dict(valid)
    for field in data.draw(
        st.lists(st.sampled_from([*model.model_fields, "unknown_field"]), min_size=1, max_size=3, unique=True)
    ):
        answer[field] = data.draw(field_values(), label=field)
    loaded = _load(model, answer)
    if loaded is not None:
        name = getattr(loaded, who)
        assert isinstance(name, str) and not _looks_blank(name) and not _has_control_character(name), repr(name)
        # A comment may break lines (\n, \r, U+2028, U+2029) and hold tabs; nothing else that controls a terminal.
        comment = getattr(loaded, "comment", "")
        assert not _has_control_character("".join(char for char in comment if char not in "\n\r\t\u2028\u2029"))
    # Known disagreements, where the model is the stricter: a lone surrogate (pydantic refuses it,
    # JSON Schema has no word for it) and a value ending in a newline (the server's Python `re`
    # lets `$` match before a final newline; pydantic's regex does not). The flow refuses such an
    # answer when it loads it: the run fails and nothing is written.
    if _server_accepts(model, answer) and not _has_lone_surrogate(answer) and not _ends_in_newline(answer):
        assert loaded is not None, f"the server accepts {answer!r} but {model.__name__} refuses it"


@pytest.mark.parametrize("form", FORMS.values(), ids=FORMS.keys())
@fuzz_settings(quick=10, chaos=2000)
@given(name=blank_looking_text())
def test_a_blank_looking_name_never_answers(form, name):
    model, who, valid = form
    assert _load(model, {**valid, who: name}) is None
    assert not _server_accepts(model, {**valid, who: name})


@pytest.mark.parametrize("form", FORMS.values(), ids=FORMS.keys())
@fuzz_settings(quick=10, chaos=1000)
@given(
    comment=st.text(max_size=2000) | st.sampled_from(("x" * 2001, "a\x00b", "\x1b[31mred\x1b[0m", "line\nbreak\ttab"))
)
def test_the_model_and_the_server_agree_on_comments(form, comment):
    model, _, valid = form
    answer = {**valid, "comment": comment}
    assert (_load(model, answer) is not None) == _server_accepts(model, answer), repr(comment)
