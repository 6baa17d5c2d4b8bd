"""The git loop end to end, in a real repository: commit, plan, apply, commit the state,
change a manifest, plan again."""

from __future__ import annotations

import json

from pipeline.oneall.sandbox import SandboxServer
from tests.helpers import Project, post_bodies


def test_commit_plan_apply_commit_state_change_plan(project: Project, sandbox: SandboxServer,
                                                    site_env: dict[str, str]) -> None:
    project.git("init", "-q", "-b", "main")
    path = project.manifest("posts/launch", """
        actions:
          tweet:
            type: twitter.post
            identity: acme-twitter
            message: "{{ product }} is out!"
    """)
    project.git("add", ".")
    project.git("commit", "-qm", "Add the launch tweet")

    planned = project.run("plan", "--detailed-exitcode", env=site_env)
    assert planned.exit_code == 2 and "+ posts/launch/tweet" in planned.output
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    assert project.git("status", "--porcelain") == "?? state/\n"  # only the state is new
    project.git("add", "state/")
    project.git("commit", "-qm", "pipeline: record what was published")
    committed = json.loads(project.git("show", "HEAD:state/state.json"))
    assert committed["resources"]["posts/launch/tweet"]["status"] == "published"
    assert committed["serial"] == 1 and len(committed["lineage"]) == 36

    # A second author edits the published tweet in a branch: the plan says so and sends nothing.
    project.git("checkout", "-qb", "edit")
    path.write_text(path.read_text().replace("is out!", "has landed!"))
    project.git("commit", "-qam", "Reword the launch tweet")
    edited = project.run("plan", "--detailed-exitcode", "--changed-since", "main", "--format", "markdown",
                         env=site_env)
    assert edited.exit_code == 0, edited.output
    assert "⚠️ changed posts/launch/tweet" in edited.output and "from this change" in edited.output
    sent = len(post_bodies(sandbox))
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    assert len(post_bodies(sandbox)) == sent
    assert project.git("status", "--porcelain") == ""  # nothing to record: the state is as committed
