"""The Markdown plan: snapshots, and rendered text that cannot break out or ping."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline.report.markdown import fenced, inline
from tests.helpers import Project

SNAPSHOTS = Path(__file__).parent / "snapshots"

HOSTILE = r'''
    actions:
      pic:
        type: twitter.picture
        identity: acme-twitter
        url: https://cdn.acme.example/a.png
        description: "</details><img src=x onerror=alert(1)> @team"
      tweet:
        type: twitter.post
        identity: acme-twitter
        message: "```\n</details>\n@acme/devrel ping! <b>bold</b> ```` #{{ product }}"
        attachments: [{ref: pic}]
      later:
        type: facebook.post
        identity: acme-facebook
        publish_at: 2099-01-01T09:00:00+00:00
        message: "**not bold** [link](https://evil.example) {{ 'x' * 420 }}"
'''


def check(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("UPDATE_SNAPSHOTS"):
        path.write_text(text)
    assert text == path.read_text(), f"snapshot {name} differs (UPDATE_SNAPSHOTS=1 to accept)"


def test_markdown_plan_snapshot_with_hostile_text(project: Project) -> None:
    project.manifest("posts/hostile", HOSTILE)
    result = project.run("plan", "--format", "markdown")
    assert result.exit_code == 0, result.output
    check("hostile-plan.md", result.stdout)


def test_rendered_text_stays_inside_its_code_block(project: Project) -> None:
    project.manifest("posts/hostile", HOSTILE)
    text = project.run("plan", "--format", "markdown").stdout
    # Each fenced block is closed by a fence longer than any backtick run inside it.
    assert "`````text\n```\n</details>\n@acme/devrel ping! <b>bold</b> ```` #Acme Rocket\n`````" in text
    outside = _outside_code(text)
    assert "</details><img" not in outside and "@team" not in outside and "@acme" not in outside
    assert outside.count("<details>") == outside.count("</details>")


def _outside_code(text: str) -> str:
    out, fence = [], None
    for line in text.splitlines():
        if fence is None and line.startswith("```"):
            fence = line[: len(line) - len(line.lstrip("`"))]
        elif fence is not None and line == fence:
            fence = None
        elif fence is None:
            out.append(line)
    return "\n".join(out)


def test_long_content_is_folded(project: Project) -> None:
    project.manifest("posts/hostile", HOSTILE)
    text = project.run("plan", "--format", "markdown").stdout
    later = text[text.index("posts/hostile/later"):]
    assert "<details><summary>Content (" in later


@pytest.mark.parametrize(("text", "expected"), [
    ("@team", "@\u200bteam"), ("<b>", "\\<b\\>"), ("*x*", "\\*x\\*"), ("[a](b)", "\\[a\\]\\(b\\)"),
    ("a\nPlan: 0 to create", "a Plan: 0 to create"), ("`x` <img>", "\\`x\\` \\<img\\>"),
])
def test_inline_text_cannot_format_link_or_ping(text: str, expected: str) -> None:
    assert inline(text) == expected


def test_fence_outgrows_backticks_inside() -> None:
    assert fenced("a ```` b").startswith("`````text\n") and fenced("a ```` b").endswith("\n`````")
    assert fenced("plain") == "```text\nplain\n```"


def test_changed_since_lists_the_pull_requests_actions_first(project: Project, tmp_path: Path) -> None:
    import subprocess

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(project.root), *args], check=True, capture_output=True)

    project.manifest("posts/a-old", "actions:\n  t:\n    type: twitter.post\n    identity: acme-twitter\n    message: old\n")
    git("init", "-q", "-b", "main")
    git("-c", "user.email=a@b.c", "-c", "user.name=a", "add", ".")
    git("-c", "user.email=a@b.c", "-c", "user.name=a", "commit", "-qm", "base")
    project.manifest("posts/z-new", "actions:\n  t:\n    type: twitter.post\n    identity: acme-twitter\n    message: new\n")
    result = project.run("plan", "--format", "markdown", "--changed-since", "main")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "1 of these come from files changed since `main`, listed first." in text
    assert text.index("posts/z\\-new/t") < text.index("posts/a\\-old/t")
    json_plan = project.run("plan", "--format", "json", "--changed-since", "main").stdout
    assert '"in_change": true' in json_plan and '"changed_since": "main"' in json_plan
    bad = project.run("plan", "--changed-since", "no-such-ref")
    assert bad.exit_code == 1 and "git rev-parse" in bad.stderr


def test_a_plan_too_long_for_one_comment_names_every_change_it_leaves_out(project: Project) -> None:
    from pipeline.report.markdown import MAX_CHARS

    long = "x" * 1300
    for i in range(60):
        project.manifest(f"posts/p{i:03}", "actions:\n  post:\n    type: linkedin.post\n"
                         f"    identity: acme-linkedin\n    message: {long}\n")
    text = project.run("plan", "--format", "markdown").stdout
    assert len(text) <= MAX_CHARS
    shown = text.count("#### ")
    left = 60 - shown
    assert 0 < left <= 50
    assert f"**{left} of 60 changes are not shown here**" in text
    assert "`plan` artifact" in text
    note = text[text.index("are not shown here"):]
    listed = note.split(". The full plan")[0]
    assert [f"p{i:03}" in listed for i in range(60)] == [i >= shown for i in range(60)]
    assert text.index("are not shown here") < text.index("#### ")  # the note comes first
