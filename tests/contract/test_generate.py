"""Generated artifacts: committed, up to date, and agreeing with an independent validator."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from pipeline import catalog
from pipeline.report import schema as generate
from pipeline.model.manifest import action_model
from pipeline.load.source import load
from tests.helpers import REPO, Project

MANIFESTS = sorted(p for p in (REPO / "content").rglob("*.yaml") if "templates" not in p.parts)


def test_committed_schemas_and_reference_page_are_up_to_date() -> None:
    assert generate.stale(REPO) == [], "run `pipeline schema` and commit the result"


def test_schema_check_fails_when_a_file_is_stale(project: Project) -> None:
    assert project.run("schema").exit_code == 0
    (project.root / generate.REFERENCE_PAGE).write_text("edited by hand\n")
    result = project.run("schema", "--check")
    assert result.exit_code == 1 and "stale: docs/manifest-reference.md" in result.stderr


def test_schemas_are_draft_07() -> None:
    for path in (generate.MANIFEST_SCHEMA, generate.CONFIG_SCHEMA):
        schema = json.loads((REPO / path).read_text())
        assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
        jsonschema.Draft7Validator.check_schema(schema)
        assert "$defs" not in json.dumps(schema)


def test_the_example_covers_every_type() -> None:
    types = {a["type"] for p in MANIFESTS for a in load(p, p.name).data["actions"].values()}
    assert types == {e.type for e in catalog.ENDPOINTS}


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_every_example_manifest_has_the_modeline_and_validates(path: Path) -> None:
    first = path.read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../../schemas/manifest.schema.json"
    schema = json.loads((path.parent / "../../schemas/manifest.schema.json").resolve().read_text())
    jsonschema.Draft7Validator(schema).validate(load(path, path.name).data)


def test_config_validates_against_its_schema() -> None:
    schema = json.loads((REPO / generate.CONFIG_SCHEMA).read_text())
    assert (REPO / "pipeline.yaml").read_text().startswith("# yaml-language-server: $schema=schemas/config.schema.json")
    jsonschema.Draft7Validator(schema).validate(load(REPO / "pipeline.yaml", "pipeline.yaml").data)


def test_the_schema_refuses_what_the_models_refuse() -> None:
    validator = jsonschema.Draft7Validator(json.loads((REPO / generate.MANIFEST_SCHEMA).read_text()))
    bad = [
        {"actions": {"a": {"type": "twitter.post", "identity": "x", "message": "hi", "colour": "red"}}},
        {"actions": {"a": {"type": "twitter.pots", "identity": "x", "message": "hi"}}},
        {"actions": {"a": {"type": "twitter.picture", "identity": "x"}}},
        {"actions": {"a": {"type": "youtube.playlist", "identity": "x", "title": "t", "privacy_status": "secret"}}},
        {"actions": {"bad name": {"type": "twitter.post", "identity": "x", "message": "hi"}}},
    ]
    for doc in bad:
        assert not validator.is_valid(doc), doc


@pytest.mark.parametrize("endpoint", catalog.ENDPOINTS, ids=lambda e: e.type)
def test_every_reference_example_is_a_valid_action(endpoint: catalog.Endpoint) -> None:
    action_model(endpoint.type).model_validate(generate.example_action(endpoint))
    assert generate.example_yaml(endpoint) in (REPO / generate.REFERENCE_PAGE).read_text()
