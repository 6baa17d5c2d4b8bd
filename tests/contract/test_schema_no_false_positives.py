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
