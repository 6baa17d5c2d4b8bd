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


def test_an_intent_is_durable_before_its_request_leaves_and_an_outcome_before_it_is_reported(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    import json
    from typing import Any, Callable

    from pipeline import clock
    from pipeline.app.planning import make_plan
    from pipeline.apply import site
    from pipeline.apply.executor import Executor
    from pipeline.apply.results import Event

    project.write("content/posts/many.yaml", "actions:\n" + "".join(
        f"  t{i}:\n    type: twitter.post\n    identity: acme-twitter\n    message: tweet {i}\n" for i in range(40)))
    sandbox.sandbox.faults.latency = 0.01
    loaded = app.load(project.root, env=site_env)
    store = loaded.store()
    state = store.load_for_update()
    late: list[str] = []

    def durable(op: str, match: Callable[[dict[str, Any]], bool]) -> bool:
        """Whether the journal line of this event is among those an fsync has covered."""
        lines = [json.loads(line.split("\t")[0]) for line in store.journal_path.read_text().splitlines()]
        return next(n for n, event in enumerate(lines, 1) if event["op"] == op and match(event)) <= store.synced

    with site.publisher(loaded.site, loaded.project, parallelism=8) as client:
        class Watching:
            """The real client; each request checks first that its intent is durable."""

            clock_offset = None

            def push(self, endpoint: Any, token: str, values: dict[str, Any]) -> dict[str, Any]:
                if not durable("intent", lambda e: e.get("sent") == values):
                    late.append(f"intent {values}")
                return client.push(endpoint, token, values)

        def on_event(event: Event) -> None:
            if event.outcome == "published" and not durable("published", lambda e: e["address"] == event.address):
                late.append(f"published {event.address}")

        result = Executor(make_plan(loaded, state, clock.now(), frozenset()), state, store, Watching(),  # type: ignore[arg-type]
                          loaded.tokens, parallelism=8, per_identity={"acme-twitter": 8}, on_event=on_event).run()
    assert len(result.published) == 40 and result.ok
    assert late == []


def test_every_request_in_flight_keeps_its_connection_open(project: Project, sandbox: SandboxServer,
                                                         site_env: dict[str, str]) -> None:
    """The client's pool holds as many connections as there are requests in flight:
    a smaller one closes and reopens the extra ones for every request."""
    project.write("pipeline.yaml", (project.root / "pipeline.yaml").read_text() + "per_identity:\n  twitter: 24\n")
    project.write("content/posts/many.yaml", "actions:\n" + "".join(
        f"  t{i}:\n    type: twitter.post\n    identity: acme-twitter\n    message: tweet {i}\n" for i in range(96)))
    sandbox.sandbox.faults.latency = 0.1
    applied = app.apply(app.load(project.root, env=site_env), parallelism=24)
    assert applied.result is not None and len(applied.result.published) == 96
    assert sandbox.sandbox.max_in_flight > 16  # more than a pool of 16 could have kept
    assert sandbox.httpd.accepted <= 24
