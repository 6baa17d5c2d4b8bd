"""What is published is what was reviewed: machine state that arrives in a commit (a
compile cache, a remembered plan under .pipeline/) is never trusted."""

from __future__ import annotations

import marshal
import stat
from pathlib import Path

from pipeline.load.blobs import key_path
from pipeline.oneall.sandbox import SandboxServer
from tests.helpers import LAUNCH, Project, post_bodies

CACHE = ".pipeline/cache/compile"
MAGIC = b"pipeline-blob-2\n"
HEADER = len(MAGIC) + 64  # the key file's MAC and the site key's


def _shards(project: Project) -> list[Path]:
    shards = sorted((project.root / CACHE).glob("*.marshal"))
    assert shards
    return shards


def _forge(project: Project, mac: bytes | None) -> None:
    """Rewrite the cache so that the launch tweet's file compiles to another text
    (``mac`` None: each shard keeps its old MACs, now over other bytes)."""
    for path in _shards(project):
        data = path.read_bytes()
        doc = marshal.loads(data[HEADER:])
        for entry in doc["entries"].values():
            for action in entry["actions"]:
                if "message" in action["request"]:
                    action["request"]["message"] = "EVIL TEXT NOBODY REVIEWED"
        path.write_bytes(MAGIC + (data[len(MAGIC):HEADER] if mac is None else mac) + marshal.dumps(doc))


def test_a_forged_cache_entry_never_stands_for_the_file(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    project.manifest("posts/launch", LAUNCH)
    assert "EVIL" not in project.run("plan", env=site_env).output  # writes the cache
    for mac in (b"\0" * 64, None):
        _forge(project, mac)  # a MAC made up, or the old file's MAC over other bytes
        # JSON plans in full, from the compile cache (never from a remembered summary).
        planned = project.run("plan", "--format", "json", env=site_env)
        assert planned.exit_code == 0 and "EVIL" not in planned.output and "is out!" in planned.output
    _forge(project, b"\0" * 64)
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    assert post_bodies(sandbox) and all("EVIL" not in str(body) for body in post_bodies(sandbox))


def test_a_cache_that_git_tracks_is_ignored_and_the_plan_says_so(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    project.manifest("posts/launch", LAUNCH)
    project.git("init", "-q", "-b", "main")
    assert project.run("plan", env=site_env).exit_code == 0
    project.git("add", "-A")
    project.git("add", "-f", ".pipeline")  # a pull request can commit it
    project.git("commit", "-qm", "a cache, innocently")
    for fmt in ("text", "markdown"):
        planned = project.run("plan", "--format", fmt, env=site_env)
        assert planned.exit_code == 0
        assert "ignored the cache under .pipeline/" in planned.output.replace("\\", "")
    _forge(project, b"\0" * 64)
    assert "EVIL" not in project.run("plan", "--format", "json", env=site_env).output


def test_the_key_that_proves_a_cache_lives_outside_the_repository(project: Project) -> None:
    project.manifest("posts/launch", LAUNCH)
    assert project.run("plan").exit_code == 0
    key = key_path()
    assert key.is_file() and project.root not in key.parents
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_a_forged_remembered_plan_never_stands_for_the_plan_nor_for_an_apply(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str]) -> None:
    """The remembered plan and graph (.pipeline/cache/plan.marshal, graph.marshal) make
    plans, and applies in part: forged, with a made-up MAC or their own over other bytes,
    they are not used."""
    project.manifest("posts/launch", LAUNCH)
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    assert project.run("plan", env=site_env).exit_code == 0  # remembers it
    project.manifest("posts/more", LAUNCH.replace("is out!", "is really out!"))
    for mac in (b"\0" * 64, None):
        summary = project.root / ".pipeline/cache/plan.marshal"
        data = summary.read_bytes()
        doc = marshal.loads(data[HEADER:])
        doc["plan"]["changes"] = []  # "nothing to do", and nothing more to do
        doc["plan"]["noop_omitted"] = 99
        summary.write_bytes(MAGIC + (data[len(MAGIC):HEADER] if mac is None else mac) + marshal.dumps(doc))
        planned = project.run("plan", env=site_env)
        assert planned.exit_code == 0 and "99" not in planned.output and "posts/more/tweet" in planned.output
    before = len(post_bodies(sandbox))
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    assert len(post_bodies(sandbox)) == before + 2  # the new picture and its tweet
