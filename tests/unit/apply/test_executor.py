"""The executor with the real client and the sandbox: order, parallelism, references."""

from __future__ import annotations

from pathlib import Path

from pipeline import app
from pipeline.oneall.sandbox import SandboxServer
from tests.helpers import REPO, Project


def test_independent_actions_run_in_parallel_and_dependents_after(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    pictures = "".join(
        f"  pic{i}:\n    type: twitter.picture\n    identity: acme-twitter\n"
        f"    url: https://cdn.acme.example/{i}.png\n" for i in range(8))
    project.write("content/posts/many.yaml", "actions:\n" + pictures + (
        "  tweet:\n    type: twitter.post\n    identity: acme-twitter\n    message: four pictures\n"
        "    attachments: [{ref: pic0}, {ref: pic3}, {ref: pic5}, {ref: pic7}]\n"))
    sandbox.sandbox.faults.latency = 0.15
    loaded = app.load(project.root, env=site_env)
    events = []
    applied = app.apply(loaded, confirm=lambda plan: True, on_event=events.append, parallelism=4)
    assert applied.result is not None and applied.result.ok
    assert sandbox.sandbox.max_in_flight == 4
    finished = [e.address for e in events if e.outcome == "published"]
    assert finished[-1] == "posts/many/tweet"
    ids = {e.address: e.result for e in events if e.outcome == "published"}
    sent = sandbox.sandbox.received[-1].body["request"]["push"]["post"]["attachments"]
    assert sent == [ids[f"posts/many/pic{i}"]["picture_id"] for i in (0, 3, 5, 7)]


def test_reference_to_an_action_published_in_an_earlier_run_uses_its_recorded_id(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    project.manifest("posts/a", """
        actions:
          hero:
            type: twitter.picture
            identity: acme-twitter
            url: https://cdn.acme.example/hero.png
    """)
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    picture_id = sandbox.sandbox.published("twitter.picture")[0]["result"]["picture_id"]
    project.manifest("posts/b", """
        actions:
          tweet:
            type: twitter.post
            identity: acme-twitter
            message: the same picture, days later
            attachments: [{ref: posts/a/hero}]
    """)
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    assert sandbox.sandbox.received[-1].body["request"]["push"]["post"]["attachments"] == [picture_id]


def test_readme_example_content_publishes_on_the_embedded_sandbox(tmp_path: Path) -> None:
    import shutil
    import subprocess
    import sys

    work = tmp_path / "example"
    shutil.copytree(REPO / "content", work / "content")
    shutil.copy(REPO / "pipeline.yaml", work / "pipeline.yaml")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=work,
                              capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})

    applied = run("apply", "--yes")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "embedded sandbox" in applied.stderr
    planned = run("plan", "--detailed-exitcode")
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert "unchanged" in planned.stdout and "to create" not in planned.stdout


def test_requests_per_identity_are_bounded_by_network(project: Project, sandbox: SandboxServer,
                                                      site_env: dict[str, str]) -> None:
    project.write("pipeline.yaml", (project.root / "pipeline.yaml").read_text() + "per_identity:\n  twitter: 2\n")
    tweets = "".join(f"  t{i}:\n    type: twitter.post\n    identity: acme-twitter\n    message: tweet {i}\n"
                     for i in range(8))
    project.write("content/many.yaml", "actions:\n" + tweets)
    sandbox.sandbox.faults.latency = 0.1
    loaded = app.load(project.root, env=site_env)
    applied = app.apply(loaded, confirm=lambda plan: True, parallelism=8)
    assert applied.result is not None and applied.result.ok
    assert sandbox.sandbox.max_in_flight == 2
