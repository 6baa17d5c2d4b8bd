"""A pull request cannot reach outside the project through the state: the state file, its
journal, its lock, the folder holding them and the atomic write's temporary file are
never followed through a symbolic link."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline.oneall.sandbox import SandboxServer
from tests.helpers import LAUNCH, Project


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file outside the project, which nothing may touch."""
    path = tmp_path / "outside" / "precious.json"
    path.parent.mkdir()
    path.write_text('{"do not": "touch"}')
    return path


def _published(project: Project, site_env: dict[str, str]) -> None:
    project.manifest("posts/launch", LAUNCH)
    assert project.run("apply", "--yes", env=site_env).exit_code == 0


@pytest.mark.parametrize("name", ["state.json", "state.json.journal", "state.json.lock"])
def test_a_symlink_where_a_state_file_should_be_is_refused_and_nothing_is_sent(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str], outside: Path, name: str) -> None:
    project.manifest("posts/launch", LAUNCH)
    (project.root / "state").mkdir()
    os.symlink(outside, project.root / "state" / name)
    for command in (["plan"], ["apply", "--yes"], ["state", "unlock", "x"]):
        result = project.run(*command, env=site_env)
        assert result.exit_code == 1, (command, result.output)
        assert "symbolic link" in result.output
    assert sandbox.sandbox.received == []
    assert outside.read_text() == '{"do not": "touch"}'


def test_a_state_folder_that_is_a_symlink_leading_out_is_refused(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str], outside: Path) -> None:
    project.manifest("posts/launch", LAUNCH)
    os.symlink(outside.parent, project.root / "state")
    result = project.run("apply", "--yes", env=site_env)
    assert result.exit_code == 1 and "state is a symbolic link" in result.output
    assert sandbox.sandbox.received == [] and sorted(os.listdir(outside.parent)) == ["precious.json"]


def test_a_planted_temporary_file_is_never_written_through(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str], outside: Path) -> None:
    _published(project, site_env)
    # The name atomic_write would use in a later run of this same process.
    tmp = project.root / "state" / f".state.json.{os.getpid()}.tmp"
    os.symlink(outside, tmp)
    project.manifest("posts/other", LAUNCH.replace("is out!", "is here!"))
    assert project.run("apply", "--yes", env=site_env).exit_code == 0
    assert outside.read_text() == '{"do not": "touch"}'
    assert not (project.root / "state" / "state.json").is_symlink()


def test_a_journal_planted_as_a_symlink_after_a_run_is_refused_and_the_state_survives(
        project: Project, sandbox: SandboxServer, site_env: dict[str, str], outside: Path) -> None:
    _published(project, site_env)
    before = (project.root / "state" / "state.json").read_text()
    os.symlink(outside, project.root / "state" / "state.json.journal")
    assert project.run("apply", "--yes", env=site_env).exit_code == 1
    assert (project.root / "state" / "state.json").read_text() == before
    assert outside.read_text() == '{"do not": "touch"}'
