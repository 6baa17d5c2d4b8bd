"""Compiling on every core: the same results as one process, in order, and a helper's
failure is the compile's failure, never a hang or a silent gap."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import pytest

from pipeline.load import workers
from pipeline.load.compile import FileResult
from pipeline.load.project import load_project

CONFIG = """site: sandbox
timezone: Europe/Paris
identities:
  acme:
    network: twitter
    token: 923843ec-1749-4cc1-988f-d6963f3b1baa
vars:
  brand: Acme
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "pipeline.yaml").write_text(CONFIG)
    posts = tmp_path / "content" / "posts"
    posts.mkdir(parents=True)
    for i in range(60):
        body = (f"publish_at: 2026-12-{i % 28 + 1:02d}T09:00:00\nactions:\n"
                f"  pic:\n    type: twitter.picture\n    identity: acme\n    url: https://cdn.example/{i}.png\n"
                f"  tweet:\n    type: twitter.post\n    identity: acme\n    message: \"{{{{ brand }}}} {i}\"\n"
                f"    attachments:\n      - ref: pic\n")
        if i % 7 == 3:
            body += "  bad:\n    type: twitter.post\n    identity: nobody\n"
        (posts / f"p{i:02d}.yaml").write_text(body)
    return tmp_path


def paths(root: Path) -> list[tuple[Path, str | None]]:
    project = load_project(root)
    listing = project.survey()
    return [(root / shown, listing.real[shown]) for shown in listing.manifests]


def test_every_core_gives_what_one_gives_in_the_same_order(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "BATCH", 2)  # many batches, taken in turns
    project = load_project(root)
    serial = workers.compile_serially(project, paths(root))
    parallel = workers.compile_in_parallel(project, paths(root), 3)
    # repr: the publish times keep their zone (Europe/Paris, not a fixed offset)
    assert repr(parallel) == repr(serial) and parallel == serial
    assert any(r.problems for r in serial) and all(a.publish_at for r in serial for a in r.actions)


def test_the_transfer_knows_every_field() -> None:
    """A field added to a result type must be carried back from a helper, not dropped."""
    for kind, names in workers.FIELDS.items():
        assert tuple(f.name for f in dataclasses.fields(kind)) == names, kind


def _helper_only(action: Any) -> Any:
    parent = os.getpid()

    def compile_file(*args: Any, **kwargs: Any) -> FileResult:
        if os.getpid() != parent:
            action()
        import time
        time.sleep(0.02)  # so that the helper surely takes batches
        return FileResult((), (), ())
    return compile_file


def test_a_helpers_exception_is_raised_here(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom() -> None:
        raise ValueError("boom in a helper")

    monkeypatch.setattr(workers, "BATCH", 1)
    monkeypatch.setattr(workers, "compile_file", _helper_only(boom))
    with pytest.raises(ValueError, match="boom in a helper"):
        workers.compile_in_parallel(load_project(root), paths(root), 2)


def test_a_helper_that_dies_fails_the_compile(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "BATCH", 1)
    monkeypatch.setattr(workers, "compile_file", _helper_only(lambda: os._exit(3)))
    with pytest.raises(RuntimeError, match="exit code 3"):
        workers.compile_in_parallel(load_project(root), paths(root), 2)


def test_the_collector_is_left_as_it_was_found(root: Path) -> None:
    import gc

    before = gc.get_threshold()
    workers.compile_in_parallel(load_project(root), paths(root), 2)
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
