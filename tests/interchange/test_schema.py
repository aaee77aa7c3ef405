"""The published JSON Schema is generated from the models, and every example validates."""

import json
from datetime import date
from pathlib import Path

import jsonschema
import pytest

from factories import program_document
from rotaguard.interchange.document import dump_document, json_schema
from rotaguard.interchange.synth import synthesize

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_published_schema_is_current():
    published = json.loads((EXAMPLES / "program.schema.json").read_text())
    assert published == json_schema(), "regenerate: rotaguard program schema --out examples/program.schema.json"


def test_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(json_schema())


@pytest.mark.parametrize("name", ["program.json", "synthetic-program.json"])
def test_examples_validate_against_the_schema(name):
    jsonschema.validate(json.loads((EXAMPLES / name).read_text()), json_schema(), cls=jsonschema.Draft202012Validator)


@pytest.mark.parametrize("seed", [1, 2, 3, 17, 99])
def test_synthetic_output_validates_against_the_schema(seed):
    document = json.loads(dump_document(synthesize(seed=seed, start=date(2026, 12, 17))))
    jsonschema.validate(document, json_schema(), cls=jsonschema.Draft202012Validator)


def test_schema_rejects_what_import_rejects():
    document = program_document()
    document["people"][0]["surname"] = "x"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, json_schema(), cls=jsonschema.Draft202012Validator)
