"""Unknown outcomes: recorded as such, never re-sent blindly, settled by reading back."""

from __future__ import annotations

import json

from pipeline.oneall.sandbox import SandboxServer
from tests.helpers import Project, post_bodies

TWEET = """
    actions:
      tweet:
        type: twitter.post
        identity: acme-twitter
        message: launch day
"""


def resources(project: Project) -> dict:
    return json.loads((project.root / "state/state.json").read_text())["resources"]


def test_a_ghost_post_is_unknown_then_found_by_reading_back(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    project.manifest("posts/a", TWEET)
    sandbox.sandbox.faults.ghost, sandbox.sandbox.faults.ghost_delay = 1.0, 1.0
    env = {**site_env, "ONEALL_TIMEOUT": "0.3"}
    first = project.run("apply", "--yes", env=env)
    assert first.exit_code == 1
    assert "unknown   posts/a/tweet: no answer from OneAll" in first.output
    assert resources(project)["posts/a/tweet"]["status"] == "unknown"
    assert resources(project)["posts/a/tweet"]["sent"] == {"message": "launch day"}

    planned = project.run("plan", "--detailed-exitcode", env=env)
    assert planned.exit_code == 2 and "? posts/a/tweet" in planned.output

    sandbox.sandbox.faults.ghost = 0.0
    second = project.run("apply", "--yes", env=env)
    assert second.exit_code == 0, second.output
    assert "found     posts/a/tweet: found by reading back" in second.output
    assert len(post_bodies(sandbox)) == 1  # never sent twice
    record = resources(project)["posts/a/tweet"]
    published = sandbox.sandbox.published("twitter.post")[0]["result"]
    assert record["status"] == "published" and record["result"]["post_id"] == published["post_id"]
    assert "sent" not in record


def test_a_500_that_published_nothing_is_sent_again_once_surely_absent(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    project.manifest("posts/a", TWEET)
    sandbox.sandbox.faults.rate_500 = 1.0  # answers 500 before doing anything
    assert project.run("apply", "--yes", env=site_env).exit_code == 1
    assert resources(project)["posts/a/tweet"]["status"] == "unknown"
    sandbox.sandbox.faults.rate_500 = 0.0

    # Within the grace period, absence proves nothing yet: OneAll may still be at work.
    waiting = project.run("apply", "--yes", env=site_env)
    assert "still unknown posts/a/tweet: not found yet" in waiting.output
    assert sandbox.sandbox.published() == []

    project.write("pipeline.yaml", (project.root / "pipeline.yaml").read_text() + "settle_after: 0\n")
    settled = project.run("apply", "--yes", env=site_env)
    assert settled.exit_code == 0, settled.output
    assert "not found posts/a/tweet" in settled.output and "published posts/a/tweet" in settled.output
    assert len(sandbox.sandbox.published("twitter.post")) == 1


def test_what_cannot_be_read_back_stays_unknown_until_the_user_resolves_it(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    project.manifest("posts/a", """
        actions:
          pic:
            type: twitter.picture
            identity: acme-twitter
            url: https://cdn.acme.example/a.png
          other:
            type: twitter.picture
            identity: acme-twitter
            url: https://cdn.acme.example/b.png
    """)
    sandbox.sandbox.faults.rate_500 = 1.0
    project.run("apply", "--yes", env=site_env)
    sandbox.sandbox.faults.rate_500 = 0.0
    again = project.run("apply", "--yes", env=site_env)
    assert "still unknown posts/a/pic: the Pull API does not list twitter.picture" in again.output
    assert len(post_bodies(sandbox)) == 2  # the two first attempts; nothing re-sent blindly

    resolved = project.run("state", "resolve", "posts/a/pic", "--published", "12345", env=site_env)
    assert resolved.exit_code == 0, resolved.output
    assert resources(project)["posts/a/pic"]["result"] == {"picture_id": "12345"}
    assert project.run("state", "resolve", "posts/a/other", "--not-published", env=site_env).exit_code == 0
    sent = len(post_bodies(sandbox))
    final = project.run("apply", "--yes", env=site_env)
    assert final.exit_code == 0, final.output
    assert len(post_bodies(sandbox)) == sent + 1  # only "other" goes out again
    assert project.run("plan", "--detailed-exitcode", env=site_env).exit_code == 0


def test_resolve_refuses_what_is_not_unknown(project: Project, sandbox: SandboxServer,
                                             site_env: dict[str, str]) -> None:
    project.manifest("posts/a", TWEET)
    project.run("apply", "--yes", env=site_env)
    result = project.run("state", "resolve", "posts/a/tweet", "--not-published", env=site_env)
    assert result.exit_code == 1 and "published, not unknown" in result.stderr
    assert resources(project)["posts/a/tweet"]["status"] == "published"


def test_a_lost_answer_to_a_playlist_item_is_found_although_its_video_is_recorded(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    project.write("pipeline.yaml", (project.root / "pipeline.yaml").read_text() + "settle_after: 0\n")
    project.manifest("c", """
        actions:
          film:
            type: youtube.video
            identity: acme-youtube
            video_url: https://cdn.acme.example/film.mp4
            title: Film
          playlist:
            type: youtube.playlist
            identity: acme-youtube
            title: Launch
    """)
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    project.write("content/c.yaml", (project.root / "content/c.yaml").read_text() + (
        "  add:\n    type: youtube.playlist.video\n    identity: acme-youtube\n"
        "    playlist: {ref: playlist}\n    video_id: {ref: film}\n"))
    sandbox.sandbox.faults.ghost, sandbox.sandbox.faults.ghost_delay = 1.0, 1.0
    assert project.run("apply", "--yes", env={**site_env, "ONEALL_TIMEOUT": "0.3"}).exit_code == 1
    sandbox.sandbox.faults.ghost = 0.0
    settled = project.run("apply", "--yes", env=site_env)
    assert "found     c/add: found by reading back" in settled.output, settled.output
    assert len(sandbox.sandbox.published("youtube.playlist.video")) == 1
