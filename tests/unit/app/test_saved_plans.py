"""Saved plans: applied exactly as reviewed, or refused when anything they rest on changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.oneall.sandbox import SandboxServer
from tests.helpers import LAUNCH, Project, post_bodies

TWO = LAUNCH


def saved(project: Project, env: dict[str, str]) -> Path:
    out = project.root / "plan.json"
    result = project.run("plan", "--out", str(out), env=env)
    assert result.exit_code == 0, result.output
    return out


def test_a_saved_plan_is_applied_exactly_and_without_a_question(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    project.manifest("posts/a", TWO)
    path = saved(project, site_env)
    doc = json.loads(path.read_text())
    assert doc["format_version"] == 1 and doc["inputs_digest"].startswith("sha256:")
    assert [c["kind"] for c in doc["changes"]] == ["create", "create"]
    result = project.run("apply", str(path), env=site_env)  # no --yes, no terminal: still fine
    assert result.exit_code == 0, result.output
    assert len(post_bodies(sandbox)) == 2
    again = project.run("apply", str(path), env=site_env)
    assert again.exit_code == 1 and "the state changed since the plan was made" in again.stderr
    assert len(post_bodies(sandbox)) == 2


def test_only_the_plans_actions_go_out(project: Project, sandbox: SandboxServer,
                                       site_env: dict[str, str]) -> None:
    project.manifest("posts/a", TWO)
    path = saved(project, site_env)
    # A reviewed plan is the approval: a schedule coming due later adds nothing to it.
    plan = json.loads(path.read_text())
    plan["changes"] = plan["changes"][:1]
    path.write_text(json.dumps(plan))
    assert project.run("apply", str(path), env=site_env).exit_code == 0
    assert [list(b["request"]["push"]) for b in post_bodies(sandbox)] == [["picture"]]


@pytest.mark.parametrize("change", ["manifest", "template", "config", "new-file", "media"])
def test_a_plan_is_refused_when_its_inputs_changed(project: Project, sandbox: SandboxServer,
                                                   site_env: dict[str, str], change: str) -> None:
    project.manifest("posts/a", TWO)
    path = saved(project, site_env)
    if change == "manifest":
        project.manifest("posts/a", TWO.replace("is out!", "has landed!"))
    elif change == "template":
        project.write("content/templates/signature.j2", "#Changed\n")
    elif change == "config":
        project.write("pipeline.yaml", (project.root / "pipeline.yaml").read_text().replace("Acme Rocket", "Acme Jet"))
    elif change == "new-file":
        project.manifest("posts/b", TWO.replace("hero", "other").replace("is out!", "again"))
    else:
        (project.root / "content/media.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    result = project.run("apply", str(path), env=site_env)
    assert result.exit_code == 1
    assert "changed since the plan was made" in result.stderr
    assert sandbox.sandbox.received == []


def test_a_plan_is_refused_when_the_state_changed(project: Project, sandbox: SandboxServer,
                                                  site_env: dict[str, str]) -> None:
    project.manifest("posts/a", TWO)
    path = saved(project, site_env)
    project.manifest("posts/b", "actions:\n  t:\n    type: twitter.post\n    identity: acme-twitter\n    message: other\n")
    assert project.run("apply", "--yes", env=site_env).exit_code == 0  # the state moved on
    (project.root / "content/posts/b.yaml").unlink()
    sent = len(post_bodies(sandbox))
    result = project.run("apply", str(path), env=site_env)
    assert result.exit_code == 1 and "the state changed since the plan was made (serial 0 -> 1" in result.stderr
    assert len(post_bodies(sandbox)) == sent


def test_a_plan_is_refused_against_another_site(project: Project, sandbox: SandboxServer,
                                                site_env: dict[str, str]) -> None:
    project.manifest("posts/a", TWO)
    path = saved(project, {})  # planned against the sandbox
    result = project.run("apply", str(path), env=site_env)
    assert result.exit_code == 1 and "the plan was made against site 'sandbox'" in result.stderr
    assert sandbox.sandbox.received == []


def test_a_file_that_is_not_a_plan_is_refused(project: Project, site_env: dict[str, str]) -> None:
    project.manifest("posts/a", TWO)
    bogus = project.root / "plan.json"
    bogus.write_text('{"changes": "all of them"}')
    result = project.run("apply", str(bogus), env=site_env)
    assert result.exit_code == 1 and "not a plan saved by `pipeline plan --out`" in result.stderr
    assert project.run("apply", str(bogus), "--replace", "posts/a/tweet", env=site_env).exit_code == 1


def test_a_tampered_plan_is_refused(project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    project.manifest("posts/a", TWO)
    path = saved(project, site_env)
    for tamper in ("message", "type", "identity", "request-key"):
        plan = json.loads(path.read_text())
        tweet = next(c for c in plan["changes"] if c["address"] == "posts/a/tweet")
        if tamper == "message":
            tweet["request"]["message"] = "TAMPERED"
        elif tamper == "type":
            tweet["type"] = "twitter.nope"
        elif tamper == "identity":
            tweet["identity"] = "other-twitter"
        else:
            tweet["request"]["mesage"] = tweet["request"].pop("message")
        forged = project.root / f"forged-{tamper}.json"
        forged.write_text(json.dumps(plan))
        result = project.run("apply", str(forged), env=site_env)
        assert result.exit_code == 1, (tamper, result.output)
        assert "posts/a/tweet: the plan file does not match" in result.stderr
        assert "Traceback" not in result.output
    assert sandbox.sandbox.received == []
