"""The compile cache and the parallel compile give exactly what a plain compile gives."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from pipeline.errors import UserError

from pipeline.load import cache as compiler
from pipeline.load.project import load_project
from tests.helpers import REPO


@pytest.fixture
def example(tmp_path: Path) -> Path:
    root = tmp_path / "example"
    shutil.copytree(REPO / "content", root / "content")
    shutil.copy(REPO / "pipeline.yaml", root / "pipeline.yaml")
    (root / "content/posts/broken.yaml").write_text("actions:\n  t:\n    type: twitter.post\n    identity: nobody\n")
    return root


def compiled(root: Path, **kw: object) -> tuple:
    result = compiler.compile_project(load_project(root), **kw)  # type: ignore[arg-type]
    return result.actions, result.problems, result.broken


def touch_later(path: Path) -> None:
    """Change a file so that its stamp surely differs, as an edit would."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))


def test_parallel_compile_equals_serial(example: Path) -> None:
    serial = compiled(example, use_cache=False, workers=1)
    parallel = compiled(example, use_cache=False, workers=2, parallel_min=1)
    assert parallel == serial and serial[1]  # problems included


def test_a_warm_compile_equals_a_cold_one_and_reads_from_the_cache(example: Path) -> None:
    cold = compiled(example)
    assert list((example / ".pipeline/cache/compile").glob("*.marshal"))
    past = time.time() - 60  # beyond the racy window: the stamps are trusted
    for path in (example / "content").rglob("*.yaml"):
        os.utime(path, (past, past))
    compiled(example)  # records the new stamps
    warm = compiled(example)
    assert warm == cold
    assert (example / ".pipeline/.gitignore").read_text().endswith("*\n")


@pytest.mark.parametrize("change", ["manifest", "template", "media", "config"])
def test_what_a_result_depends_on_invalidates_it(example: Path, change: str) -> None:
    config = example / "pipeline.yaml"
    before = compiled(example)
    tweet = "posts/2026-12-01-launch/tweet"
    message = lambda actions: next(a for a in actions if a.address == tweet).request["message"]  # noqa: E731
    if change == "manifest":
        path = example / "content/posts/2026-12-01-launch.yaml"
        path.write_text(path.read_text().replace("is out!", "is here!"))
        touch_later(path)
        expected = "Acme Rocket is here! https://acme.example/shop #AcmeRocket"
    elif change == "template":
        path = example / "content/templates/signature.j2"
        path.write_text("#{{ brand }}Launch\n")
        touch_later(path)
        expected = "Acme Rocket is out! https://acme.example/shop #AcmeLaunch"
    elif change == "media":
        (example / "content/media/rocket-hero.png").unlink()
        after = compiled(example)
        assert any("rocket-hero.png' does not exist" in d.message for d in after[1])
        return
    elif change == "config":
        config.write_text(config.read_text().replace("shop: https://acme.example/shop", "shop: https://acme.example/buy"))
        expected = "Acme Rocket is out! https://acme.example/buy #AcmeRocket"
    assert message(before[0]) == "Acme Rocket is out! https://acme.example/shop #AcmeRocket"
    assert message(compiled(example)[0]) == expected


def test_the_environment_never_reaches_a_result(example: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The plan of a pull request and the apply on main read different environments: a
    # var read from one could publish what the plan never showed. (The cache needs no
    # key for the environment, since nothing rendered can depend on it.)
    config = example / "pipeline.yaml"
    config.write_text(config.read_text().replace("brand: Acme", "brand: ${env:BRAND}"))
    monkeypatch.setenv("BRAND", "Acme")
    with pytest.raises(UserError, match=r"\$\{env:BRAND\} cannot be used here"):
        compiled(example)


def test_an_edit_that_keeps_size_and_time_is_seen(example: Path) -> None:
    path = example / "content/posts/2026-12-03-behind-the-scenes.yaml"
    stat = path.stat()
    before = compiled(example)
    path.write_text(path.read_text().replace("three prototypes", "seven prototypes"))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # as cp -p or rsync -a would
    after = compiled(example)
    thread = "posts/2026-12-03-behind-the-scenes/thread"
    assert "seven" in next(a for a in after[0] if a.address == thread).request["message"]
    assert before != after
