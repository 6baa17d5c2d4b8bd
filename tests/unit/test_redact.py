"""Secrets are masked however the text around them escapes them."""

from __future__ import annotations

import json

from pipeline.redact import contains_secret, redact, register


def test_escaped_forms_of_a_secret_are_masked_too() -> None:
    for secret in ('ab"s3cr3t-q', "Zürich-s3cr3t", "back\\slash-s3cr3t"):
        register(secret)
        for text in (secret, json.dumps(secret), json.dumps(secret, ensure_ascii=False),
                     json.dumps({"m": f"x {secret} y"})):
            assert "s3cr3t" not in redact(text), text
        assert contains_secret({"request": [{"message": f"utm={secret}"}]})
    assert not contains_secret({"request": ["nothing to see"]})
