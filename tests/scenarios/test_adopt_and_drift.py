"""Adopt and watch: posts made outside the pipeline are imported (one by id, or a whole
account), then plan clean; posts deleted or edited elsewhere are reported by refresh,
and nothing is ever sent by either."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from pipeline.catalog import BY_TYPE
from pipeline.oneall.client import Credentials, OneAllClient
from pipeline.oneall.sandbox import SandboxServer
from tests.helpers import PRIVATE_KEY, PUBLIC_KEY, TOKENS, Project

TW, PIN, FB = TOKENS["acme-twitter"][1], TOKENS["acme-pinterest"][1], TOKENS["acme-facebook"][1]


def elsewhere(sandbox: SandboxServer, type_name: str, token: str, values: dict[str, Any]) -> dict[str, Any]:
    """A post made by hand, or by another tool: straight to OneAll, not through the pipeline."""
    client = OneAllClient(sandbox.url, Credentials(PUBLIC_KEY, PRIVATE_KEY))
    try:
        return client.push(BY_TYPE[type_name], token, values)
    finally:
        client.close()


def sent(sandbox: SandboxServer) -> list[str]:
    return [r.method for r in sandbox.sandbox.received if r.method in ("POST", "PUT", "DELETE")]


def test_a_post_made_elsewhere_is_imported_by_id_and_plans_clean(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    made = elsewhere(sandbox, "twitter.post", TW, {"message": "Hello from the app https://acme.example/x"})
    sandbox.sandbox.rewrite_links = True  # Twitter shows its own t.co links
    project.manifest("posts/hello", "actions:\n  tweet:\n    type: twitter.post\n    identity: acme-twitter\n"
                     "    message: Hello from the app https://acme.example/x\n")
    before = sent(sandbox)
    result = project.run("import", "posts/hello/tweet", made["post_id"], env=site_env)
    assert result.exit_code == 0, result.output
    assert f"post_id={made['post_id']}" in result.output
    assert project.run("plan", "--detailed-exitcode", env=site_env).exit_code == 0
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    assert sent(sandbox) == before  # nothing was ever sent for it


def test_an_imported_post_whose_manifest_differs_shows_old_to_new(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    made = elsewhere(sandbox, "facebook.page.post", FB, {"page": "1093847562", "message": "As posted by hand"})
    project.manifest("posts/page", "actions:\n  post:\n    type: facebook.page.post\n    identity: acme-facebook\n"
                     "    page: \"1093847562\"\n    message: As the manifest says\n")
    imported = project.run("import", "posts/page/post", made["post_id"], env=site_env)
    assert imported.exit_code == 0 and "renders differently" in imported.output
    planned = project.run("plan", env=site_env).output
    assert "1 to update" in planned and '"As posted by hand" -> "As the manifest says"' in planned
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    assert sent(sandbox) == ["POST", "PUT"]  # made elsewhere, then edited in place


def test_wrong_account_wrong_type_or_unknown_id_is_refused_and_nothing_recorded(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    other = elsewhere(sandbox, "twitter.post", TOKENS["other-twitter"][1], {"message": "not ours"})
    project.manifest("posts/t", "actions:\n  tweet:\n    type: twitter.post\n    identity: acme-twitter\n"
                     "    message: hi\n")
    for post_id in (other["post_id"], "123"):
        result = project.run("import", "posts/t/tweet", post_id, env=site_env)
        assert result.exit_code == 1 and "is listed for acme-twitter" in result.output
    assert project.run("import", "posts/nope/tweet", "1", env=site_env).exit_code == 1
    assert not (project.root / "state" / "state.json").exists()


def test_a_picture_no_pull_resource_lists_is_imported_by_its_id_alone(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    made = elsewhere(sandbox, "twitter.picture", TW, {"url": "https://cdn.acme.example/a.png"})
    project.manifest("posts/p", "actions:\n  hero:\n    type: twitter.picture\n    identity: acme-twitter\n"
                     "    url: https://cdn.acme.example/a.png\n")
    result = project.run("import", "posts/p/hero", made["picture_id"], env=site_env)
    assert result.exit_code == 0 and "could not be read back" in result.output
    planned = project.run("plan", "--detailed-exitcode", "--show-unchanged", env=site_env)
    assert planned.exit_code == 0 and "imported by its ids alone" in planned.output


def test_a_whole_account_is_imported_into_manifests_that_validate_and_plan_clean(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    for text in ("first {{ not a template }}", "second", "third, with a link https://acme.example/3"):
        elsewhere(sandbox, "twitter.post", TW, {"message": text})
    board = elsewhere(sandbox, "pinterest.board", PIN, {"name": "Rockets", "description": "All of them"})
    for i in range(2):
        elsewhere(sandbox, "pinterest.pin", PIN, {"board": board["board_id"], "description": f"pin {i}",
                                                  "picture": f"https://cdn.acme.example/{i}.png"})
    before = sent(sandbox)
    for identity, count in (("acme-twitter", 3), ("acme-pinterest", 3)):
        result = project.run("import", "--generate", identity, env=site_env)
        assert result.exit_code == 0, result.output
        assert f"Imported {count} posts of {identity}" in result.output
    assert project.run("validate", env=site_env).exit_code == 0
    assert project.run("plan", "--detailed-exitcode", env=site_env).exit_code == 0
    pins = list((project.root / "content" / "imported" / "acme-pinterest").glob("pin-*.yaml"))
    assert len(pins) == 2 and "ref: imported/acme-pinterest/board-" in pins[0].read_text()
    again = project.run("import", "--generate", "acme-twitter", env=site_env)
    assert "Imported 0 posts" in again.output
    assert sent(sandbox) == before


@pytest.mark.parametrize("shape, names", [("nested", "long"), ("flat", "short"), ("prefixed", "long"),
                                          ("nested", "short")])
def test_refresh_reports_what_was_deleted_and_edited_elsewhere_and_sends_nothing(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str], shape: str, names: str) -> None:
    box = sandbox.sandbox
    box.pull_shape, box.entry_names, box.clock_offset = shape, names, 2 * 3600.0
    project.manifest("posts/d", """
        actions:
          tweet:
            type: twitter.post
            identity: acme-twitter
            message: to be deleted elsewhere
          kept:
            type: twitter.post
            identity: acme-twitter
            message: still there
          page:
            type: facebook.page.post
            identity: acme-facebook
            page: "1093847562"
            message: as the manifest says
          hero:
            type: twitter.picture
            identity: acme-twitter
            url: https://cdn.acme.example/a.png
    """)
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    state = json.loads((project.root / "state/state.json").read_text())["resources"]
    box.delete_elsewhere(state["posts/d/tweet"]["result"]["post_id"], type_name="twitter.post")
    box.edit_elsewhere(state["posts/d/page"]["result"]["post_id"], {"message": "edited in Facebook"},
                       type_name="facebook.page.post")
    before = sent(sandbox)
    result = project.run("refresh", "--detailed-exitcode", env=site_env)
    assert result.exit_code == 2, result.output
    assert re.search(r"^deleted elsewhere +posts/d/tweet", result.output, re.M)
    assert re.search(r"^edited elsewhere +posts/d/page", result.output, re.M)
    assert "message: 'as the manifest says' -> online 'edited in Facebook'" in result.output
    assert re.search(r"^unchecked +posts/d/hero", result.output, re.M)
    assert "posts/d/kept" not in result.output  # ok, and not listed unless asked
    assert json.loads((project.root / "state/state.json").read_text())["resources"] == state  # not written
    written = project.run("refresh", "--write", env=site_env)
    assert written.exit_code == 0
    planned = project.run("plan", env=site_env).output
    assert "1 to update" in planned and '"edited in Facebook" -> "as the manifest says"' in planned
    assert "deleted elsewhere (found by refresh): `--replace posts/d/tweet`" in \
        project.run("plan", "--show-unchanged", env=site_env).output
    assert sent(sandbox) == before  # refresh sent nothing
    markdown = project.run("refresh", "--format", "markdown", env=site_env).output
    assert markdown.startswith("<!-- pipeline:drift -->")


def test_refresh_with_nothing_changed_exits_zero(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    project.manifest("posts/k", "actions:\n  tweet:\n    type: twitter.post\n    identity: acme-twitter\n"
                     "    message: fine https://acme.example/k\n")
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    sandbox.sandbox.rewrite_links = True
    result = project.run("refresh", "--detailed-exitcode", "--show-ok", env=site_env)
    assert result.exit_code == 0 and re.search(r"^ok +posts/k/tweet", result.output, re.M)


def test_plan_refresh_reports_drift_first_and_writes_nothing(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    project.manifest("posts/r", "actions:\n  tweet:\n    type: twitter.post\n    identity: acme-twitter\n"
                     "    message: gone soon\n")
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    state = (project.root / "state/state.json").read_text()
    post_id = json.loads(state)["resources"]["posts/r/tweet"]["result"]["post_id"]
    sandbox.sandbox.delete_elsewhere(post_id, type_name="twitter.post")
    planned = project.run("plan", "--refresh", env=site_env)
    assert planned.exit_code == 0
    assert planned.output.index("deleted elsewhere") < planned.output.index("Plan:")
    assert (project.root / "state/state.json").read_text() == state


def test_the_embedded_sandbox_can_be_changed_elsewhere_from_the_cli(project: Project) -> None:
    project.manifest("posts/e", "actions:\n  post:\n    type: facebook.page.post\n    identity: acme-facebook\n"
                     "    page: \"1093847562\"\n    message: as sent\n")
    assert project.run("apply", "--yes").exit_code == 0
    state = json.loads((project.root / ".pipeline/sandbox/state.json").read_text())
    post_id = state["resources"]["posts/e/post"]["result"]["post_id"]
    assert project.run("sandbox", "elsewhere", post_id, "--set", "message=changed by hand").exit_code == 0
    found = project.run("refresh", "--detailed-exitcode")
    assert found.exit_code == 2 and "'as sent' -> online 'changed by hand'" in found.output
    assert project.run("sandbox", "elsewhere", "nope", "--delete").exit_code == 1
