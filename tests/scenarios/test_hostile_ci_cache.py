"""The compile cache as the workflows keep it in GitHub's cache: the key file travels with
it (``PIPELINE_BLOB_KEY_FILE``), so any pull request's run can read ``main``'s key file.
A run that holds the site's private key (the apply) trusts only blobs MAC'd with a key
derived from it; a run without it (a pull request's plan) trusts the key file. And a
cache restored on a fresh runner, where every file has a new time, is warm."""

from __future__ import annotations

import hashlib
import hmac
import marshal
import shutil
from pathlib import Path
from typing import Any

import pytest

from pipeline.load import blobs
from pipeline.load import cache as compiler
from pipeline.oneall.sandbox import SandboxServer
from tests.helpers import LAUNCH, Project, post_bodies

CACHE = ".pipeline/cache/compile"  # one blob per shard of the files
MAGIC = b"pipeline-blob-2\n"
PICTURE = b"\x89PNG\r\n\x1a\n" + bytes(200)
WITH_FILE = LAUNCH.replace("url: https://cdn.acme.example/rocket.png", "file: media/rocket.png")


def _env(site_env: dict[str, str], key_file: Path, *, site_key: bool) -> dict[str, str]:
    env = {**site_env, blobs.KEY_FILE_ENV: str(key_file)}
    if not site_key:
        del env["ONEALL_PRIVATE_KEY"]  # a pull request's plan has no keys
    return env


def _forge(project: Project, key_file: Path, private_key: str | None) -> None:
    """The cache rewritten so that the launch tweet's file compiles to another text, with a
    right MAC under the key file, and under a key derived from ``private_key`` (a wrong one:
    no pull request has the right one), or zeros."""
    for path in (project.root / CACHE).glob("*.marshal"):
        doc = marshal.loads(path.read_bytes()[len(MAGIC) + 64:])
        for entry in doc["entries"].values():
            for action in entry["actions"]:
                if "message" in action["request"]:
                    action["request"]["message"] = "EVIL TEXT NOBODY REVIEWED"
        body = marshal.dumps(doc)
        site = bytes(32) if private_key is None else hmac.new(
            hashlib.sha256(b"pipeline blob key\0" + private_key.encode()).digest(), body, hashlib.sha256).digest()
        path.write_bytes(MAGIC + hmac.new(key_file.read_bytes(), body, hashlib.sha256).digest() + site + body)


@pytest.mark.parametrize("private_key", [None, "a-guessed-private-key"])
def test_a_blob_made_with_the_travelling_key_file_never_stands_for_a_file_in_a_run_holding_the_site_key(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str], tmp_path: Path,
        private_key: str | None) -> None:
    key_file = tmp_path / "runner" / "blob.key"
    project.manifest("posts/launch", LAUNCH)
    assert project.run("plan", env=_env(site_env, key_file, site_key=True)).exit_code == 0  # main's cache
    assert key_file.is_file() and project.root not in key_file.parents
    _forge(project, key_file, private_key)
    # The forgery is well made: a run with the key file alone (a pull request's plan, which
    # can only ever show its own author a lie) takes it.
    forged = project.run("plan", "--format", "json", env=_env(site_env, key_file, site_key=False))
    assert "EVIL" in forged.output
    planned = project.run("plan", "--format", "json", env=_env(site_env, key_file, site_key=True))
    assert planned.exit_code == 0 and "EVIL" not in planned.output and "is out!" in planned.output
    _forge(project, key_file, private_key)
    assert project.run("apply", "--yes", env=_env(site_env, key_file, site_key=True)).exit_code == 0
    assert post_bodies(sandbox) and all("EVIL" not in str(body) for body in post_bodies(sandbox))


def _fresh_runner(project: Project, key_file: Path | None, into: Path) -> tuple[Project, Path]:
    """The project as a new runner has it: a new checkout (every file with a new time),
    then the cache folder and the key file restored from GitHub's cache, if any (the key
    file where this runner's workflow says)."""
    shutil.copytree(project.root, into / "repo", ignore=shutil.ignore_patterns(".pipeline"),
                    copy_function=shutil.copy)
    shutil.copytree(project.root / ".pipeline" / "cache", into / "repo" / ".pipeline" / "cache")
    if key_file is not None:
        (into / "temp").mkdir()
        shutil.copy2(key_file, into / "temp" / "blob.key")
    return Project(into / "repo"), into / "temp" / "blob.key"


def test_mains_cache_is_warm_on_a_fresh_runner_for_the_apply_and_a_pull_request(
        project: Project, site_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    compiled: list[int] = []
    real = compiler._compile_many

    def counted(*args: Any, **kw: Any) -> Any:
        compiled.append(len(args[1]))
        return real(*args, **kw)

    monkeypatch.setattr(compiler, "_compile_many", counted)
    project.write("pipeline.yaml", (project.root / "pipeline.yaml").read_text()
                  + "media_base_url: https://acme.github.io/content/\n")
    (project.root / "content/media").mkdir(parents=True)
    (project.root / "content/media/rocket.png").write_bytes(PICTURE)
    project.manifest("posts/launch", WITH_FILE)
    project.manifest("posts/more", LAUNCH.replace("is out!", "is here!"))
    key_file = tmp_path / "main.key"
    assert project.run("plan", "--format", "json", env=_env(site_env, key_file, site_key=True)).exit_code == 0
    assert compiled == [2]
    for name, site_key in (("apply", True), ("pull-request", False)):
        runner, runner_key = _fresh_runner(project, key_file, tmp_path / name)
        compiled.clear()
        planned = runner.run("plan", "--format", "json", env=_env(site_env, runner_key, site_key=site_key))
        assert planned.exit_code == 0 and "rocket.png" in planned.output
        assert compiled == [0], name  # nothing compiled: every result came from main's cache
    # Without the key file that travels with it, a restored cache is worth nothing.
    runner, runner_key = _fresh_runner(project, None, tmp_path / "no-key")
    env = _env(site_env, runner_key, site_key=False)
    compiled.clear()
    assert runner.run("plan", "--format", "json", env=env).exit_code == 0
    assert compiled == [2]
    # A picture replaced by something else of the same size is looked at again.
    (runner.root / "content/media/rocket.png").write_bytes(b"GIF89a" + PICTURE[6:])
    compiled.clear()
    assert runner.run("plan", "--format", "json", env=env).exit_code == 0
    assert compiled == [2]

def test_the_key_file_is_where_the_workflow_says_and_only_an_absolute_path_counts(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    default = blobs.key_path()
    monkeypatch.setenv(blobs.KEY_FILE_ENV, str(tmp_path / "runner-temp" / "blob.key"))
    assert blobs.key_path() == tmp_path / "runner-temp" / "blob.key"
    monkeypatch.setenv(blobs.KEY_FILE_ENV, ".pipeline/blob.key")  # would be the repository's own file
    assert blobs.key_path() == default
