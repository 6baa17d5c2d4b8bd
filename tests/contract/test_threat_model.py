"""docs/threat-model.md names the test that holds each line: every one it names exists."""

from __future__ import annotations

import re

from tests.helpers import REPO


def test_every_test_the_threat_model_names_exists() -> None:
    text = (REPO / "docs" / "threat-model.md").read_text()
    named = set(re.findall(r"`(tests/[\w/]+\.py)`", text))
    bare = set(re.findall(r"`(test_\w+\.py)`", text))
    assert named, "the threat model names no test"
    missing = [path for path in named if not (REPO / path).is_file()]
    missing += [name for name in bare if not list((REPO / "tests").rglob(name))]
    assert missing == []
