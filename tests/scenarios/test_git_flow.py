"""The git loop end to end, in a real repository: commit, plan, apply, commit the state,
change a manifest, plan again."""

from __future__ import annotations

import json
import subprocess

from pipeline.oneall.sandbox import SandboxServer
from tests.helpers import Project, post_bodies


def git(project: Project, *args: str) -> str:
    return subprocess.run(["git", "-C", str(project.root), "-c", "user.name=Author",
                           "-c", "user.email=author@acme.example", *args],
                          check=True, capture_output=True, text=True).stdout


def test_commit_plan_apply_commit_state_change_plan(project: Project, sandbox: SandboxServer,
                                                    site_env: dict[str, str]) -> None:
    git(project, "init", "-q", "-b", "main")
    path = project.manifest("posts/launch", """
        actions:
          tweet:
            type: twitter.post
            identity: acme-twitter
            message: "{{ product }} is out!"
    """)
    git(project, "add", ".")
    git(project, "commit", "-qm", "Add the launch tweet")

    planned = project.run("plan", "--detailed-exitcode", env=site_env)
    assert planned.exit_code == 2 and "+ posts/launch/tweet" in planned.output
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    assert git(project, "status", "--porcelain") == "?? state/\n"  # only the state is new
    git(project, "add", "state/")
    git(project, "commit", "-qm", "pipeline: record what was published")
    committed = json.loads(git(project, "show", "HEAD:state/state.json"))
    assert committed["resources"]["posts/launch/tweet"]["status"] == "published"
    assert committed["serial"] == 1 and len(committed["lineage"]) == 36

    # A second author edits the published tweet in a branch: the plan says so and sends nothing.
    git(project, "checkout", "-qb", "edit")
    path.write_text(path.read_text().replace("is out!", "has landed!"))
    git(project, "commit", "-qam", "Reword the launch tweet")
    edited = project.run("plan", "--detailed-exitcode", "--changed-since", "main", "--format", "markdown",
                         env=site_env)
    assert edited.exit_code == 0, edited.output
    assert "⚠️ changed posts/launch/tweet" in edited.output and "from this change" in edited.output
    sent = len(post_bodies(sandbox))
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    assert len(post_bodies(sandbox)) == sent
    assert git(project, "status", "--porcelain") == ""  # nothing to record: the state is as committed
