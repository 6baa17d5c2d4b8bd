"""A pull request that edits the state is loud: its plan names what the edit does, first,
in text, in Markdown and as an annotation on the state file."""

from __future__ import annotations

import json

from pipeline.oneall.sandbox import SandboxServer
from tests.helpers import LAUNCH, Project

STATE = "state/state.json"


def _main_with_published_posts(project: Project, site_env: dict[str, str]) -> None:
    project.git("init", "-q", "-b", "main")
    project.manifest("posts/launch", LAUNCH)
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    project.git("add", ".")
    project.git("commit", "-qm", "launch, published")
    project.git("checkout", "-qb", "pr")


def test_forgetting_and_forging_in_a_pull_request_are_named_first_everywhere(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    _main_with_published_posts(project, site_env)
    doc = json.loads((project.root / STATE).read_text())
    del doc["resources"]["posts/launch/tweet"]
    doc["resources"]["posts/never/sent"] = {"type": "twitter.post", "identity": "acme-twitter",
                                            "digest": "sha256:x", "status": "published",
                                            "result": {"post_id": "99"}}
    (project.root / STATE).write_text(json.dumps(doc, indent=2))
    project.git("commit", "-qam", "innocent cleanup")
    plan_env = {k: v for k, v in site_env.items() if k != "ONEALL_PRIVATE_KEY"}  # a PR's plan has no keys

    text = project.run("plan", "--changed-since", "main", env=plan_env).stdout
    assert text.startswith("WARNING: this change edits the state: it forgets posts/launch/tweet, "
                           "which is published: merging re-publishes it.")
    assert "records posts/never/sent as published (post_id=99): merging never publishes it" in text

    markdown = project.run("plan", "--changed-since", "main", "--format", "markdown", env=plan_env).stdout
    assert markdown.index("This pull request changes the state itself") < markdown.index("to create")
    assert "forgets posts/launch/tweet" in markdown.replace("\\", "")

    annotated = project.run("plan", "--changed-since", "main", env={**plan_env, "GITHUB_ACTIONS": "true"}).stderr
    warnings = [line for line in annotated.splitlines() if line.startswith(f"::warning file={STATE}::")]
    assert len(warnings) == 2  # and the forged record, in no manifest, is an orphan of its own
    assert any(line.startswith("::warning::orphan posts/never/sent") for line in annotated.splitlines())


def test_a_pull_request_that_leaves_the_state_alone_has_no_warning(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    _main_with_published_posts(project, site_env)
    project.manifest("posts/more", LAUNCH.replace("is out!", "is here!"))
    project.git("add", ".")
    project.git("commit", "-qm", "another post")
    text = project.run("plan", "--changed-since", "main", env=site_env).stdout
    assert "WARNING" not in text and "+ posts/more/tweet" in text
