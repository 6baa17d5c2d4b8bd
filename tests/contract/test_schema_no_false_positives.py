"""The generated JSON Schemas refuse nothing that the pipeline accepts after rendering."""

from __future__ import annotations

import json

import jsonschema

from tests.helpers import REPO


def test_a_long_template_a_local_time_and_a_secret_token_pass() -> None:
    manifest = json.loads((REPO / "schemas/manifest.schema.json").read_text())
    config = json.loads((REPO / "schemas/config.schema.json").read_text())
    long_template = "{% for i in range(3) %}{{ i }}{% endfor %} " + "{# a long comment #}" * 10
    assert len(long_template) > 140
    jsonschema.validate({"actions": {"tweet": {"type": "twitter.post", "identity": "acme-twitter",
                                               "message": long_template, "publish_at": "2026-12-01T09:00:00"}}},
                        manifest)
    jsonschema.validate({"site": "acme", "identities": {"acme-twitter": {"network": "twitter",
                                                                         "token": "${secret:TWITTER_TOKEN}"}}},
                        config)


def test_a_mistake_is_reported_at_its_field_not_as_no_schema_matching() -> None:
    validator = jsonschema.Draft7Validator(json.loads((REPO / "schemas/manifest.schema.json").read_text()))
    cases = [
        ({"type": "twitter.post", "identity": "x", "message": 5}, ["actions", "a", "message"]),
        ({"type": "youtube.playlist", "identity": "x", "title": "t", "privacy_status": "secret"},
         ["actions", "a", "privacy_status"]),
        ({"type": "twitter.pots", "identity": "x", "message": "hi"}, ["actions", "a", "type"]),
    ]
    for action, path in cases:
        errors = list(validator.iter_errors({"actions": {"a": action}}))
        assert [list(e.absolute_path) for e in errors] == [path], errors


def test_editor_settings_point_every_manifest_at_its_schema_whatever_its_depth() -> None:
    for root in (REPO, REPO / "examples" / "content-repo"):
        settings = json.loads((root / ".vscode" / "settings.json").read_text())
        schemas = settings["yaml.schemas"]
        assert any("content/**/*.yaml" in globs or globs == "content/**/*.yaml" for globs in schemas.values())
