"""``--changed-since`` attributes to the change every action whose rendering it changes,
through a template, ``vars`` or pipeline.yaml, and every published action it removes;
a change that renders the same (a comment) attributes nothing."""

from __future__ import annotations

import json

from pipeline.oneall.sandbox import SandboxServer
from tests.helpers import Project

SIGNED = ("actions:\n  tweet:\n    type: twitter.post\n    identity: acme-twitter\n"
          "    message: \"{{ product }} {% include 'signature.j2' %}\"\n")
PLAIN = "actions:\n  tweet:\n    type: twitter.post\n    identity: acme-twitter\n    message: plain\n"


def _marked(project: Project, env: dict[str, str]) -> list[tuple[bool, str, str]]:
    result = project.run("plan", "--changed-since", "main", "--format", "json", env=env)
    assert result.exit_code == 0, result.output
    return [(c["in_change"], c["kind"], c["address"]) for c in json.loads(result.stdout)["changes"]]


def test_a_template_vars_and_a_removed_post_are_the_changes_own(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    project.git("init", "-q", "-b", "main")
    project.manifest("posts/signed", SIGNED)
    project.manifest("posts/plain", PLAIN)
    project.manifest("posts/gone", PLAIN.replace("plain", "gone"))
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    project.git("add", "-A")
    project.git("commit", "-qm", "base")
    project.git("checkout", "-qb", "pr")

    project.write("content/templates/signature.j2", "#{{ product }}Launch\n")  # through an include
    assert _marked(project, site_env)[:1] == [(True, "changed", "posts/signed/tweet")]
    assert sum(m[0] for m in _marked(project, site_env)) == 1
    project.git("checkout", "-q", "--", ".")

    config = project.root / "pipeline.yaml"  # through vars: only what uses the variable
    config.write_text(config.read_text().replace("product: Acme Rocket", "product: Acme Rocket 2"))
    assert [m for m in _marked(project, site_env) if m[0]] == [(True, "changed", "posts/signed/tweet")]
    project.git("checkout", "-q", "--", ".")

    (project.root / "content/posts/gone.yaml").unlink()  # removed: an orphan, the change's own
    (project.root / "content/posts/plain.yaml").write_text("# a comment\n" + PLAIN)  # renders the same
    marked = _marked(project, site_env)
    assert marked[0] == (True, "orphan", "posts/gone/tweet") and sum(m[0] for m in marked) == 1
    text = project.run("plan", "--changed-since", "main", env=site_env).output
    assert "1 from this change (since main), listed first and marked *." in text
    assert "* o posts/gone/tweet" in text


def test_a_replaced_picture_file_is_the_changes_own(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    config = project.root / "pipeline.yaml"
    config.write_text(config.read_text() + "media_base_url: https://media.acme.example\n")
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    project.write("content/media/hero shot.png", "")
    (project.root / "content/media/hero shot.png").write_bytes(png)
    project.manifest("posts/pic", "actions:\n  hero:\n    type: twitter.picture\n    identity: acme-twitter\n"
                     "    file: media/hero shot.png\n")
    project.manifest("posts/plain", PLAIN)
    project.git("init", "-q", "-b", "main")
    project.git("add", "-A")
    project.git("commit", "-qm", "base")
    project.git("checkout", "-qb", "pr")
    (project.root / "content/media/hero shot.png").write_bytes(png + b"a new picture")
    marked = [m for m in _marked(project, site_env) if m[0]]
    assert marked == [(True, "create", "posts/pic/hero")]

