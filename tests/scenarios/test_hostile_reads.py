"""Reads stay inside the content: only regular files really inside their folder, size-capped
before they are read. Each attack is refused at the file that names it (or at the file
itself), nothing is sent, nothing leaks, and no read blocks."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import pytest

from pipeline.oneall.sandbox import SandboxServer
from tests.helpers import Project
from tests.scenarios.hostile import TWEET, Scene, make_scene

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
PICTURE = TWEET.replace("twitter.post", "twitter.picture")


@pytest.fixture
def scene(project: Project, sandbox: SandboxServer, site_env: dict[str, str], tmp_path: Path) -> Scene:
    return make_scene(project, sandbox, site_env, tmp_path)


def link(scene: Scene, relative: str, target: str | Path) -> None:
    path = scene.root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, path)


def write(scene: Scene, relative: str, text: str) -> None:
    scene.project.write(relative, text)


def sparse(scene: Scene, relative: str, size: int, head: bytes = b"") -> None:
    """A file of ``size`` bytes that costs no disk: reading it would take seconds and gigabytes."""
    path = scene.root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(head)
    os.truncate(path, size)


def fifo(scene: Scene, relative: str) -> None:
    path = scene.root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)


Setup = Callable[[Scene], None]
INCLUDE = TWEET + "    message: \"{% include 'evil.j2' %}\"\n"
GIB = 4 * 1024 ** 3

MANIFESTS: list[tuple[str, Setup, str]] = [
    ("a manifest symlinked to a file outside",
     lambda s: link(s, "content/posts/evil.yaml", s.outside / "secret.yaml"),
     "content/posts/evil.yaml: symlink leads out of content/"),
    ("a manifest symlinked to /proc/self/environ",
     lambda s: link(s, "content/posts/evil.yaml", "/proc/self/environ"),
     "content/posts/evil.yaml: symlink leads out of content/"),
    ("a manifest symlinked out through ..",
     lambda s: link(s, "content/posts/evil.yaml", "../../../outside/secret.yaml"),
     "content/posts/evil.yaml: symlink leads out of content/"),
    ("a symlinked folder leading out",
     lambda s: link(s, "content/posts/ext", s.outside / "folder"),
     "content/posts/ext: symlink leads out of content/"),
    ("a manifest that is a character device",
     lambda s: link(s, "content/posts/evil.yaml", "/dev/zero"),
     "content/posts/evil.yaml: symlink leads out of content/"),
    ("a 4 GiB manifest (sparse)",
     lambda s: sparse(s, "content/posts/huge.yaml", GIB),
     f"content/posts/huge.yaml: file is {GIB} bytes, over the limit of 1048576"),
    ("content/ itself symlinked out of the project",
     lambda s: (os.rename(s.root / "content", s.root / "real-content"),
                link(s, "content", s.outside)),
     "content: folder leads out of the project (through a symlink)"),
    ("pipeline.yaml symlinked out of the project",
     lambda s: (os.replace(s.root / "pipeline.yaml", s.outside / "pipeline.yaml"),
                link(s, "pipeline.yaml", s.outside / "pipeline.yaml")),
     "pipeline.yaml: file leads out of the project (through a symlink)"),
    ("a 4 GiB pipeline.yaml (sparse)",
     lambda s: sparse(s, "pipeline.yaml", GIB, (s.root / "pipeline.yaml").read_bytes()),
     f"pipeline.yaml: file is {GIB} bytes, over the limit of 1048576"),
]

TEMPLATES: list[tuple[str, Setup, str]] = [
    ("an include symlinked to a file outside",
     lambda s: (link(s, "content/templates/evil.j2", s.outside / "secret.j2"), write(s, "content/x.yaml", INCLUDE)),
     "content/x.yaml:5:14: template 'evil.j2' leads out of content/templates/ (through a symlink)"),
    ("an include symlinked to /proc/self/environ",
     lambda s: (link(s, "content/templates/evil.j2", "/proc/self/environ"), write(s, "content/x.yaml", INCLUDE)),
     "content/x.yaml:5:14: template 'evil.j2' leads out of content/templates/ (through a symlink)"),
    ("an import through a symlinked folder leading out",
     lambda s: (link(s, "content/templates/ext", s.outside),
                write(s, "content/x.yaml", TWEET + "    message: \"{% import 'ext/secret.j2' as m %}x\"\n")),
     "content/x.yaml:5:14: template 'ext/secret.j2' leads out of content/templates/ (through a symlink)"),
    ("templates/ itself symlinked out of content/",
     lambda s: (os.rename(s.root / "content/templates", s.root / "kept"), link(s, "content/templates", s.outside),
                write(s, "content/x.yaml", TWEET + "    message: \"{% include 'secret.j2' %}\"\n")),
     "content/x.yaml:5:14: template 'secret.j2' leads out of content/ (through a symlink)"),
    ("an include of a 4 GiB template (sparse)",
     lambda s: (sparse(s, "content/templates/evil.j2", GIB), write(s, "content/x.yaml", INCLUDE)),
     f"content/x.yaml:5:14: template 'evil.j2' is {GIB} bytes, over the limit of 65536"),
    ("an include symlinked to a file of content/ outside templates/",
     lambda s: (write(s, "content/notes/sig.j2", "x"), link(s, "content/templates/evil.j2", "../notes/sig.j2"),
                write(s, "content/x.yaml", INCLUDE)),
     "content/x.yaml:5:14: template 'evil.j2' leads out of content/templates/ (through a symlink)"),
    ("an include of a folder",
     lambda s: ((s.root / "content/templates/evil.j2").mkdir(), write(s, "content/x.yaml", INCLUDE)),
     "content/x.yaml:5:14: template 'evil.j2' is a folder, not a regular file"),
    ("an include reaching up with ..",
     lambda s: write(s, "content/x.yaml", TWEET + "    message: \"{% include '../../pipeline.yaml' %}\"\n"),
     "content/x.yaml:5:14: template '../../pipeline.yaml' not found in content/templates/"),
]

MEDIA: list[tuple[str, Setup, str]] = [
    ("a picture symlinked to a file outside",
     lambda s: (link(s, "content/media/evil.png", s.outside / "secret.png"),
                write(s, "content/x.yaml", PICTURE + "    file: media/evil.png\n")),
     "content/x.yaml:5:11: file 'media/evil.png' leads out of content/ (through a symlink)"),
    ("a picture in a symlinked folder leading out",
     lambda s: (link(s, "content/media", s.outside), write(s, "content/x.yaml", PICTURE + "    file: media/secret.png\n")),
     "content/x.yaml:5:11: file 'media/secret.png' leads out of content/ (through a symlink)"),
    ("a picture symlinked to a device",
     lambda s: (link(s, "content/media/evil.png", "/dev/zero"),
                write(s, "content/x.yaml", PICTURE + "    file: media/evil.png\n")),
     "content/x.yaml:5:11: file 'media/evil.png' leads out of content/ (through a symlink)"),
    ("a 4 GiB picture (sparse)",
     lambda s: (sparse(s, "content/media/huge.png", GIB, PNG),
                write(s, "content/x.yaml", PICTURE + "    file: media/huge.png\n")),
     f"content/x.yaml:5:11: picture 'media/huge.png' is {GIB} bytes; OneAll takes at most 5242880 (5 MB)"),
    ("a picture that is a folder",
     lambda s: ((s.root / "content/media/dir.png").mkdir(parents=True),
                write(s, "content/x.yaml", PICTURE + "    file: media/dir.png\n")),
     "content/x.yaml:5:11: file 'media/dir.png' is a folder, not a regular file"),
    ("a video symlinked to a file outside",
     lambda s: (link(s, "content/media/evil.mp4", s.outside / "secret.png"),
                write(s, "content/x.yaml", "actions:\n  v:\n    type: youtube.video\n    identity: acme-youtube\n"
                      "    title: t\n    video_url: {file: media/evil.mp4}\n")),
     "content/x.yaml:6:23: file 'media/evil.mp4' leads out of content/ (through a symlink)"),
]

CASES = [pytest.param(setup, message, id=name) for name, setup, message in MANIFESTS + TEMPLATES + MEDIA]


@pytest.mark.parametrize(("setup", "message"), CASES)
def test_a_read_leading_out_of_its_folder_or_past_its_cap_is_refused(
        scene: Scene, setup: Setup, message: str) -> None:
    setup(scene)
    scene.refused(message)


FIFOS: list[tuple[str, Setup, str]] = [
    ("a manifest that is a FIFO",
     lambda s: fifo(s, "content/posts/evil.yaml"),
     "content/posts/evil.yaml: file is a FIFO, not a regular file"),
    ("an include of a FIFO",
     lambda s: (fifo(s, "content/templates/evil.j2"), write(s, "content/x.yaml", INCLUDE)),
     "content/x.yaml:5:14: template 'evil.j2' is a FIFO, not a regular file"),
    ("a picture that is a FIFO",
     lambda s: (fifo(s, "content/media/evil.png"), write(s, "content/x.yaml", PICTURE + "    file: media/evil.png\n")),
     "content/x.yaml:5:11: file 'media/evil.png' is a FIFO, not a regular file"),
    ("pipeline.yaml that is a FIFO",
     lambda s: (os.unlink(s.root / "pipeline.yaml"), fifo(s, "pipeline.yaml")),
     "pipeline.yaml: file is a FIFO, not a regular file"),
]


@pytest.mark.parametrize(("setup", "message"), [pytest.param(s, m, id=n) for n, s, m in FIFOS])
def test_a_fifo_is_refused_without_blocking_the_run(scene: Scene, setup: Setup, message: str) -> None:
    setup(scene)
    scene.refused(message, isolated=True)  # a child process that must end within a minute


def test_symlinks_that_stay_inside_are_followed(scene: Scene) -> None:
    write(scene, "content/templates/parts/sig.j2", "-- {{ product }}")
    link(scene, "content/templates/sig-link.j2", "parts/sig.j2")
    (scene.root / "content/media").mkdir()
    (scene.root / "content/media/rocket.png").write_bytes(PNG)
    link(scene, "content/pictures", "media")
    write(scene, "content/x.yaml", """
        actions:
          pic:
            type: twitter.picture
            identity: acme-twitter
            file: pictures/rocket.png
          post:
            type: twitter.post
            identity: acme-twitter
            message: "hi {% include 'sig-link.j2' %}"
            attachments: [{ref: pic}]
    """)
    result = scene.project.run("apply", "--yes", env=scene.env)
    assert result.exit_code == 0, result.output
    bodies = [r.body for r in scene.sandbox.sandbox.received if r.method == "POST"]
    assert any("https://acme.example/media/pictures/rocket.png" in str(b) for b in bodies), bodies
    assert any("hi -- Acme Rocket" in str(b) for b in bodies), bodies


def test_a_committed_private_folder_leading_out_is_refused_and_nothing_is_written_through_it(scene: Scene) -> None:
    import shutil

    shutil.rmtree(scene.root / ".pipeline")
    link(scene, ".pipeline", scene.outside / "folder")
    scene.project.manifest("posts/more", TWEET + "    message: one more\n")
    scene.refused(".pipeline: .pipeline must be pipeline's own folder, not a symlink or a file")
    assert sorted(p.name for p in (scene.outside / "folder").iterdir()) == ["x.yaml"]


@pytest.mark.parametrize("plant", [
    pytest.param(lambda s, p: os.mkfifo(p), id="a FIFO"),
    pytest.param(lambda s, p: os.symlink("/dev/zero", p), id="a symlink to /dev/zero"),
    pytest.param(lambda s, p: os.symlink(s.outside / "secret.yaml", p), id="a symlink to a file outside"),
])
def test_a_committed_cache_that_is_no_regular_file_is_ignored_without_blocking(
        scene: Scene, plant: Callable[[Scene, Path], None]) -> None:
    cache = next((scene.root / ".pipeline/cache/compile").glob("*.marshal"))
    cache.unlink()
    plant(scene, cache)
    os.unlink(scene.root / ".pipeline/.gitignore")
    os.symlink(scene.outside / "planted", scene.root / ".pipeline/.gitignore")
    scene.project.manifest("posts/more", TWEET + "    message: one more\n")
    code, stdout, stderr = scene.run(isolated=True)  # ends within a minute, or fails
    assert code == 0, stdout + stderr
    assert not (scene.outside / "planted").exists()
    assert [r.method for r in scene.sandbox.sandbox.received] == ["POST"]
